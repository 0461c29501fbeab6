package cache

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/modhygiene/modhygiene/internal/cache/store"
)

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
// Save takes at most opts.SaveBudget.
func Save(ctx context.Context, st store.Store, set *Set, opts Options) *SaveResult {
	start := time.Now()
	res := &SaveResult{Status: Miss, Key: set.Key, Shards: len(set.Shards)}
	defer func() { res.Duration = time.Since(start) }()
	ctx, cancel := withBudget(ctx, opts.saveBudget())
	defer cancel()
	fail := func(err error) *SaveResult {
		opts.warn("cache: %s: save to %s: %v", set.Name, st, explain(ctx, err, "save", opts.saveBudget()))
		return res
	}
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
		return fail(err)
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
	entries, err := putShards(ctx, st, set, prev, opts, res)
	if err != nil {
		return fail(err)
	}
	m := &Manifest{Format: Format, Key: set.Key, Created: time.Now().UTC()}
	for _, e := range entries {
		if e != nil {
			m.Shards = append(m.Shards, *e)
		}
	}
	data, err := json.MarshalIndent(m, "", "\t")
	if err != nil {
		return fail(err)
	}
	n, err := st.Put(ctx, set.Key, bytes.NewReader(data))
	switch {
	case errors.Is(err, store.ErrExists):
		res.UpToDate = true
	case err != nil:
		return fail(err)
	}
	res.Bytes += n
	res.Status = Hit
	return res
}

// putShards reuses the shards prev lists that the store still has and
// uploads the others, in parallel. The first failure stops the others.
func putShards(ctx context.Context, st store.Store, set *Set, prev map[string]ShardEntry, opts Options, res *SaveResult) ([]*ShardEntry, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	entries := make([]*ShardEntry, len(set.Shards))
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
	var mu sync.Mutex
	var failed error
	sem := make(chan struct{}, opts.parallel())
	var wg sync.WaitGroup
	for _, i := range todo {
		sh := set.Shards[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if ctx.Err() != nil {
				return
			}
			ent, reused, err := putShard(ctx, st, set.Root, sh, threads)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if failed == nil && ctx.Err() == nil {
					failed = fmt.Errorf("shard %s: %w", sh.Key, err)
				}
				cancel()
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
		return nil, failed
	}
	return entries, context.Cause(ctx)
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
// the way. When the store already has the key, or another job is writing
// it, the stored entry is read back to learn its sums, waiting a while for
// the other job to finish; when it does not in time, the shard is uploaded
// under a key of its own.
func putShard(ctx context.Context, st store.Store, root string, sh SetShard, threads int) (*ShardEntry, bool, error) {
	ent, err := upload(ctx, st, root, sh.Key, sh.Units, threads)
	if !errors.Is(err, store.ErrExists) {
		return ent, false, err
	}
	ent, err = readBack(ctx, st, sh.Key)
	if err == nil {
		return ent, true, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, false, err
	}
	var b [4]byte
	rand.Read(b[:])
	ent, err = upload(ctx, st, root, sh.Key+"-"+hex.EncodeToString(b[:]), sh.Units, threads)
	return ent, false, err
}

// upload archives units and stores them under key.
func upload(ctx context.Context, st store.Store, root, key string, units []string, threads int) (*ShardEntry, error) {
	pr, pw := io.Pipe()
	h := sha256.New()
	var files int
	var tarBytes int64
	go func() {
		n, tb, err := writeArchive(ctx, io.MultiWriter(pw, h), root, units, threads)
		files, tarBytes = n, tb
		pw.CloseWithError(err)
	}()
	n, err := st.Put(ctx, key, pr)
	pr.CloseWithError(errors.New("upload ended"))
	if err != nil {
		return nil, err
	}
	return &ShardEntry{Key: key, SHA256: hex.EncodeToString(h.Sum(nil)), Size: n, Files: files, Unpacked: tarBytes}, nil
}

// readBackWaits are the pauses between read-backs of a shard that another
// job is still writing.
var readBackWaits = []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}

// readBack reads a stored shard to learn its sums, its files and its tar
// size, trying again while the store does not have it yet.
func readBack(ctx context.Context, st store.Store, key string) (*ShardEntry, error) {
	for i := 0; ; i++ {
		ent, err := readShard(ctx, st, key)
		if !errors.Is(err, store.ErrNotFound) || i >= len(readBackWaits) {
			return ent, err
		}
		t := time.NewTimer(readBackWaits[i])
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, context.Cause(ctx)
		case <-t.C:
		}
	}
}

func readShard(ctx context.Context, st store.Store, key string) (*ShardEntry, error) {
	e, err := st.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer e.Body.Close()
	if e.Key != key {
		return nil, store.ErrNotFound
	}
	h := sha256.New()
	cr := &countReader{r: io.TeeReader(e.Body, h)}
	zr, err := zstd.NewReader(cr, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(64<<20))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	tb := &countReader{r: zr}
	tr := tar.NewReader(tb)
	files := 0
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading back %s: %w", key, err)
		}
		if hdr.Typeflag == tar.TypeReg {
			files++
		}
	}
	if _, err := io.Copy(io.Discard, tb); err != nil {
		return nil, fmt.Errorf("reading back %s: %w", key, err)
	}
	if _, err := io.Copy(io.Discard, cr); err != nil {
		return nil, fmt.Errorf("reading back %s: %w", key, err)
	}
	return &ShardEntry{Key: key, SHA256: hex.EncodeToString(h.Sum(nil)), Size: cr.n, Files: files, Unpacked: tb.n}, nil
}
