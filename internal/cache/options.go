package cache

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"
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
	// Sums, when not nil, are the go.sum hashes every restored unit is
	// checked against (see NewSums); units of versions they do not name
	// are left out. ModuleSet sets them; the build cache has none.
	Sums *Sums
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

// Default budgets of Restore and Save.
const (
	DefaultRestoreBudget = 2 * time.Minute
	DefaultSaveBudget    = 5 * time.Minute
)

// Options tune Save and Restore. The zero value is the default.
type Options struct {
	// Parallel is the number of shards handled at once; 0 means GOMAXPROCS
	// for Save (compressing is CPU-bound) and twice that, at least 4, for
	// Restore (creating files waits on the file system).
	Parallel int
	// Limits bound what a restore unpacks.
	Limits Limits
	// RestoreBudget is the longest a Restore may take, store requests
	// included; 0 means DefaultRestoreBudget. A restore that runs out of
	// it is a miss with a warning and leaves the cache as it was.
	RestoreBudget time.Duration
	// SaveBudget is the longest a Save may take; 0 means
	// DefaultSaveBudget. A save that runs out of it stores no manifest.
	SaveBudget time.Duration
	// HashZips makes a restore hash every module zip as the go command
	// does (golang.org/x/mod/sumdb/dirhash.HashZip), which inflates it.
	// By default a zip restored beside its extracted tree must list
	// exactly the tree's files with their sizes and CRC-32s (the tree
	// itself is hashed), and only a zip without its tree is hashed in full.
	HashZips bool
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

func (o *Options) restoreBudget() time.Duration {
	if o.RestoreBudget > 0 {
		return o.RestoreBudget
	}
	return DefaultRestoreBudget
}

func (o *Options) saveBudget() time.Duration {
	if o.SaveBudget > 0 {
		return o.SaveBudget
	}
	return DefaultSaveBudget
}

func (o *Options) warn(format string, args ...any) {
	if o.Warn != nil {
		o.Warn(fmt.Sprintf(format, args...))
	}
}

// explain turns err into the message to show: when the budget ctx ran out
// (and not its parent) it says so.
func explain(ctx context.Context, err error, what string, budget time.Duration) error {
	if errors.Is(context.Cause(ctx), errBudget) {
		return fmt.Errorf("%s took longer than its budget of %s", what, budget)
	}
	return err
}

// errBudget is the cause of a context whose budget ran out.
var errBudget = errors.New("budget ran out")

// withBudget returns ctx bounded by d, its cause errBudget when d runs out.
func withBudget(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, d, errBudget)
}

// Status is the outcome of a restore.
type Status string

// The outcomes of a restore.
const (
	// Hit means the exact key was restored with every shard.
	Hit Status = "hit"
	// Partial means a fallback entry was restored, or some shards were
	// missing, or some module versions failed verification.
	Partial Status = "partial"
	// Miss means nothing was restored.
	Miss Status = "miss"
	// Skipped means restore or save was not attempted.
	Skipped Status = "skipped"
)
