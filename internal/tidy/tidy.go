package tidy

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/modhygiene/modhygiene/internal/gocmd"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

// Options configure Run. The zero value checks every module with one job
// per CPU and no memo.
type Options struct {
	// Fix rewrites go.mod and go.sum of untidy modules.
	Fix bool
	// Jobs bounds how many modules are tidied at once (0 means the number of CPUs).
	Jobs int
	// MemoDir is where the memo lives; empty disables the memo.
	MemoDir string
	// NoPrefetch skips downloading the union of requirements first.
	NoPrefetch bool
	// Progress, if set, is called when a module starts and when it ends.
	// Calls are serialised.
	Progress func(Event)
}

// Status is the outcome for one module.
type Status int

// The outcomes.
const (
	// Tidy means tidy would change nothing.
	Tidy Status = iota
	// Untidy means tidy would change go.mod or go.sum (check mode).
	Untidy
	// Fixed means go.mod or go.sum were rewritten (fix mode).
	Fixed
	// Failed means tidy could not run; Err says why.
	Failed
)

var statusNames = [...]string{"tidy", "untidy", "fixed", "failed"}

// String names the status.
func (s Status) String() string { return statusNames[s] }

// Result is the outcome of tidy for one module.
type Result struct {
	Module *workspace.Module
	Status Status
	// Memo is set when the memo showed the module tidy without running go.
	Memo bool
	// Diff is the unified diff of go.mod and go.sum (Untidy and Fixed).
	Diff string
	// Err is the go command's failure (Failed).
	Err      error
	Duration time.Duration
}

// Event reports progress: Done is false when the module starts.
type Event struct {
	Module *workspace.Module
	Done   bool
	Result *Result
}

// Run tidies every module of ws, at most opt.Jobs at a time, and returns one
// Result per module in the order of ws.Modules. The error is non-nil only
// when the run itself could not proceed (the context was cancelled).
func Run(ctx context.Context, r *gocmd.Runner, ws *workspace.Workspace, opt Options) ([]Result, error) {
	jobs := opt.Jobs
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	t := &tidier{r: r, opt: opt, env: tidyEnv(r.Env, jobs)}
	goenv, err := r.GoEnv(ctx, "", append([]string{"GOMODCACHE"}, memoEnv...)...)
	if err == nil {
		t.modCache = goenv["GOMODCACHE"]
		if opt.MemoDir != "" {
			t.memo = newMemo(goenv, opt.MemoDir)
		}
	}
	results := make([]Result, len(ws.Modules))
	keys, pending := t.memoPass(ws.Modules, results)
	if !opt.NoPrefetch && len(pending) > 0 {
		t.prefetch(ctx, pick(ws.Modules, pending))
	}
	t.runPending(ctx, ws.Modules, pending, keys, results, jobs)
	return results, ctx.Err()
}

// memoPass fills results for the modules the memo knows to be tidy and
// returns every module's memo key and the indexes of the modules to check.
func (t *tidier) memoPass(mods []*workspace.Module, results []Result) (keys []string, pending []int) {
	keys = make([]string, len(mods))
	for i, m := range mods {
		start := time.Now()
		if t.memo != nil {
			keys[i] = t.memo.key(m)
			if keys[i] != "" && t.memo.has(keys[i]) {
				results[i] = Result{Module: m, Status: Tidy, Memo: true, Duration: time.Since(start)}
				t.report(Event{Module: m, Done: true, Result: &results[i]})
				continue
			}
		}
		pending = append(pending, i)
	}
	return keys, pending
}

// runPending tidies the pending modules, at most jobs at a time.
func (t *tidier) runPending(ctx context.Context, mods []*workspace.Module, pending []int, keys []string, results []Result, jobs int) {
	sem := make(chan struct{}, jobs)
	var wg sync.WaitGroup
	for _, i := range pending {
		m := mods[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			t.report(Event{Module: m})
			results[i] = t.module(ctx, m, keys[i])
			t.report(Event{Module: m, Done: true, Result: &results[i]})
		}()
	}
	wg.Wait()
}

// tidyEnv is the environment the tidy runs add: tidy ignores workspaces.
// The parallel go commands are CPU-bound and short-lived, so unless the user
// set these variables, the CPUs are shared out between the jobs instead of
// every go command scheduling on all of them, and the garbage collector
// waits until a command's heap reaches tidyMemLimit, which saves about a
// quarter of the CPU time (tidy of goreleaser/v2, a 933-module graph, peaks
// at 73 MB that way).
func tidyEnv(base []string, jobs int) []string {
	env := []string{"GOWORK=off"}
	if gocmd.Lookup(base, "GOMAXPROCS") == "" {
		env = append(env, fmt.Sprintf("GOMAXPROCS=%d", max(1, runtime.NumCPU()/jobs)))
	}
	if gocmd.Lookup(base, "GOGC") == "" && gocmd.Lookup(base, "GOMEMLIMIT") == "" {
		env = append(env, "GOGC=off", "GOMEMLIMIT="+tidyMemLimit)
	}
	return env
}

// tidyMemLimit is the soft memory limit of each tidy's go command.
const tidyMemLimit = "768MiB"

func pick(mods []*workspace.Module, idx []int) []*workspace.Module {
	out := make([]*workspace.Module, len(idx))
	for j, i := range idx {
		out[j] = mods[i]
	}
	return out
}

type tidier struct {
	r    *gocmd.Runner
	opt  Options
	env  []string
	memo *memo
	mu   sync.Mutex
	// modCache is GOMODCACHE, "" when unknown.
	modCache string
}

func (t *tidier) report(e Event) {
	if t.opt.Progress == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.opt.Progress(e)
}

func (t *tidier) module(ctx context.Context, m *workspace.Module, key string) Result {
	start := time.Now()
	var res Result
	if t.opt.Fix {
		res = t.fix(ctx, m)
	} else {
		res = t.check(ctx, m)
	}
	res.Module, res.Duration = m, time.Since(start)
	if t.memo != nil {
		switch res.Status {
		case Tidy:
			t.memo.put(key)
		case Fixed:
			t.memo.put(t.memo.key(m)) // the key of the files as fixed
		}
	}
	return res
}
