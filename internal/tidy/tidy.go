package tidy

import (
	"context"
	"fmt"
	"runtime"
	"sort"
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
	// Memo, if set, is the memo to consult and record into; the caller
	// saves it (Memo.Save) and may export it (Memo.MarshalEntries).
	Memo *Memo
	// MemoDir, used when Memo is nil, is the directory of a memo that Run
	// opens and saves itself; empty (with Memo nil) disables the memo.
	MemoDir string
	// NoPrefetch skips downloading the union of requirements first.
	NoPrefetch bool
	// Progress, if set, is called when a module starts and when it ends.
	// Calls are serialised.
	Progress func(Event)
	// Warn, if set, receives problems that change no result, such as a
	// memo that could not be read or saved. Calls are serialised.
	Warn func(msg string)
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
	// MemoFrom is the label of the imported entry that matched (the ref
	// given to Memo.Import), empty when the entry was made on this machine
	// or Memo is false.
	MemoFrom string
	// Diff is the unified diff of go.mod and go.sum (Untidy and Fixed).
	Diff string
	// Err is the go command's failure (Failed). Its text names the
	// module's own files, never a temporary copy.
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
// when the run itself could not proceed (the context was cancelled); every
// temporary file is removed before Run returns, cancelled or not.
func Run(ctx context.Context, r *gocmd.Runner, ws *workspace.Workspace, opt Options) ([]Result, error) {
	jobs := opt.Jobs
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	t := &tidier{r: r, opt: opt, env: tidyEnv(r.Env, jobs), memo: opt.Memo}
	if t.memo == nil && opt.MemoDir != "" {
		memo, err := OpenMemo(opt.MemoDir)
		if err != nil {
			t.warn(err.Error())
		}
		t.memo = memo
		defer func() {
			if err := memo.Save(); err != nil {
				t.warn(err.Error())
			}
		}()
	}
	results := make([]Result, len(ws.Modules))
	pending := t.memoPass(ctx, ws.Modules, results, jobs)
	if !opt.NoPrefetch && len(pending) > 0 {
		t.prefetch(ctx, pick(ws.Modules, pending))
	}
	t.runPending(ctx, ws.Modules, pending, results, jobs)
	return results, ctx.Err()
}

// memoPass reads the Go environment and, with a memo, every module's key,
// at once; it fills results for the modules the memo knows to be tidy and
// returns the indexes of the modules to check, biggest first.
func (t *tidier) memoPass(ctx context.Context, mods []*workspace.Module, results []Result, jobs int) []int {
	t.keys = make([]string, len(mods))
	names := append([]string{"GOMODCACHE"}, memoEnv...)
	var goenv map[string]string
	var enverr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		goenv, enverr = t.r.GoEnv(ctx, "", names...)
	}()
	if t.memo != nil {
		t.hasher = newHasher(t.memo.stats)
		t.hashAll(mods, jobs)
	}
	wg.Wait()
	if enverr != nil {
		t.memo = nil // without the Go version no key can be trusted
	} else {
		t.modCache, t.goEnv = goenv["GOMODCACHE"], renderEnv(goenv)
	}
	var pending []int
	for i, m := range mods {
		start := time.Now()
		if t.memo != nil {
			t.keys[i] = moduleKey(t.hasher, t.goEnv, m)
			if e, ok := t.memo.lookup(t.keys[i]); t.keys[i] != "" && ok {
				results[i] = Result{Module: m, Status: Tidy, Memo: true, MemoFrom: e.From, Duration: time.Since(start)}
				t.report(Event{Module: m, Done: true, Result: &results[i]})
				continue
			}
		}
		pending = append(pending, i)
	}
	t.biggestFirst(mods, pending)
	return pending
}

// hashAll computes the digest of every module directory and local replace
// target, each once, jobs at a time.
func (t *tidier) hashAll(mods []*workspace.Module, jobs int) {
	seen := map[string]bool{}
	var dirs []string
	for _, m := range mods {
		for _, d := range append([]string{m.Dir}, replaceDirs(m)...) {
			if !seen[d] {
				seen[d] = true
				dirs = append(dirs, d)
			}
		}
	}
	work := make(chan string)
	var wg sync.WaitGroup
	for range min(jobs, len(dirs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range work {
				t.hasher.dir(d)
			}
		}()
	}
	for _, d := range dirs {
		work <- d
	}
	close(work)
	wg.Wait()
}

func replaceDirs(m *workspace.Module) []string {
	var dirs []string
	for _, r := range m.LocalReplaces() {
		dirs = append(dirs, r.Dir)
	}
	return dirs
}

// biggestFirst orders the pending modules by the size of their go.sum,
// largest first, so that the longest tidies do not start last and leave
// the other jobs idle at the end.
func (t *tidier) biggestFirst(mods []*workspace.Module, pending []int) {
	size := make(map[int]int64, len(pending))
	for _, i := range pending {
		size[i] = sumSize(t.hasher, mods[i])
	}
	sort.SliceStable(pending, func(a, b int) bool { return size[pending[a]] > size[pending[b]] })
}

// runPending tidies the pending modules, at most jobs at a time, in order.
func (t *tidier) runPending(ctx context.Context, mods []*workspace.Module, pending []int, results []Result, jobs int) {
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(jobs, len(pending)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				m := mods[i]
				t.report(Event{Module: m})
				results[i] = t.module(ctx, m, t.keys[i])
				t.report(Event{Module: m, Done: true, Result: &results[i]})
			}
		}()
	}
	for _, i := range pending {
		work <- i
	}
	close(work)
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
	r      *gocmd.Runner
	opt    Options
	env    []string
	memo   *Memo
	hasher *hasher
	// keys are the modules' memo keys, in the order of the workspace.
	keys []string
	// goEnv is the rendered memoEnv.
	goEnv string
	mu    sync.Mutex
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

func (t *tidier) warn(msg string) {
	if t.opt.Warn == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.opt.Warn(msg)
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
			t.memo.put(key, m.Rel)
		case Fixed:
			t.hasher.forget(m.Dir) // the key of the files as fixed
			t.memo.put(moduleKey(t.hasher, t.goEnv, m), m.Rel)
		}
	}
	return res
}
