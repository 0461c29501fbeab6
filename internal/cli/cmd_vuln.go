package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/modhygiene/modhygiene/internal/exitcode"
	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/report"
	"github.com/modhygiene/modhygiene/internal/vuln"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

// vulnFlags are the flags of `modhygiene vuln`.
type vulnFlags struct {
	rf    reportFlags
	dir   string
	db    string
	level string
	tests bool
	jobs  int
}

func init() {
	var f vulnFlags
	register(&command{
		name:  "vuln",
		short: "find known vulnerabilities with golang.org/x/vuln, on the require line to change",
		usage: "vuln [--dir DIR] [--db SOURCE] [--scan module|package|symbol] [--format ...] [MODULE_DIR...]",
		long: `Scans every module of the repository (or the MODULE_DIRs given) with
golang.org/x/vuln, in process, one module at a time (--jobs for more), and
reports each vulnerability as MH010 on the go.mod line that requires the
vulnerable module, with its OSV ID, summary, fixed version and the go get
command that upgrades to it. Severity: error when a vulnerable function is
called, warning when its package is imported, info when the module is only
required (go.mod requirements that no package imports are looked up too).
Standard library entries are reported on the toolchain or go line.

--scan package stops at imports; --scan module loads no package at all and
looks up go.mod's requirements and the Go version only.

Databases (--db):
  official          x/vuln's default database (needs its web site)
  module            built from the golang.org/x/vulndb module fetched through
                    GOPROXY like any module, under the user cache directory
                    (modhygiene/vulndb), rebuilt only when the version changes
  module@VERSION    the same, pinned to one version of golang.org/x/vulndb
  file:///path      a directory in the standard layout (index/db.json,
                    index/modules.json, ID/<id>.json)
  https://host/...  a server with the same layout

Ignore a vulnerability in .modhygiene.yaml:

  ignore:
    - id: GO-2022-1059
      reason: the header never reaches ParseAcceptLanguage
      expires: 2026-12-31   # optional; afterwards it is reported again`,
		flags: func(fs *flag.FlagSet) {
			f = vulnFlags{}
			f.rf.define(fs)
			fs.StringVar(&f.dir, "dir", ".", "repository `DIR` whose modules are scanned")
			fs.StringVar(&f.db, "db", "official", "vulnerability database `SOURCE`: official, module, module@VERSION, file:///path or an http(s) URL")
			fs.StringVar(&f.level, "scan", vuln.LevelSymbol, "scan `level`: module, package or symbol")
			fs.BoolVar(&f.tests, "test", false, "also analyse test files")
			fs.IntVar(&f.jobs, "jobs", 1, "modules scanned at once (a symbol scan holds a module's program in memory)")
		},
		run: func(ctx context.Context, a *app, args []string) error { return a.runVuln(ctx, &f, args) },
	})
}

func (a *app) runVuln(ctx context.Context, f *vulnFlags, args []string) error {
	if _, err := report.ParseFailOn(f.rf.failOn); err != nil {
		return exitcode.UsageError(err)
	}
	// A scan can take minutes: refuse an unknown format before it.
	if _, err := report.New(f.rf.format, io.Discard, report.Options{}); err != nil {
		return exitcode.UsageError(err)
	}
	ws, cfg, err := a.loadWorkspace(f.dir, args)
	if err != nil {
		return err
	}
	opts := vulnOptions{db: f.db, level: f.level, tests: f.tests, jobs: f.jobs}
	stage, fs, failed, err := a.vulnStage(ctx, ws, opts)
	if err != nil {
		return err
	}
	out := &outcome{command: "vuln", stages: []report.Stage{stage}, findings: fs, config: cfg}
	out.header.Modules = moduleInfos(ws)
	emitErr := a.emit(&f.rf, out)
	if len(failed) > 0 {
		for _, e := range failed {
			fmt.Fprintf(a.stderr, "modhygiene: vuln: %v\n", e)
		}
		if src, _ := vuln.ParseSource(opts.db, a.cwd); src.Kind == vuln.Official {
			fmt.Fprintln(a.stderr, "modhygiene: vuln: if the official database cannot be reached from here, --db module fetches it through GOPROXY like any module")
		}
		return silent(exitcode.Failure)
	}
	return emitErr
}

// vulnOptions are the settings of the vuln stage; the zero value of each
// field but db and level is the default.
type vulnOptions struct {
	// db is the --db value ("" or "official" for x/vuln's default).
	db string
	// level is the --scan value ("" for symbol).
	level string
	tests bool
	jobs  int
}

// vulnStage runs the vuln stage on ws: it prepares the database, scans each
// module and returns the stage, the findings (configuration not yet
// applied) and the modules that could not be scanned. The error is a usage
// error for bad options, a failure when no scan could start.
func (a *app) vulnStage(ctx context.Context, ws *workspace.Workspace, o vulnOptions) (report.Stage, []finding.Finding, []error, error) {
	start := time.Now()
	stage := report.Stage{Name: "vuln", Outputs: map[string]string{}}
	switch o.level {
	case "":
		o.level = vuln.LevelSymbol
	case vuln.LevelModule, vuln.LevelPackage, vuln.LevelSymbol:
	default:
		return stage, nil, nil, exitcode.UsageError(fmt.Errorf("--scan %q: want module, package or symbol", o.level))
	}
	if o.jobs < 0 {
		return stage, nil, nil, exitcode.UsageError(fmt.Errorf("--jobs %d: want at least 1", o.jobs))
	}
	src, err := vuln.ParseSource(o.db, a.cwd)
	if err != nil {
		return stage, nil, nil, exitcode.UsageError(err)
	}
	dbURL := src.URL
	if src.Kind == vuln.Module {
		dir, err := a.toolCacheDir("vulndb")
		if err != nil {
			return stage, nil, nil, exitcode.FailureError(fmt.Errorf("--db module: %w", err))
		}
		mdb := &vuln.ModuleDB{Runner: a.goRunner(), Dir: dir, Version: src.Version}
		db, err := mdb.Prepare(ctx)
		if err != nil {
			return stage, nil, nil, exitcode.FailureError(fmt.Errorf("--db module: %w", err))
		}
		if db.Stale != nil {
			fmt.Fprintf(a.stderr, "modhygiene: warning: %v; using the database built from %s@%s\n", db.Stale, vuln.VulnDBModule, db.Version)
		}
		dbURL = db.URL
		stage.Outputs["vulndb-dir"] = db.Dir
		stage.Outputs["vulndb-version"] = db.Version
		stage.Outputs["vulndb-built"] = fmt.Sprint(db.Built)
	}
	results, err := vuln.Scan(ctx, ws.Modules, vuln.Options{
		DB:     dbURL,
		Level:  o.level,
		Tests:  o.tests,
		Env:    a.env,
		Runner: a.goRunner(),
		Jobs:   o.jobs,
		Done: func(r *vuln.Result) {
			status := fmt.Sprintf("%d found", len(r.Findings))
			if r.Err != nil {
				status = "failed"
			}
			fmt.Fprintf(a.stderr, "vuln %-40s %-9s %s\n", r.Module.Rel, status, r.Duration.Round(time.Millisecond))
		},
	})
	if err != nil {
		return stage, nil, nil, exitcode.FailureError(err)
	}
	var (
		fs     []finding.Finding
		failed []error
		hit    int
	)
	for _, r := range results {
		if r.Err != nil {
			failed = append(failed, r.Err)
			continue
		}
		if len(r.Findings) > 0 {
			hit++
		}
		fs = append(fs, r.Findings...)
	}
	stage.Duration = time.Since(start)
	stage.Summary = fmt.Sprintf("%d %s in %d of %d %s", len(fs), vulnPlural(len(fs), "vulnerability", "vulnerabilities"), hit, len(results), vulnPlural(len(results), "module", "modules"))
	switch {
	case len(failed) > 0:
		stage.Status = "failed"
		stage.Summary += fmt.Sprintf("; %d could not be scanned", len(failed))
	case len(fs) > 0:
		stage.Status = "findings"
	default:
		stage.Status = "ok"
	}
	return stage, fs, failed, nil
}

func vulnPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
