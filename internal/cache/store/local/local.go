// Package local is the cache store in a directory: the default on a laptop,
// for pre-commit and for self-hosted runners.
package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/modhygiene/modhygiene/internal/atomicfile"
	"github.com/modhygiene/modhygiene/internal/cache/store"
)

// Store keeps each entry as one file named by its key in Dir. Writers write
// a temporary file in Dir and rename it into place, so concurrent writers of
// one key are safe (the last rename wins, and both wrote the same content)
// and a reader never sees a partial entry. Only regular files are entries:
// anything else under a key (a FIFO, a link, a directory) is refused
// without being opened for reading.
//
// The store keeps itself under MaxBytes: after each Put it removes the
// entries used least recently until the rest fit. Opening an entry counts
// as a use (its access time is set; its modification time, which orders
// prefix lookups, stays the time it was written).
type Store struct {
	// Dir is the directory of the entries; it is created on the first Put.
	Dir string
	// MaxBytes is the most the entries may hold in all; 0 means
	// DefaultMaxBytes, a negative value no limit. The entry just written
	// is never removed, even when it alone is larger.
	MaxBytes int64
}

// DefaultMaxBytes is the default size budget of a Store: 1 GiB.
const DefaultMaxBytes = 1 << 30

var _ store.Store = (*Store)(nil)

// New returns a store in dir with the default size budget.
func New(dir string) *Store { return &Store{Dir: dir} }

// String returns the store as a file URL.
func (s *Store) String() string { return "file://" + filepath.ToSlash(s.Dir) }

// Open returns the entry named key or the newest whose name starts with a prefix.
func (s *Store) Open(ctx context.Context, key string, prefixes ...string) (*store.Entry, error) {
	if err := store.CheckKey(key); err != nil {
		return nil, err
	}
	e, err := s.open(key)
	if !errors.Is(err, store.ErrNotFound) || len(prefixes) == 0 {
		return e, err
	}
	ents, err := os.ReadDir(s.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	for _, p := range prefixes {
		var best string
		var bestInfo fs.FileInfo
		for _, d := range ents {
			name := d.Name()
			if !strings.HasPrefix(name, p) || store.CheckKey(name) != nil || !d.Type().IsRegular() {
				continue
			}
			fi, err := d.Info()
			if err != nil {
				continue
			}
			if bestInfo == nil || fi.ModTime().After(bestInfo.ModTime()) || fi.ModTime().Equal(bestInfo.ModTime()) && name > best {
				best, bestInfo = name, fi
			}
		}
		if best != "" {
			return s.open(best)
		}
	}
	return nil, store.ErrNotFound
}

func (s *Store) open(key string) (*store.Entry, error) {
	name := filepath.Join(s.Dir, key)
	f, err := openRegular(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file", name)
	}
	// A use: the access time orders eviction.
	os.Chtimes(name, time.Now(), fi.ModTime())
	return &store.Entry{Key: key, Size: fi.Size(), Body: f}, nil
}

// Put writes body to a temporary file and renames it to key. An existing
// entry is reported as store.ErrExists before anything is written.
func (s *Store) Put(ctx context.Context, key string, body io.Reader) (int64, error) {
	if err := store.CheckKey(key); err != nil {
		return 0, err
	}
	dst := filepath.Join(s.Dir, key)
	if _, err := os.Lstat(dst); err == nil {
		return 0, store.ErrExists
	}
	if err := os.MkdirAll(s.Dir, 0o777); err != nil {
		return 0, err
	}
	n, err := atomicfile.WriteFrom(dst, "", ".tmp-"+key+"-*", ctxReader{ctx, body}, 0o644)
	if err != nil {
		return 0, err
	}
	s.evict(key)
	return n, nil
}

// ctxReader stops a copy when the context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

// Read reads unless the context has ended.
func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

var _ store.Checker = (*Store)(nil)

// Exists reports whether the entry file is present. A present entry
// counts as used.
func (s *Store) Exists(ctx context.Context, key string) (bool, error) {
	if err := store.CheckKey(key); err != nil {
		return false, err
	}
	name := filepath.Join(s.Dir, key)
	fi, err := os.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !fi.Mode().IsRegular() {
		return false, fmt.Errorf("%s is not a regular file", name)
	}
	os.Chtimes(name, time.Now(), fi.ModTime())
	return true, nil
}
