package cache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/modhygiene/modhygiene/internal/cache/store"
)

// Set is one cache to save or restore: the module cache or the build cache.
type Set struct {
	// Name names the cache in messages ("module cache").
	Name string
	// Root is the directory cached (GOMODCACHE or GOCACHE).
	Root string
	// Key is the manifest key of the current state.
	Key string
	// Prefixes are tried in order when Key is absent on restore.
	Prefixes []string
	// Shards are the parts to save; their Units are paths relative to Root.
	Shards []SetShard
	// Touch, on restore, sets the modification time of restored files to
	// this long ago, so that Save can leave out the build cache entries this
	// run did not use (the go command refreshes an entry's time on use once
	// it is an hour old).
	Touch time.Duration
}

// SetShard is one shard to save.
type SetShard struct {
	Key   string
	Units []string
}

// Options tune Save and Restore. The zero value is the default.
type Options struct {
	// Parallel is the number of shards handled at once; 0 means GOMAXPROCS
	// for Save (compressing is CPU-bound) and twice that, at least 4, for
	// Restore (creating files waits on the file system).
	Parallel int
	// Limits bound what a restore unpacks.
	Limits Limits
	// Warn receives every problem; nil discards them. Problems are never
	// errors: the cache is an optimisation.
	Warn func(msg string)
}

func (o *Options) parallel() int {
	if o.Parallel > 0 {
		return o.Parallel
	}
	return runtime.GOMAXPROCS(0)
}

func (o *Options) restoreParallel() int {
	if o.Parallel > 0 {
		return o.Parallel
	}
	return max(4, 2*runtime.GOMAXPROCS(0))
}

func (o *Options) warn(format string, args ...any) {
	if o.Warn != nil {
		o.Warn(fmt.Sprintf(format, args...))
	}
}

// Status is the outcome of a restore.
type Status string

// The outcomes of a restore.
const (
	// Hit means the exact key was restored with every shard.
	Hit Status = "hit"
	// Partial means a fallback entry was restored, or some shards were missing.
	Partial Status = "partial"
	// Miss means nothing was restored.
	Miss Status = "miss"
	// Skipped means restore or save was not attempted.
	Skipped Status = "skipped"
)

// RestoreResult says what Restore did.
type RestoreResult struct {
	Status Status
	// Key is the key asked for; Matched the manifest key restored.
	Key, Matched string
	// Shards is the number of shards in the manifest; Restored of those
	// fetched and unpacked.
	Shards, Restored int
	// Bytes is the number of archive bytes downloaded.
	Bytes int64
	// Files is the number of files unpacked; Units of units moved into
	// place, Existing of units already present.
	Files, Units, Existing int
	Duration               time.Duration
}

// Restore restores set from st into set.Root. Every problem is reported
// through opts.Warn and makes the result a miss (or a partial hit when only
// some shards are absent); set.Root is changed only when every fetched
// shard verified and unpacked.
func Restore(ctx context.Context, st store.Store, set *Set, opts Options) *RestoreResult {
	start := time.Now()
	res := &RestoreResult{Status: Miss, Key: set.Key}
	defer func() { res.Duration = time.Since(start) }()
	e, err := st.Open(ctx, set.Key, set.Prefixes...)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			opts.warn("cache: %s: restore from %s: %v", set.Name, st, err)
		}
		return res
	}
	m, err := readManifest(e)
	if err != nil {
		opts.warn("cache: %s: %v", set.Name, err)
		return res
	}
	res.Matched, res.Shards = e.Key, len(m.Shards)
	if err := os.MkdirAll(set.Root, 0o777); err != nil {
		opts.warn("cache: %s: %v", set.Name, err)
		return res
	}
	removeStale(set.Root)
	tmp, err := os.MkdirTemp(set.Root, restorePrefix)
	if err != nil {
		opts.warn("cache: %s: %v", set.Name, err)
		return res
	}
	defer removeAll(tmp)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Few shards leave CPUs idle: give each decoder more threads.
	threads := max(1, runtime.GOMAXPROCS(0)/max(1, len(m.Shards)))
	got := make([]*unpacked, len(m.Shards))
	var mu sync.Mutex
	var fatal error
	sem := make(chan struct{}, opts.restoreParallel())
	var wg sync.WaitGroup
	for i, sh := range m.Shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if ctx.Err() != nil {
				return
			}
			u, n, err := fetchShard(ctx, st, sh, filepath.Join(tmp, fmt.Sprint(i)), opts, threads)
			mu.Lock()
			defer mu.Unlock()
			res.Bytes += n
			switch {
			case err == nil:
				got[i] = u
			case errors.Is(err, store.ErrNotFound):
				opts.warn("cache: %s: shard %s is missing; the go command fetches its modules", set.Name, sh.Key)
			case errors.Is(err, errUnavailable):
				opts.warn("cache: %s: shard %s: %v", set.Name, sh.Key, err)
			default:
				if fatal == nil && ctx.Err() == nil {
					fatal = fmt.Errorf("shard %s: %w", sh.Key, err)
				}
				cancel()
			}
		}()
	}
	wg.Wait()
	if fatal != nil {
		opts.warn("cache: %s: %v; nothing restored", set.Name, fatal)
		return res
	}
	if err := ctx.Err(); err != nil {
		opts.warn("cache: %s: %v; nothing restored", set.Name, err)
		return res
	}
	var touch time.Time
	if set.Touch > 0 {
		touch = time.Now().Add(-set.Touch)
	}
	for _, u := range got {
		if u == nil {
			continue
		}
		moved, skipped, err := commit(u, set.Root, touch)
		res.Units += moved
		res.Existing += skipped
		res.Files += u.files
		if err != nil {
			opts.warn("cache: %s: moving into place: %v", set.Name, err)
			break
		}
		res.Restored++
	}
	switch {
	case res.Restored == 0 && res.Shards > 0:
		res.Status = Miss
	case res.Restored == res.Shards && res.Matched == set.Key:
		res.Status = Hit
	default:
		res.Status = Partial
	}
	return res
}

const restorePrefix = ".modhygiene-restore-"

// removeStale removes the temporary directories of restores that were
// killed more than an hour ago.
func removeStale(root string) {
	ents, _ := os.ReadDir(root)
	for _, e := range ents {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), restorePrefix) {
			continue
		}
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > time.Hour {
			removeAll(filepath.Join(root, e.Name()))
		}
	}
}

// errUnavailable marks a shard the store could not open: a partial hit, not
// a corrupt entry.
var errUnavailable = errors.New("store unavailable")

// fetchShard downloads, verifies and unpacks one shard into dir.
func fetchShard(ctx context.Context, st store.Store, sh ShardEntry, dir string, opts Options, threads int) (*unpacked, int64, error) {
	e, err := st.Open(ctx, sh.Key)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, 0, err
		}
		return nil, 0, fmt.Errorf("%w: %v", errUnavailable, err)
	}
	defer e.Body.Close()
	if e.Key != sh.Key {
		return nil, 0, fmt.Errorf("store returned %s for %s", e.Key, sh.Key)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, 0, err
	}
	h := sha256.New()
	cr := &countReader{r: io.TeeReader(io.LimitReader(e.Body, sh.Size+1), h)}
	u, err := extract(ctx, cr, dir, opts.Limits, threads)
	if err != nil {
		return nil, cr.n, err
	}
	if cr.n != sh.Size {
		return nil, cr.n, fmt.Errorf("archive is %d bytes, the manifest says %d", cr.n, sh.Size)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); sum != sh.SHA256 {
		return nil, cr.n, fmt.Errorf("checksum mismatch: sha256 %s, the manifest says %s", sum, sh.SHA256)
	}
	return u, cr.n, nil
}

type countReader struct {
	r io.Reader
	n int64
}

// Read reads and counts.
func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// SaveResult says what Save did.
type SaveResult struct {
	Status Status
	Key    string
	// UpToDate is true when the key was already stored.
	UpToDate bool
	// Shards is the number of shards; Uploaded were written, Reused were
	// already stored.
	Shards, Uploaded, Reused int
	// Bytes is the number of bytes written to the store.
	Bytes int64
	// Files is the number of files in the uploaded shards.
	Files    int
	Duration time.Duration
}

// Save stores set in st: shards already stored under the same key (as the
// newest manifest with a prefix of set says) are reused, the others are
// archived and uploaded, in parallel, then the manifest is written. Every
// problem is reported through opts.Warn; a failed save stores no manifest.
func Save(ctx context.Context, st store.Store, set *Set, opts Options) *SaveResult {
	start := time.Now()
	res := &SaveResult{Status: Miss, Key: set.Key, Shards: len(set.Shards)}
	defer func() { res.Duration = time.Since(start) }()
	prev := map[string]ShardEntry{}
	if e, err := st.Open(ctx, set.Key, set.Prefixes...); err == nil {
		exact := e.Key == set.Key
		m, err := readManifest(e)
		if err == nil && exact {
			res.Status, res.UpToDate = Hit, true
			return res
		}
		if err == nil {
			for _, s := range m.Shards {
				prev[s.Key] = s
			}
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		opts.warn("cache: %s: save to %s: %v", set.Name, st, err)
		return res
	}
	empty := true
	for _, sh := range set.Shards {
		empty = empty && len(sh.Units) == 0
	}
	if empty {
		// Nothing of the current graphs is in the cache: an empty entry
		// would only make later restores report a hit.
		res.Status = Skipped
		return res
	}
	m := &Manifest{Format: Format, Key: set.Key, Created: time.Now().UTC()}
	entries := make([]*ShardEntry, len(set.Shards))
	var mu sync.Mutex
	var failed error
	sem := make(chan struct{}, opts.parallel())
	// Reuse the shards the previous manifest lists and the store still has.
	var todo []int
	for i, sh := range set.Shards {
		if len(sh.Units) == 0 {
			continue
		}
		if p, ok := prev[sh.Key]; ok && present(ctx, st, sh.Key) {
			entries[i] = &p
			res.Reused++
			continue
		}
		todo = append(todo, i)
	}
	// Few shards to write leave CPUs idle: give each encoder more threads.
	threads := max(1, runtime.GOMAXPROCS(0)/max(1, len(todo)))
	var wg sync.WaitGroup
	for _, i := range todo {
		sh := set.Shards[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			ent, reused, err := putShard(ctx, st, set.Root, sh, threads)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if failed == nil {
					failed = fmt.Errorf("shard %s: %w", sh.Key, err)
				}
				return
			}
			entries[i] = ent
			if reused {
				res.Reused++
			} else {
				res.Uploaded++
				res.Bytes += ent.Size
				res.Files += ent.Files
			}
		}()
	}
	wg.Wait()
	if failed != nil {
		opts.warn("cache: %s: save to %s: %v", set.Name, st, failed)
		return res
	}
	for _, e := range entries {
		if e != nil {
			m.Shards = append(m.Shards, *e)
		}
	}
	data, err := json.MarshalIndent(m, "", "\t")
	if err != nil {
		opts.warn("cache: %s: %v", set.Name, err)
		return res
	}
	n, err := st.Put(ctx, set.Key, bytes.NewReader(data))
	switch {
	case errors.Is(err, store.ErrExists):
		res.UpToDate = true
	case err != nil:
		opts.warn("cache: %s: save to %s: %v", set.Name, st, err)
		return res
	}
	res.Bytes += n
	res.Status = Hit
	return res
}

// present reports whether a store that can tell has key; a store that
// cannot, or an error, counts as present.
func present(ctx context.Context, st store.Store, key string) bool {
	c, ok := st.(store.Checker)
	if !ok {
		return true
	}
	there, err := c.Exists(ctx, key)
	return err != nil || there
}

// putShard archives one shard and streams it to the store, hashing it on
// the way. When the store already has the key (another job saved it), the
// stored entry is read back to learn its sum.
func putShard(ctx context.Context, st store.Store, root string, sh SetShard, threads int) (*ShardEntry, bool, error) {
	pr, pw := io.Pipe()
	h := sha256.New()
	var files int
	go func() {
		n, err := writeArchive(ctx, io.MultiWriter(pw, h), root, sh.Units, threads)
		files = n
		pw.CloseWithError(err)
	}()
	n, err := st.Put(ctx, sh.Key, pr)
	pr.CloseWithError(errors.New("upload ended"))
	if errors.Is(err, store.ErrExists) {
		e, err := st.Open(ctx, sh.Key)
		if err != nil {
			return nil, false, err
		}
		defer e.Body.Close()
		h := sha256.New()
		n, err := io.Copy(h, e.Body)
		if err != nil {
			return nil, false, err
		}
		return &ShardEntry{Key: sh.Key, SHA256: hex.EncodeToString(h.Sum(nil)), Size: n}, true, nil
	}
	if err != nil {
		return nil, false, err
	}
	return &ShardEntry{Key: sh.Key, SHA256: hex.EncodeToString(h.Sum(nil)), Size: n, Files: files}, false, nil
}
