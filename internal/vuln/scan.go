package vuln

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/semver"
	"golang.org/x/vuln/scan"

	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/gocmd"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

// The scan levels of x/vuln's -scan flag.
const (
	LevelModule  = "module"
	LevelPackage = "package"
	LevelSymbol  = "symbol"
)

// Options configure Scan. The zero value scans at symbol level against
// x/vuln's default database, one module at a time, without test files.
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
	// Runner runs the go command for `go env GOVERSION` and `go mod graph`.
	Runner *gocmd.Runner
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
	// Level is the level it was scanned at. A module without Go files
	// imports nothing: only its requirements are looked up.
	Level string
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
	if gocmd.Lookup(opts.Env, "GOVERSION") == "" && opts.Runner != nil {
		// x/vuln needs the Go version for standard library entries; it
		// would otherwise run `go env` itself, outside this environment.
		env, err := opts.Runner.GoEnv(ctx, "", "GOVERSION")
		if err != nil {
			return nil, err
		}
		opts.Env = gocmd.Merge(opts.Env, []string{"GOVERSION=" + env["GOVERSION"]})
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
			results[i] = scanModule(ctx, m, opts)
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

func scanModule(ctx context.Context, m *workspace.Module, opts Options) Result {
	start := time.Now()
	res := Result{Module: m, Level: opts.Level}
	var rep *Report
	// At module level nothing is loaded: x/vuln's own module level would
	// load the package in the module's root directory only. The
	// requirements are looked up instead (addRequired).
	if res.Level != LevelModule && hasGoFiles(m.Dir) {
		var err error
		rep, err = ScanModule(ctx, m.Dir, res.Level, opts)
		if err != nil {
			res.Duration = time.Since(start)
			res.Err = fmt.Errorf("%s: %w", m.GoModFile(), err)
			return res
		}
	} else {
		// No package to load, so nothing is imported: only the
		// requirements can be checked.
		rep = &Report{}
	}
	if err := addRequired(ctx, m, rep, opts); err != nil {
		res.Err = fmt.Errorf("%s: %w", m.GoModFile(), err)
		return res
	}
	res.Report = rep
	var paths func(string) []string
	if opts.Runner != nil && needsPaths(rep) {
		if g, err := moduleGraph(ctx, opts.Runner, m.Dir); err == nil {
			g.skipIndirect(m)
			paths = g.path
		}
	}
	res.Findings = rep.Findings(m, res.Level, paths)
	res.Duration = time.Since(start)
	return res
}

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

// addRequired adds to rep, as only Required, the vulnerabilities of the
// modules m's go.mod requires that the scan loaded no package from: x/vuln
// looks only at modules that provide packages to the build, so a vulnerable
// module that is required but not imported would otherwise go unreported.
// They are looked up with x/vuln's query mode, against the same database.
func addRequired(ctx context.Context, m *workspace.Module, rep *Report, opts Options) error {
	if m.File == nil {
		return nil
	}
	seen := map[string]bool{}
	for _, mi := range rep.Modules {
		seen[mi.Path] = true
	}
	for _, v := range rep.Vulns {
		seen[v.Module] = true
	}
	for _, r := range m.File.Replace {
		seen[r.Old.Path] = true // x/vuln sees the replacement, if anything
	}
	var queries []string
	var reqs []ModuleInfo
	for _, r := range m.File.Require {
		p, v := r.Mod.Path, r.Mod.Version
		if seen[p] || !semver.IsValid(v) {
			continue
		}
		seen[p] = true
		queries = append(queries, p+"@"+v)
		reqs = append(reqs, ModuleInfo{Path: p, Version: v})
	}
	if rep.Config.ScanLevel == "" {
		// Nothing was scanned (module level, or no Go files): the
		// standard library of the Go version is required as well.
		if gv := goSemver(gocmd.Lookup(opts.Env, "GOVERSION")); gv != "" && opts.Level == LevelModule {
			queries = append(queries, "stdlib@"+gv)
			reqs = append(reqs, ModuleInfo{Path: "stdlib", Version: gv})
		}
	}
	if len(queries) == 0 {
		return nil
	}
	args := []string{"-mode", "query", "-format", "json"}
	if opts.DB != "" {
		args = append(args, "-db", opts.DB)
	}
	q, err := runScan(ctx, append(args, queries...), opts.Env)
	if err != nil {
		return err
	}
	now := time.Now()
	for _, e := range q.Entries {
		if e.Withdrawn != nil && e.Withdrawn.Before(now) {
			continue
		}
		for _, r := range reqs {
			if e.affects(r.Path, r.Version) {
				rep.Vulns = append(rep.Vulns, &Vuln{ID: e.ID, Entry: e, Module: r.Path, Version: r.Version,
					Fixed: e.earliestFix(r.Path, r.Version), Reach: Required})
			}
		}
	}
	rep.sort()
	return nil
}

// goSemver turns a Go version (go1.22.5, go1.23rc1, go1.21.0 X:boringcrypto)
// into the semantic version x/vuln uses for the standard library, or "".
func goSemver(v string) string {
	v, _, _ = strings.Cut(v, " ")
	v = strings.TrimPrefix(v, "go")
	if v == "" {
		return ""
	}
	for _, pre := range []string{"rc", "beta"} {
		if i := strings.Index(v, pre); i > 0 {
			v = v[:i] + "-" + v[i:]
			break
		}
	}
	main, pre, _ := strings.Cut(v, "-")
	if strings.Count(main, ".") == 1 {
		main += ".0"
	}
	out := "v" + main
	if pre != "" {
		out += "-" + pre
	}
	if !semver.IsValid(out) {
		return ""
	}
	return out
}

// hasGoFiles reports whether the module in dir has a non-test Go file
// outside nested modules and the directories the go command ignores.
func hasGoFiles(dir string) bool {
	found := errors.New("found")
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if p == dir {
				return nil
			}
			if workspace.Skip(d.Name()) {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(d.Name(), ".go") && !strings.HasSuffix(d.Name(), "_test.go") {
			return found
		}
		return nil
	})
	return err == found
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
