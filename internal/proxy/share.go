package proxy

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/dirhash"

	"github.com/modhygiene/modhygiene/internal/cache/store"
)

// KeyPrefix starts the key of every file the proxy keeps in a store.
const KeyPrefix = "goproxy-v1-"

// StoreKey returns the store key of a file of the GOPROXY layout (such as
// "github.com/!azure/go-autorest/@v/v1.2.3.zip"): KeyPrefix and the path
// with every character outside [A-Za-z0-9.-] written as _XX (its bytes in
// hex), so that distinct paths have distinct keys made only of the
// characters every store accepts. It reports false when the key would be
// too long for a store.
func StoreKey(rel string) (string, bool) {
	var b strings.Builder
	b.WriteString(KeyPrefix)
	for i := 0; i < len(rel); i++ {
		c := rel[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "_%02x", c)
		}
	}
	k := b.String()
	return k, store.CheckKey(k) == nil
}

// storeState tracks the store's health: after three problems in a row it
// is left alone for the rest of the run.
type storeState struct {
	errs atomic.Int32
	down atomic.Bool
}

func (s *Server) storeProblem(op string, err error) {
	if s.store.down.Load() {
		return
	}
	if s.store.errs.Add(1) >= 3 && !s.store.down.Swap(true) {
		s.logf("store %s: three problems in a row, not used for the rest of the run: %s: %v", s.opts.Store, op, s.scrub.scrub(err.Error()))
		return
	}
	s.logf("store %s: %s: %v", s.opts.Store, op, s.scrub.scrub(err.Error()))
}

// shareable reports whether a module may be read from or written to the
// store: never a private module or one the checksum database is not asked
// about.
func (s *Server) shareable(path string) bool {
	if s.opts.Store == nil || s.store.down.Load() || s.private(path) {
		return false
	}
	return s.opts.NoSumDB == "" || !module.MatchPrefixPatterns(s.opts.NoSumDB, path)
}

// storeMemLimit is the largest store entry fromStore keeps in memory.
const storeMemLimit = 32 << 20

// fromStore reads req's file from the store. An entry of known size up to
// storeMemLimit (nearly every module zip) is checked and returned in
// memory, to be served from there and never written to the proxy's
// directory: the go command asks for each file once, the store keeps it,
// and a second copy on this disk costs a second runner its time. A larger
// one is copied into the proxy's directory and data is nil. ok is false
// when the store does not have it or it is not valid.
func (s *Server) fromStore(req request, sp *spec) (data []byte, ok bool) {
	key, ok := StoreKey(req.rel)
	if !ok || !s.shareable(req.path) {
		return nil, false
	}
	e, err := s.opts.Store.Open(s.ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		s.store.errs.Store(0)
		return nil, false
	}
	if err != nil {
		s.storeProblem("reading "+key, err)
		return nil, false
	}
	defer e.Body.Close()
	if sp.spill && e.Size >= 0 && e.Size <= storeMemLimit {
		mem := *sp
		mem.spill, mem.size = false, e.Size
		sp = &mem
	}
	a := &answer{}
	if err := s.readBody(a, e.Body, sp); err != nil {
		a.discard()
		s.storeProblem("reading "+key, err)
		return nil, false
	}
	s.store.errs.Store(0)
	if a.file == "" {
		return a.data, true
	}
	if err := s.commit(filepath.Join(s.dir, filepath.FromSlash(req.rel)), a); err != nil {
		s.logf("%s: %v", req.rel, err)
		return nil, false
	}
	return nil, true
}

// share verifies, in the background, a file a mirror served against the
// checksum database and writes it to the store. A file that does not
// match is removed from the proxy's directory and its mirror demoted.
func (s *Server) share(req request, from *upstream) {
	if s.opts.Store == nil || s.opts.ReadOnly {
		return
	}
	if !s.shareable(req.path) {
		s.st.sharePrivate.Add(1)
		return
	}
	if s.db == nil || s.db.client == nil || s.db.ops.broken.Load() {
		s.st.unverified.Add(1)
		return
	}
	s.shares.Add(1)
	go func() {
		defer s.shares.Done()
		select {
		case s.sem <- struct{}{}:
		case <-s.ctx.Done():
			return
		}
		defer func() { <-s.sem }()
		s.shareOne(req, from)
	}()
}

func (s *Server) shareOne(req request, from *upstream) {
	key, ok := StoreKey(req.rel)
	if !ok {
		return
	}
	path := filepath.Join(s.dir, filepath.FromSlash(req.rel))
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	if err := s.verify(req, f); err != nil {
		var mm *mismatchError
		if errors.As(err, &mm) {
			s.st.rejected.Add(1)
			os.Remove(path)
			s.demote(from, fmt.Sprintf("served %s@%s .%s that the checksum database contradicts", req.path, req.version, req.kind))
			s.logf("%s@%s .%s from %s: %v: not shared", req.path, req.version, req.kind, from.label, err)
			return
		}
		s.st.unverified.Add(1)
		s.logf("%s@%s .%s: not verified, not shared: %v", req.path, req.version, req.kind, s.scrub.scrub(err.Error()))
		return
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil || s.store.down.Load() {
		return
	}
	n, err := s.opts.Store.Put(s.ctx, key, f)
	switch {
	case errors.Is(err, store.ErrExists):
		s.st.shareExisting.Add(1)
	case err != nil:
		s.storeProblem("writing "+key, err)
	default:
		s.store.errs.Store(0)
		s.st.shared.add(n)
	}
}

// mismatchError says that content differs from the checksum database.
type mismatchError struct{ got, want string }

func (e *mismatchError) Error() string {
	return fmt.Sprintf("checksum mismatch: %s, the checksum database has %s", e.got, e.want)
}

// verify checks a file against the checksum database: a .zip and a .mod
// by their hashes; a .info, which nothing signs, by the database knowing
// the version it names.
func (s *Server) verify(req request, f *os.File) error {
	vers := req.version + "/go.mod"
	if req.kind == kindZip {
		vers = req.version
	}
	lines, err := s.db.client.Lookup(req.path, vers)
	if err != nil {
		return err
	}
	if len(lines) == 0 {
		return fmt.Errorf("the checksum database has no %s line for %s", vers, req.path)
	}
	want := strings.Fields(lines[0])[2]
	var got string
	switch req.kind {
	case kindInfo:
		data, err := io.ReadAll(f)
		if err != nil {
			return err
		}
		return checkInfo(req, data)
	case kindMod:
		data, err := io.ReadAll(f)
		if err != nil {
			return err
		}
		got, err = dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(data)), nil
		})
		if err != nil {
			return err
		}
	case kindZip:
		if got, err = hashZip(f); err != nil {
			return err
		}
	}
	if got != want {
		return &mismatchError{got, want}
	}
	return nil
}

// hashZip computes a module zip's h1: hash from an open file, as
// dirhash.HashZip does from a file name.
func hashZip(f *os.File) (string, error) {
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	zr, err := zip.NewReader(f, fi.Size())
	if err != nil {
		return "", err
	}
	files := make([]string, 0, len(zr.File))
	index := make(map[string]*zip.File, len(zr.File))
	for _, zf := range zr.File {
		files = append(files, zf.Name)
		index[zf.Name] = zf
	}
	return dirhash.Hash1(files, func(name string) (io.ReadCloser, error) {
		zf := index[name]
		if zf == nil {
			return nil, fmt.Errorf("file %q not found in zip", name)
		}
		return zf.Open()
	})
}
