package vuln

import (
	"bytes"
	"context"
	"fmt"
	"go/build"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/vuln/scan"

	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/gocmd"
	"github.com/modhygiene/modhygiene/internal/modgraph"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

// The scan levels of x/vuln's -scan flag.
const (
	LevelModule  = "module"
	LevelPackage = "package"
	LevelSymbol  = "symbol"
)

// Options configure Scan. The zero value scans at symbol level against
// x/vuln's default database, one module at a time, without test files,
// loading each module's graph itself.
type Options struct {
	// DB is the database URL passed to x/vuln's -db flag; empty means
	// x/vuln's default database.
	DB string
	// Level is LevelModule, LevelPackage or LevelSymbol (the default).
	Level string
	// Tests also analyses test files.
	Tests bool
	// Env is the complete environment of the scan, used for the go command
	// x/vuln runs to load packages. It is never merged with the process's.
	Env []string
	// Runner runs the go command for `go env` and, for modules without a
	// graph in Graphs, to load the module graph.
	Runner *gocmd.Runner
	// Graphs are module graphs already loaded, such as check.Result.Graphs,
	// matched to the modules by Graph.Dir; nil entries are skipped. They
	// give the build list a module-level scan looks up and the path of each
	// finding (Graph.Chain, the path MH002 names too). A module without one
	// has its graph loaded with modgraph.Load, offline, as check loads it:
	// with GOWORK=off, and in the go.work workspace when that fails.
	// Graphs are only read; one made with modgraph.New computes its chains
	// on first use, so nothing else may use it while Scan runs.
	Graphs []*modgraph.Graph
	// Jobs is how many modules are scanned at once (1 when zero). A symbol
	// scan holds a module's whole program in memory, so more jobs trade
	// memory for time.
	Jobs int
	// Done, if set, is called after each module, from the goroutine that
	// scanned it; calls are serialised.
	Done func(*Result)
}

// Result is the outcome of scanning one module.
type Result struct {
	// Module is the module scanned.
	Module *workspace.Module
	// Level is the level it was scanned at.
	Level string
	// NoPackages is set when the module has no package to load under the
	// build constraints of the scan (no Go files, or only files behind
	// build tags such as a tools.go): it imports nothing, so its build
	// list was looked up instead, as at module level.
	NoPackages bool
	// Report is the parsed stream; nil when Err is set.
	Report *Report
	// Findings are Report's MH010 findings for Module.
	Findings []finding.Finding
	// Err is why the scan failed.
	Err error
	// Duration is the scan's wall time.
	Duration time.Duration
}

// Scan scans each module with x/vuln, at most opts.Jobs at a time, and
// returns one Result per module, in the order given. It fails only when
// the scan cannot start at all; a module's failure is in its Result.
func Scan(ctx context.Context, mods []*workspace.Module, opts Options) ([]Result, error) {
	switch opts.Level {
	case "":
		opts.Level = LevelSymbol
	case LevelModule, LevelPackage, LevelSymbol:
	default:
		return nil, fmt.Errorf("scan level %q: want module, package or symbol", opts.Level)
	}
	s, err := newScanner(ctx, opts)
	if err != nil {
		return nil, err
	}
	jobs := max(opts.Jobs, 1)
	results := make([]Result, len(mods))
	sem := make(chan struct{}, jobs)
	var wg sync.WaitGroup
	var doneMu sync.Mutex
	for i, m := range mods {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			results[i] = s.scanModule(ctx, m)
			if opts.Done != nil {
				doneMu.Lock()
				opts.Done(&results[i])
				doneMu.Unlock()
			}
		}()
	}
	wg.Wait()
	return results, nil
}

// scanner holds what every module's scan shares.
type scanner struct {
	opts   Options
	build  *build.Context
	graphs map[string]*modgraph.Graph
}

func newScanner(ctx context.Context, opts Options) (*scanner, error) {
	goenv := map[string]string{}
	if opts.Runner != nil {
		// One go env for the Go version x/vuln needs for standard library
		// entries (it would otherwise run `go env` itself, outside this
		// environment) and the build constraints of the scan.
		var err error
		goenv, err = opts.Runner.GoEnv(ctx, "", "GOVERSION", "GOOS", "GOARCH", "CGO_ENABLED", "GOFLAGS")
		if err != nil {
			return nil, err
		}
	}
	if gocmd.Lookup(opts.Env, "GOVERSION") == "" && goenv["GOVERSION"] != "" {
		opts.Env = gocmd.Merge(opts.Env, []string{"GOVERSION=" + goenv["GOVERSION"]})
	}
	get := func(k string) string {
		if v, ok := goenv[k]; ok && k != "GOVERSION" {
			return v
		}
		return gocmd.Lookup(opts.Env, k)
	}
	s := &scanner{opts: opts, build: buildContext(get), graphs: map[string]*modgraph.Graph{}}
	for _, g := range opts.Graphs {
		if g != nil {
			s.graphs[filepath.Clean(g.Dir)] = g
		}
	}
	return s, nil
}

// scanModule scans m: x/vuln on its packages, then the lookup of
// go.mod's requirements that x/vuln did not see; or, at module level and
// for a module without packages, the lookup of its whole build list. The
// findings' paths come from m's module graph.
func (s *scanner) scanModule(ctx context.Context, m *workspace.Module) (res Result) {
	start := time.Now()
	res = Result{Module: m, Level: s.opts.Level}
	defer func() { res.Duration = time.Since(start) }()
	level := res.Level
	if level != LevelModule && !hasPackages(m.Dir, s.build, s.opts.Tests) {
		res.NoPackages, level = true, levelNoPackages
	}
	var (
		rep = &Report{}
		g   *modgraph.Graph
		err error
	)
	if level == LevelModule || level == levelNoPackages {
		// Nothing is loaded: the build list is all there is to look up.
		if g, err = s.graph(ctx, m); err == nil {
			err = s.lookup(ctx, m, rep, buildList(g), level == LevelModule)
		}
	} else {
		rep, g, err = s.scanPackages(ctx, m, level)
	}
	if err != nil {
		res.Err = fmt.Errorf("%s: %w", m.GoModFile(), err)
		return res
	}
	res.Report = rep
	var chain func(string) []string
	if g != nil {
		chain = g.Chain
	}
	res.Findings = rep.Findings(m, level, chain)
	return res
}

// scanPackages runs x/vuln on m's packages and looks up the requirements
// it did not see, while m's graph loads beside it. The graph is nil when
// no finding needs a path or it cannot be loaded (the findings then only
// lack their paths). When x/vuln's go command changed go.mod or go.sum
// meanwhile (the user's GOFLAGS may say -mod=mod), the graph is loaded
// again: one listed before would lack what go.sum could not verify.
func (s *scanner) scanPackages(ctx context.Context, m *workspace.Module, level string) (*Report, *modgraph.Graph, error) {
	before := modFiles(m.Dir)
	gctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type loaded struct {
		g   *modgraph.Graph
		err error
	}
	gc := make(chan loaded, 1)
	go func() {
		g, err := s.graph(gctx, m)
		gc <- loaded{g, err}
	}()
	rep, err := ScanModule(ctx, m.Dir, level, s.opts)
	if err == nil {
		err = s.lookup(ctx, m, rep, requirements(m), false)
	}
	if err != nil || !needsPaths(rep) {
		cancel()
		<-gc
		return rep, nil, err
	}
	l := <-gc
	if !bytes.Equal(before, modFiles(m.Dir)) {
		l.g, l.err = s.graph(ctx, m)
	}
	return rep, l.g, nil
}

// modFiles returns the contents of go.mod and go.sum in dir, to tell
// whether they changed.
func modFiles(dir string) []byte {
	mod, _ := os.ReadFile(filepath.Join(dir, "go.mod"))
	sum, _ := os.ReadFile(filepath.Join(dir, "go.sum"))
	return append(append(mod, 0), sum...)
}

// needsPaths reports whether a vulnerability of rep is in a module, whose
// finding names a path (the standard library's does not).
func needsPaths(rep *Report) bool {
	for _, v := range rep.Vulns {
		if !isGo(v.Module) {
			return true
		}
	}
	return false
}

// ScanModule runs x/vuln in process on the module in dir at level and
// parses its JSON stream.
func ScanModule(ctx context.Context, dir, level string, opts Options) (*Report, error) {
	args := []string{"-C", dir, "-format", "json", "-scan", level}
	if opts.DB != "" {
		args = append(args, "-db", opts.DB)
	}
	if opts.Tests && level != LevelModule {
		args = append(args, "-test")
	}
	if level != LevelModule {
		args = append(args, "./...")
	}
	return runScan(ctx, args, opts.Env)
}

// runScan runs x/vuln with args, which must ask for JSON. Its stdout is
// piped straight into the parser, so the stream is never held whole in
// memory.
func runScan(ctx context.Context, args []string, env []string) (*Report, error) {
	var stderr bytes.Buffer
	pr, pw := io.Pipe()
	cmd := scan.Command(ctx, args...)
	cmd.Stdin = bytes.NewReader(nil)
	cmd.Stdout = pw
	cmd.Stderr = &limitedBuffer{buf: &stderr, max: 64 << 10}
	cmd.Env = env
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() {
		err := cmd.Wait()
		pw.CloseWithError(err)
		done <- err
	}()
	rep, perr := Parse(pr)
	if perr != nil {
		pr.CloseWithError(perr)
	}
	werr := <-done
	if werr != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg != "" {
			return nil, fmt.Errorf("x/vuln: %w\n%s", werr, msg)
		}
		return nil, fmt.Errorf("x/vuln: %w", werr)
	}
	if perr != nil {
		return nil, perr
	}
	return rep, nil
}

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	mu  sync.Mutex
	buf *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := l.max - l.buf.Len(); room > 0 {
		l.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
