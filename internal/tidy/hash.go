package tidy

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// dirDigest is what tidy can read of one module directory, as digests from
// which memo keys are composed: go.mod, go.sum and the headers of the Go
// files of the module's packages. Nothing in it depends on where the
// directory is.
type dirDigest struct {
	gomod, gosum       [32]byte
	hasGoMod, hasGoSum bool
	files              [32]byte
	// sumSize is go.sum's size, a cheap measure of the module graph used
	// to start the biggest tidies first.
	sumSize int64
	err     error
}

// hasher computes the digest of each directory at most once per run, so
// that a directory that many modules replace (a monorepo's root module) is
// read once, not once per module. Safe for concurrent use.
type hasher struct {
	stats *statCache
	// listing hashes for a package listing (go list -deps -test) rather
	// than for tidy: see fileDigest.
	listing bool
	mu      sync.Mutex
	dirs    map[string]*dirOnce
}

type dirOnce struct {
	once sync.Once
	d    dirDigest
}

func newHasher(stats *statCache) *hasher {
	return &hasher{stats: stats, dirs: map[string]*dirOnce{}}
}

// dir returns the digest of the module directory dir (absolute, clean).
func (h *hasher) dir(dir string) dirDigest {
	h.mu.Lock()
	o := h.dirs[dir]
	if o == nil {
		o = &dirOnce{}
		h.dirs[dir] = o
	}
	h.mu.Unlock()
	o.once.Do(func() { o.d = h.compute(dir) })
	return o.d
}

// forget drops dir's digest, after tidy --fix rewrote its go.mod or go.sum.
func (h *hasher) forget(dir string) {
	h.mu.Lock()
	delete(h.dirs, dir)
	h.mu.Unlock()
}

func (h *hasher) compute(dir string) dirDigest {
	var d dirDigest
	var err error
	if d.gomod, d.hasGoMod, _, err = h.wholeFile(filepath.Join(dir, "go.mod")); err != nil {
		d.err = err
		return d
	}
	if d.gosum, d.hasGoSum, d.sumSize, err = h.wholeFile(filepath.Join(dir, "go.sum")); err != nil {
		d.err = err
		return d
	}
	sum := sha256.New()
	w := &walker{h: h, sum: sum, seen: map[string]bool{}}
	if d.err = w.walk(dir, ""); d.err == nil {
		copy(d.files[:], sum.Sum(nil))
	}
	return d
}

// wholeFile returns the digest of the file at p, whether it exists, and its
// size.
func (h *hasher) wholeFile(p string) ([32]byte, bool, int64, error) {
	info, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return [32]byte{}, false, 0, nil
	}
	if err != nil {
		return [32]byte{}, false, 0, err
	}
	d, err := h.stats.digest(p, info, func() ([32]byte, error) {
		data, err := os.ReadFile(p)
		return sha256.Sum256(data), err
	})
	return d, err == nil, info.Size(), err
}

// walker hashes the Go files of one module: the files of every directory
// below its root that the go command treats as part of the module (not
// vendor, testdata, names starting with "." or "_", nor nested modules).
type walker struct {
	h    *hasher
	sum  hash.Hash
	seen map[string]bool // real paths of directories reached through symlinks
}

// walk hashes the directory root/rel ("" for root itself). Entries come
// sorted by name, and every line names its file relative to root, so the
// digest does not depend on where root is.
func (w *walker) walk(root, rel string) error {
	dir := filepath.Join(root, filepath.FromSlash(rel))
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	if rel != "" {
		for _, e := range entries {
			if e.Name() == "go.mod" {
				fmt.Fprintf(w.sum, "nested %s\n", rel)
				return nil // a nested module has its own digest
			}
		}
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
			continue // the go command ignores them, files and directories alike
		}
		if err := w.entry(root, joinRel(rel, name), filepath.Join(dir, name), e.Type()); err != nil {
			return err
		}
	}
	return nil
}

// entry hashes one directory entry of type typ.
func (w *walker) entry(root, rel, p string, typ fs.FileMode) error {
	var info fs.FileInfo
	if typ&fs.ModeSymlink != 0 {
		// The go command reads Go files through symlinks and resolves
		// imports through symlinked directories: follow them once each.
		fi, err := os.Stat(p)
		if err != nil {
			fmt.Fprintf(w.sum, "dangling %s\n", rel)
			return nil
		}
		info, typ = fi, fi.Mode().Type()
		if typ.IsDir() {
			real, err := filepath.EvalSymlinks(p)
			if err != nil || w.seen[real] {
				fmt.Fprintf(w.sum, "cycle %s\n", rel)
				return nil
			}
			w.seen[real] = true
		}
	}
	switch {
	case typ.IsDir():
		if base := filepath.Base(p); base == "vendor" || base == "testdata" {
			return nil
		}
		return w.walk(root, rel)
	case typ.IsRegular() && strings.HasSuffix(rel, ".go"):
		if info == nil {
			fi, err := os.Lstat(p)
			if err != nil {
				return err
			}
			info = fi
		}
		d, err := w.h.stats.digest(p, info, func() ([32]byte, error) { return fileDigest(p, w.h.listing) })
		if err != nil {
			return err
		}
		fmt.Fprintf(w.sum, "file %s %x\n", rel, d)
	case w.h.listing:
		// A package listing reports an error for some other files
		// (C sources without cgo) and for embed patterns that match
		// nothing: their names are inputs, their contents are not.
		fmt.Fprintf(w.sum, "other %s\n", rel)
	}
	return nil
}

func joinRel(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// headerChunk is how much of a Go file is read first; a header that goes
// on beyond it is read in doubling chunks.
const headerChunk = 8 << 10

// fileDigest returns the digest of what tidy reads of the Go file at p
// (see goHeader). A file whose header does not scan is hashed whole, and
// so, with listing, is a file importing "embed": a package listing also
// reads its //go:embed lines, which can be anywhere in the file.
func fileDigest(p string, listing bool) ([32]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return [32]byte{}, err
	}
	defer f.Close()
	buf := make([]byte, headerChunk)
	n := 0
	for {
		m, err := io.ReadFull(f, buf[n:])
		n += m
		complete := err == io.EOF || err == io.ErrUnexpectedEOF
		if err != nil && !complete {
			return [32]byte{}, err
		}
		h, serr := scanHeader(buf[:n], complete)
		switch {
		case serr == nil && !(listing && h.importsEmbed()):
			return h.digest(), nil
		case serr == nil:
			rest, err := io.ReadAll(f)
			return sha256.Sum256(append(append([]byte("embed\n"), buf[:n]...), rest...)), err
		case serr == errShort && !complete:
			buf = append(buf, make([]byte, len(buf))...)
			continue
		}
		// Not valid Go: tidy will say so; hash every byte meanwhile.
		rest, err := io.ReadAll(f)
		if err != nil {
			return [32]byte{}, err
		}
		return sha256.Sum256(append(append([]byte("unscanned\n"), buf[:n]...), rest...)), nil
	}
}

// importsEmbed reports whether the header imports "embed".
func (h goHeader) importsEmbed() bool {
	return slices.Contains(h.imports, `"embed"`) || slices.Contains(h.imports, "`embed`")
}

// digest hashes the header in a canonical form.
func (h goHeader) digest() [32]byte {
	var b strings.Builder
	for _, c := range h.constraints {
		b.WriteString("constraint " + c + "\n")
	}
	b.WriteString("package " + h.pkg + "\n")
	for _, p := range h.imports {
		b.WriteString("import " + p + "\n")
	}
	return sha256.Sum256([]byte(b.String()))
}
