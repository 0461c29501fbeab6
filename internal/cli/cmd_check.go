package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/modhygiene/modhygiene/internal/check"
	"github.com/modhygiene/modhygiene/internal/config"
	"github.com/modhygiene/modhygiene/internal/envcheck"
	"github.com/modhygiene/modhygiene/internal/exitcode"
	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/report"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

type checkFlags struct {
	dir     string
	offline bool
	jobs    int
	report  reportFlags
}

func init() {
	var f checkFlags
	register(&command{
		name:  "check",
		short: "find duplicate majors, twins, family skew, drift, deprecated and retracted versions",
		usage: "check [--dir DIR] [--offline] [--jobs N] [--format text|json] [--fail-on info|warning|error|never] [MODULE_DIR...]",
		long: `Analyses the module graph of every module of the repository (the modules of
go.work, else every go.mod below --dir), each as it builds on its own:

  MH002 duplicate-major     one module at several major versions
  MH003 renamed-twin        the same code under two module paths
  MH004 family-skew         modules released together at different versions
  MH005 cross-module-drift  modules of the repository select different versions
  MH006 deprecated          a module is deprecated upstream
  MH007 retracted           a selected version is retracted
  MH008 directive           replace, exclude, go and toolchain lines out of place
  MH009 environment         GOSUMDB=off, GOINSECURE, GOPROXY=direct alone, ...

Each finding names the go.mod line to change, the dependency path that
brings the module in, and the command that fixes it. MH006 and MH007 ask the
module proxy (go list -m -u); with --offline, or when the proxy cannot be
reached, they are skipped with a notice (modules missing from the module
cache are still downloaded as the go command needs them). Nothing is
written: go.mod and go.sum should be tidy (see 'modhygiene tidy').

.modhygiene.yaml at the repository root sets rule severities, ignores, and
extra twins and families.

Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage or
configuration error, 3 the module graph of a module could not be loaded
(the other modules are still reported).`,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&f.dir, "dir", "", "the repository root to search for modules (default: the current directory)")
			fs.BoolVar(&f.offline, "offline", false, "do not ask the module proxy for deprecations and retractions: skip MH006 and MH007")
			fs.IntVar(&f.jobs, "jobs", max(2, runtime.NumCPU()), "how many modules to load at once")
			f.report.define(fs)
		},
		run: func(ctx context.Context, a *app, args []string) error { return a.runCheck(ctx, &f, args) },
	})
}

func (a *app) runCheck(ctx context.Context, f *checkFlags, args []string) error {
	if f.jobs < 1 {
		return exitcode.UsageError(fmt.Errorf("check: --jobs must be at least 1"))
	}
	ws, cfg, err := a.loadWorkspace(f.dir, args)
	if err != nil {
		return err
	}
	stage, fs, err := a.checkStage(ctx, ws, cfg, check.Options{Offline: f.offline, Concurrency: f.jobs}, nil)
	if err != nil && !errors.Is(err, errCheckIncomplete) {
		return err
	}
	out := &outcome{command: "check", header: report.Header{Command: "check", Modules: moduleInfos(ws)},
		stages: []report.Stage{stage}, findings: fs, config: cfg}
	emitErr := a.emit(&f.report, out)
	if err != nil {
		return err
	}
	return emitErr
}

// errCheckIncomplete is returned by checkStage with the stage and the
// findings of the modules that could be loaded, when others could not: the
// caller reports what it has and exits 3. The failures are already printed.
var errCheckIncomplete = &exitcode.Error{Code: exitcode.Failure, Err: fmt.Errorf("check incomplete: %w", errSilent)}

// reportCheckFailures prints the modules whose graph could not be loaded,
// with the go command's positions made repository-relative.
func (a *app) reportCheckFailures(failed []check.ModuleError) {
	for _, f := range failed {
		fmt.Fprintf(a.stderr, "modhygiene: check could not load the module graph of %s (%s): %s\n", f.Module.Name(), f.Module.GoModFile(), goMessage(f.Err, f.Module))
	}
}

// checkStage runs the graph rules and the environment rule (MH009) over ws
// and describes them as the "check" stage; notices go to stderr. keep, when
// set, selects the findings to report.
func (a *app) checkStage(ctx context.Context, ws *workspace.Workspace, cfg *config.File, opt check.Options, keep func(*finding.Finding) bool) (report.Stage, []finding.Finding, error) {
	if err := addConfigTables(&opt, cfg); err != nil {
		return report.Stage{}, nil, exitcode.UsageError(err)
	}
	start := time.Now()
	r := a.goRunner()
	var (
		wg     sync.WaitGroup
		env    map[string]string
		envErr error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		env, envErr = r.GoEnv(ctx, ws.Root, envcheck.Vars...)
	}()
	res, err := check.Run(ctx, r, ws, opt)
	wg.Wait()
	if err != nil {
		if res != nil && len(res.Failed) > 0 {
			a.reportCheckFailures(res.Failed)
			return report.Stage{}, nil, silent(exitcode.Failure)
		}
		return report.Stage{}, nil, exitcode.FailureError(err)
	}
	fs := res.Findings
	if envErr != nil {
		res.Notices = append(res.Notices, "MH009 environment skipped: "+firstLine(envErr.Error()))
	} else {
		fs = append(fs, envcheck.Findings(envcheck.FromGoEnv(env), envcheck.RequiredPaths(ws))...)
	}
	if keep != nil {
		kept := fs[:0]
		for i := range fs {
			if keep(&fs[i]) {
				kept = append(kept, fs[i])
			}
		}
		fs = kept
	}
	for _, n := range res.Notices {
		fmt.Fprintf(a.stderr, "modhygiene: notice: %s\n", n)
	}
	stage := report.Stage{Name: "check", Duration: time.Since(start), Status: "ok",
		Summary: fmt.Sprintf("%d modules, %d findings", len(ws.Modules), len(fs))}
	if len(fs) > 0 {
		stage.Status = "findings"
	}
	if len(res.Notices) > 0 {
		stage.Summary += "; " + strings.Join(res.Notices, "; ")
		if len(fs) == 0 {
			stage.Status = "warning"
		}
	}
	if len(res.Failed) > 0 {
		stage.Status = "failed"
		stage.Summary += fmt.Sprintf("; %d modules could not be loaded", len(res.Failed))
		a.reportCheckFailures(res.Failed)
		return stage, fs, errCheckIncomplete
	}
	return stage, fs, nil
}

// addConfigTables adds the configuration file's twins and families to opt.
func addConfigTables(opt *check.Options, cfg *config.File) error {
	if cfg == nil {
		return nil
	}
	for _, t := range cfg.Twins {
		if t.Old == "" || t.New == "" {
			return fmt.Errorf("%s: twins: an entry needs old and new module paths", config.FileName)
		}
		opt.Twins = append(opt.Twins, check.Twin{Old: t.Old, New: t.New, Reason: t.Reason})
	}
	for _, fam := range cfg.Families {
		m := check.Match(strings.ToLower(fam.Match))
		switch m {
		case "":
			m = check.Exact
		case check.Exact, check.Minor, check.K8s, check.Stable, check.Independent:
		default:
			return fmt.Errorf("%s: families: %s: match %q: want exact, minor, k8s, stable or independent", config.FileName, fam.Name, fam.Match)
		}
		if len(fam.Prefixes) == 0 && len(fam.Modules) == 0 {
			return fmt.Errorf("%s: families: %s: a family needs prefixes or modules", config.FileName, fam.Name)
		}
		name := fam.Name
		if name == "" {
			name = "configured"
		}
		opt.Families = append(opt.Families, check.Family{Name: name, Prefixes: fam.Prefixes, Modules: fam.Modules, Match: m})
	}
	return nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
