package tidy

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modhygiene/modhygiene/internal/atomicfile"
)

// statCacheFile is the stat cache's file name in the memo directory.
const statCacheFile = "stat-cache-v1"

// A stamp identifies one version of a file without reading it: size,
// modification and change times, inode and device, as the go command's own
// stat cache does. When any of them differs the file is read again.
type stamp struct {
	size, mtime, ctime int64
	ino, dev           uint64
}

// recentCutoff is how old a file's modification time must be before its
// digest is cached: a file written twice within the file system's time
// granularity could otherwise keep a stale digest (the go command's module
// index applies the same rule).
const recentCutoff = 2 * time.Second

// staleAfter is how long an unused stat cache entry is kept.
const staleAfter = 30 * 24 * time.Hour

// statCache maps a file's path and stamp to the digest of what tidy reads
// of it, so that a run finding nothing changed reads metadata only. It is an
// accelerator: it lives on one machine, is keyed by absolute paths and is
// never part of a memo key. Safe for concurrent use.
type statCache struct {
	mu      sync.Mutex
	path    string // "" keeps it in memory
	entries map[string]statEntry
	now     time.Time
	dirty   bool
	// reads counts the files read (digests computed), for tests.
	reads atomic.Int64
}

type statEntry struct {
	st     stamp
	digest [32]byte
	used   int64 // unix day of the last use
}

// openStatCache loads the stat cache file in dir; a missing or unreadable
// file gives an empty cache.
func openStatCache(dir string) *statCache {
	c := &statCache{entries: map[string]statEntry{}, now: time.Now()}
	if dir == "" {
		return c
	}
	c.path = filepath.Join(dir, statCacheFile)
	data, err := os.ReadFile(c.path)
	if err != nil {
		return c
	}
	for line := range bytes.Lines(data) {
		if p, e, ok := parseStatLine(line); ok {
			c.entries[p] = e
		}
	}
	return c
}

// parseStatLine parses "DIGEST SIZE MTIME CTIME INO DEV DAY PATH".
func parseStatLine(line []byte) (string, statEntry, bool) {
	f := strings.SplitN(strings.TrimSuffix(string(line), "\n"), " ", 8)
	var e statEntry
	if len(f) != 8 || len(f[0]) != 64 {
		return "", e, false
	}
	if _, err := hex.Decode(e.digest[:], []byte(f[0])); err != nil {
		return "", e, false
	}
	var nums [6]int64
	for i := range nums {
		n, err := strconv.ParseInt(f[i+1], 10, 64)
		if err != nil {
			return "", e, false
		}
		nums[i] = n
	}
	e.st = stamp{size: nums[0], mtime: nums[1], ctime: nums[2], ino: uint64(nums[3]), dev: uint64(nums[4])}
	e.used = nums[5]
	return f[7], e, true
}

// digest returns the cached digest of path when its stamp is unchanged,
// else compute's result, cached when the file is old enough.
func (c *statCache) digest(path string, info fs.FileInfo, compute func() ([32]byte, error)) ([32]byte, error) {
	st := stampOf(info)
	day := c.now.Unix() / 86400
	c.mu.Lock()
	e, ok := c.entries[path]
	if ok && e.st == st {
		if e.used != day {
			e.used = day
			c.entries[path] = e
			c.dirty = true
		}
		c.mu.Unlock()
		return e.digest, nil
	}
	c.mu.Unlock()
	c.reads.Add(1)
	d, err := compute()
	if err != nil || c.now.Sub(info.ModTime()) < recentCutoff || strings.ContainsAny(path, "\n") {
		return d, err
	}
	c.mu.Lock()
	c.entries[path] = statEntry{st: st, digest: d, used: day}
	c.dirty = true
	c.mu.Unlock()
	return d, nil
}

// save writes the cache when it changed, dropping entries unused for
// staleAfter. The file is replaced atomically.
func (c *statCache) save() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.path == "" || !c.dirty {
		return nil
	}
	oldest := c.now.Add(-staleAfter).Unix() / 86400
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	for p, e := range c.entries {
		if e.used < oldest {
			continue
		}
		fmt.Fprintf(w, "%x %d %d %d %d %d %d %s\n", e.digest, e.st.size, e.st.mtime, e.st.ctime, int64(e.st.ino), int64(e.st.dev), e.used, p)
	}
	w.Flush()
	if err := writeFileAtomic(c.path, b.Bytes()); err != nil {
		return err
	}
	c.dirty = false
	return nil
}

// writeFileAtomic writes data to a temporary file beside path and renames
// it into place.
func writeFileAtomic(path string, data []byte) error {
	return atomicfile.Write(path, "", "."+filepath.Base(path)+".tmp-*", data, 0o600)
}
