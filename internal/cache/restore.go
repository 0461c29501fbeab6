package cache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/modhygiene/modhygiene/internal/cache/store"
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
	// Rejected are the module versions (PATH@VERSION) that failed
	// verification and were not restored; Dropped is the number of archive
	// entries left out because no go.sum line names them.
	Rejected []string
	Dropped  int
	Duration time.Duration
}

// Restore restores set from st into set.Root. Every problem is reported
// through opts.Warn and makes the result a miss (or a partial hit when only
// some shards are absent or some module versions fail verification);
// set.Root is changed only when every fetched shard verified and unpacked,
// and then only by units that verified. Restore takes at most
// opts.RestoreBudget, and removes its temporary files when ctx is
// cancelled.
func Restore(ctx context.Context, st store.Store, set *Set, opts Options) *RestoreResult {
	start := time.Now()
	res := &RestoreResult{Status: Miss, Key: set.Key}
	defer func() { res.Duration = time.Since(start) }()
	ctx, cancel := withBudget(ctx, opts.restoreBudget())
	defer cancel()
	e, err := st.Open(ctx, set.Key, set.Prefixes...)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			opts.warn("cache: %s: restore from %s: %v", set.Name, st, explain(ctx, err, "restore", opts.restoreBudget()))
		}
		return res
	}
	m, err := readManifest(e)
	if err != nil {
		opts.warn("cache: %s: %v", set.Name, explain(ctx, err, "restore", opts.restoreBudget()))
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
	got, err := fetchShards(ctx, st, set, m, tmp, opts, res)
	if err != nil {
		opts.warn("cache: %s: %v; nothing restored", set.Name, explain(ctx, err, "restore", opts.restoreBudget()))
		return res
	}
	commitAll(set, got, res, opts)
	return res
}

// fetchShards fetches, unpacks and verifies every shard of m in parallel
// into tmp. A shard the store lacks is a warning; any other problem is
// the error, and stops the others.
func fetchShards(ctx context.Context, st store.Store, set *Set, m *Manifest, tmp string, opts Options, res *RestoreResult) ([]*unpacked, error) {
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
			u, n, err := fetchShard(ctx, st, sh, filepath.Join(tmp, fmt.Sprint(i)), set, opts, threads)
			mu.Lock()
			defer mu.Unlock()
			res.Bytes += n
			switch {
			case err == nil:
				got[i] = u
			case errors.Is(err, store.ErrNotFound):
				opts.warn("cache: %s: shard %s is missing; the go command fetches its modules", set.Name, sh.Key)
			case errors.Is(err, errUnavailable) && ctx.Err() == nil:
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
		return nil, fatal
	}
	return got, context.Cause(ctx)
}

// commitAll moves the verified units into place and sets the status.
func commitAll(set *Set, got []*unpacked, res *RestoreResult, opts Options) {
	var touch time.Time
	if set.Touch > 0 {
		touch = time.Now().Add(-set.Touch)
	}
	for _, u := range got {
		if u == nil {
			continue
		}
		for _, r := range u.rejected {
			opts.warn("cache: %s: %s; not restored, the go command fetches it", set.Name, r)
			res.Rejected = append(res.Rejected, r[:strings.IndexByte(r, ':')])
		}
		res.Dropped += u.dropped
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
	slices.Sort(res.Rejected)
	if res.Dropped > 0 {
		opts.warn("cache: %s: left out %d archive %s that no go.sum names", set.Name, res.Dropped, plural(res.Dropped, "entry", "entries"))
	}
	switch {
	case res.Restored == 0 && res.Shards > 0:
		res.Status = Miss
	case res.Restored == res.Shards && res.Matched == set.Key && len(res.Rejected) == 0 && res.Dropped == 0:
		res.Status = Hit
	default:
		res.Status = Partial
	}
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

// fetchShard downloads, unpacks and verifies one shard into dir. The
// archive is hashed as it streams; with set.Sums, so is every file of a
// module version, and the versions that fail are left out of the result's
// units (and named in its rejected list).
func fetchShard(ctx context.Context, st store.Store, sh ShardEntry, dir string, set *Set, opts Options, threads int) (*unpacked, int64, error) {
	maxBytes, maxFiles, err := opts.Limits.budget(sh)
	if err != nil {
		return nil, 0, err
	}
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
	if e.Size >= 0 && e.Size != sh.Size {
		return nil, 0, fmt.Errorf("store holds %d bytes, the manifest says %d", e.Size, sh.Size)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, 0, err
	}
	h := sha256.New()
	cr := &countReader{r: io.TeeReader(io.LimitReader(e.Body, sh.Size+1), h)}
	u, err := extract(ctx, cr, dir, opts.Limits, maxBytes, maxFiles, set.Sums, threads)
	if err != nil {
		return nil, cr.n, err
	}
	if err := checkDeclared(sh, cr.n, hex.EncodeToString(h.Sum(nil)), u); err != nil {
		return nil, cr.n, err
	}
	if set.Sums != nil {
		u.verify(set.Sums, opts.HashZips)
	}
	return u, cr.n, nil
}

// checkDeclared compares an unpacked archive with its manifest entry.
func checkDeclared(sh ShardEntry, size int64, sum string, u *unpacked) error {
	switch {
	case size != sh.Size:
		return fmt.Errorf("archive is %d bytes, the manifest says %d", size, sh.Size)
	case sum != sh.SHA256:
		return fmt.Errorf("checksum mismatch: sha256 %s, the manifest says %s", sum, sh.SHA256)
	case sh.Unpacked > 0 && u.tarBytes != sh.Unpacked:
		return fmt.Errorf("archive unpacks to %d bytes, the manifest says %d", u.tarBytes, sh.Unpacked)
	case sh.Files > 0 && u.entries != int64(sh.Files):
		return fmt.Errorf("archive holds %d files, the manifest says %d", u.entries, sh.Files)
	}
	return nil
}

// verify checks every module version of u against sums and leaves the
// units of those that fail out of u.units.
func (u *unpacked) verify(sums *Sums, full bool) {
	bad := map[string]bool{}
	for _, v := range u.versions {
		msg := sums.verify(v, full)
		if msg == "" {
			continue
		}
		w := sums.byDir[v.dir]
		u.rejected = append(u.rejected, w.path+"@"+w.version+": "+msg)
		for _, un := range v.units {
			bad[un] = true
		}
	}
	if len(bad) == 0 {
		return
	}
	u.units = slices.DeleteFunc(u.units, func(un string) bool { return bad[un] })
	slices.Sort(u.rejected)
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

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
