package proxy

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/modhygiene/modhygiene/internal/atomicfile"
	"golang.org/x/mod/module"
)

// serveImmutable answers the .info, .mod or .zip of a canonical version
// from the first source that has it: the local module cache, the proxy's
// directory, the store, the mirrors.
func (s *Server) serveImmutable(w http.ResponseWriter, r *http.Request, req request) {
	if s.opts.ModCache != "" {
		if s.serveFile(w, r, req, filepath.Join(s.opts.ModCache, "cache", "download"), &s.st.local) {
			return
		}
	}
	if s.serveFile(w, r, req, s.dir, &s.st.cache) {
		return
	}
	if s.private(req.path) {
		s.st.private.Add(1)
		s.fail(w, &notFoundError{fmt.Sprintf("%s is private (GONOPROXY): not asked of any mirror", req.path)})
		return
	}
	v, err, shared := s.group.Do(req.rel, func() (any, error) { return s.fetchImmutable(req) })
	if err != nil {
		s.fail(w, err)
		return
	}
	got := v.(fetched)
	counter := got.from
	if shared {
		counter = &s.st.joined
	}
	if got.data != nil {
		s.serveBytes(w, r, req, got.data, counter)
		return
	}
	if !s.serveFile(w, r, req, s.dir, counter) {
		s.fail(w, fmt.Errorf("%s: fetched but gone from the proxy directory", req.rel))
	}
}

// fetched is where an immutable file came from, and its content when it
// is held in memory rather than in the proxy's directory.
type fetched struct {
	from *source
	data []byte
}

// fetchImmutable brings a file from the store or the mirrors: into memory
// (small store entries, see fromStore) or into the proxy's directory, and
// has what the mirrors served verified and shared.
func (s *Server) fetchImmutable(req request) (fetched, error) {
	dst := filepath.Join(s.dir, filepath.FromSlash(req.rel))
	if _, err := os.Stat(dst); err == nil {
		return fetched{from: &s.st.cache}, nil // another caller fetched it meanwhile
	}
	if v, ok := s.mem.get(req.rel); ok {
		return fetched{}, &notFoundError{v.msg} // a recent not-found
	}
	sp := s.specFor(req)
	if data, ok := s.fromStore(req, sp); ok {
		return fetched{from: &s.st.storeRead, data: data}, nil
	}
	a, err := s.race(s.ctx, order(s.mirrors), func(*upstream) string { return req.rel }, sp)
	if err != nil {
		var nf *notFoundError
		if errors.As(err, &nf) {
			s.mem.put(req.rel, memEntry{notFound: true, msg: nf.msg}, s.opts.listTTL())
		}
		return fetched{}, err
	}
	if err := s.commit(dst, a); err != nil {
		return fetched{}, err
	}
	s.share(req, a.m)
	return fetched{from: &s.st.fetched}, nil
}

// commit moves an answer into place in the proxy's directory.
func (s *Server) commit(dst string, a *answer) error {
	if a.file == "" {
		return writeFileAtomic(dst, s.tmp, a.data)
	}
	defer a.discard()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.Rename(a.file, dst)
}

// serveFile answers req from the file rel below root, if it is there, and
// counts it.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, req request, root string, c *source) bool {
	f, err := os.Open(filepath.Join(root, filepath.FromSlash(req.rel)))
	if err != nil {
		return false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return false
	}
	c.add(fi.Size())
	w.Header().Set("Content-Type", contentType(req))
	http.ServeContent(w, r, "", time.Time{}, f)
	return true
}

func contentType(req request) string {
	switch req.kind {
	case kindZip:
		return "application/zip"
	case kindInfo, kindLatest:
		return "application/json"
	case kindSumDB:
		if strings.HasPrefix(req.dbPath, "tile/") && !strings.Contains(req.dbPath, "/data/") {
			return "application/octet-stream"
		}
	}
	return "text/plain; charset=utf-8"
}

// serveMutable answers a version list, @latest or a version query: from
// memory if asked within Options.ListTTL, else from the mirrors. When
// every mirror fails, or there is none, a version list falls back to the
// local module cache's copy.
func (s *Server) serveMutable(w http.ResponseWriter, r *http.Request, req request) {
	if s.private(req.path) {
		s.st.private.Add(1)
		s.fail(w, &notFoundError{fmt.Sprintf("%s is private (GONOPROXY): not asked of any mirror", req.path)})
		return
	}
	e, from, err := s.fetchMutable(req, func() []*upstream { return order(s.mirrors) })
	if err != nil {
		var nf *notFoundError
		if (!errors.As(err, &nf) || len(s.mirrors) == 0) && req.kind == kindList && s.opts.ModCache != "" &&
			s.serveFile(w, r, req, filepath.Join(s.opts.ModCache, "cache", "download"), &s.st.local) {
			s.logf("%s: every mirror failed; served the local module cache's list", req.path)
			return
		}
		s.fail(w, err)
		return
	}
	s.serveBytes(w, r, req, e.data, from)
}

// serveBytes answers with data and counts it against its origin.
func (s *Server) serveBytes(w http.ResponseWriter, r *http.Request, req request, data []byte, from *source) {
	from.add(int64(len(data)))
	w.Header().Set("Content-Type", contentType(req))
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
}

// fetchMutable returns a mutable answer from memory or from a race over
// the upstreams that ups returns. The origin is the counter it is to be
// counted against when served.
func (s *Server) fetchMutable(req request, ups func() []*upstream) (memEntry, *source, error) {
	rel := req.rel
	if e, ok := s.mem.get(rel); ok {
		if e.notFound {
			return e, nil, &notFoundError{e.msg}
		}
		return e, &s.st.cache, nil
	}
	v, err, shared := s.group.Do("mem:"+rel, func() (any, error) {
		a, err := s.race(s.ctx, ups(), s.target(req), s.specFor(req))
		if err != nil && s.askOwnServer(req, err) {
			a, err = s.race(s.ctx, []*upstream{s.direct}, s.target(req), s.specFor(req))
		}
		var nf *notFoundError
		switch {
		case errors.As(err, &nf):
			s.mem.put(rel, memEntry{notFound: true, msg: nf.msg}, s.opts.listTTL())
			return nil, err
		case err != nil:
			return nil, err
		}
		e := memEntry{data: a.data}
		s.mem.put(rel, e, s.opts.listTTL())
		return e, nil
	})
	if err != nil {
		return memEntry{}, nil, err
	}
	if shared {
		return v.(memEntry), &s.st.joined, nil
	}
	return v.(memEntry), &s.st.fetched, nil
}

// target returns, for req, the path to ask each upstream for.
func (s *Server) target(req request) func(*upstream) string {
	return func(u *upstream) string {
		if u.own {
			return req.dbPath
		}
		return req.rel
	}
}

// private reports whether a module must never be asked of a mirror.
func (s *Server) private(path string) bool {
	return s.opts.NoProxy != "" && module.MatchPrefixPatterns(s.opts.NoProxy, path)
}

// writeFileAtomic writes data to a temporary file in tmp and renames it to
// dst, so that no reader sees half a file.
func writeFileAtomic(dst, tmp string, data []byte) error {
	return atomicfile.Write(dst, tmp, "write-*", data, 0o644)
}

// memEntry is a mutable answer kept for a while.
type memEntry struct {
	data     []byte
	notFound bool
	msg      string
	expires  time.Time
}

// memCache keeps mutable answers until they expire.
type memCache struct {
	mu sync.Mutex
	m  map[string]memEntry
}

func (c *memCache) get(key string) (memEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if ok && time.Now().After(e.expires) {
		delete(c.m, key)
		return memEntry{}, false
	}
	return e, ok
}

func (c *memCache) put(key string, e memEntry, ttl time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]memEntry{}
	}
	e.expires = time.Now().Add(ttl)
	c.m[key] = e
}
