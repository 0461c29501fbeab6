package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/modhygiene/modhygiene/internal/exitcode"
	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/report"
	"github.com/modhygiene/modhygiene/internal/tidy"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

type tidyFlags struct {
	fix    bool
	jobs   int
	dir    string
	noMemo bool
	report reportFlags
}

func init() {
	var f tidyFlags
	register(&command{
		name:  "tidy",
		short: "run go mod tidy for every module, as a check or a fix",
		usage: "tidy [--fix] [--jobs N] [--dir DIR] [--format text|json] [--no-memo] [MODULE_DIR...]",
		long: `Runs go mod tidy for every module of the repository in parallel (the modules
of go.work, else every go.mod below --dir). The default check mode writes
nothing and reports each untidy module as a finding of rule MH001 with its
diff; --fix rewrites go.mod and go.sum of untidy modules, each replaced
atomically, and leaves a module whose tidy fails exactly as it was.

A memo under the user cache directory skips modules whose inputs are
unchanged since they were last found tidy; --no-memo turns it off.

Exit codes: 0 all tidy (or fixed), 1 a module is untidy, 2 usage error,
3 tidy could not run for a module (the go command's message is shown).`,
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&f.fix, "fix", false, "rewrite go.mod and go.sum of untidy modules")
			fs.IntVar(&f.jobs, "jobs", 0, "how many modules to tidy at once (0: the number of CPUs)")
			fs.StringVar(&f.dir, "dir", "", "the repository root to search for modules (default: the current directory)")
			fs.BoolVar(&f.noMemo, "no-memo", false, "check every module even if its inputs are unchanged since it was last found tidy")
			f.report.define(fs)
		},
		run: func(ctx context.Context, a *app, args []string) error { return a.runTidy(ctx, &f, args) },
	})
}

func (a *app) runTidy(ctx context.Context, f *tidyFlags, args []string) error {
	if f.jobs < 0 {
		return exitcode.UsageError(errors.New("tidy: --jobs must not be negative"))
	}
	ws, cfg, err := a.loadWorkspace(f.dir, args)
	if err != nil {
		return err
	}
	opt := tidy.Options{Fix: f.fix, Jobs: f.jobs, Progress: a.tidyProgress(len(ws.Modules))}
	if !f.noMemo {
		opt.MemoDir, _ = a.toolCacheDir("tidy-memo")
	}
	start := time.Now()
	results, err := tidy.Run(ctx, a.goRunner(), ws, opt)
	if err != nil {
		return exitcode.FailureError(err)
	}
	a.finishProgress()
	stage, findings, failed := tidyOutcome(results, time.Since(start))
	a.reportFixed(results)
	out := &outcome{command: "tidy", header: report.Header{Command: "tidy", Modules: moduleInfos(ws)},
		stages: []report.Stage{stage}, findings: findings, config: cfg}
	emitErr := a.emit(&f.report, out)
	if len(failed) > 0 {
		a.reportTidyFailures(failed)
		return silent(exitcode.Failure)
	}
	return emitErr
}

// reportTidyFailures prints the modules tidy could not run for, with the go
// command's message.
func (a *app) reportTidyFailures(failed []tidy.Result) {
	for _, r := range failed {
		fmt.Fprintf(a.stderr, "modhygiene: tidy could not run for %s (%s): %s\n", r.Module.Name(), r.Module.GoModFile(), goMessage(r.Err, r.Module))
	}
}

// goMessage is the go command's message in err with its positions in m's
// files ("go.mod:3") made repository-relative ("svc/go.mod:3").
func goMessage(err error, m *workspace.Module) string {
	return goFilePosRE.ReplaceAllString(err.Error(), "${1}"+relDir(m.Rel)+"${2}")
}

// goFilePosRE matches the go command's positions in a module's files
// ("go.mod:3:"), which are relative to the module directory.
var goFilePosRE = regexp.MustCompile(`(?m)(^|\s)((?:go\.mod|go\.sum):\d+)`)

// relDir returns rel as a prefix for file names ("" for the root).
func relDir(rel string) string {
	if rel == "." || rel == "" {
		return ""
	}
	return rel + "/"
}

// tidyOutcome turns results into the tidy stage, its findings and the
// modules whose tidy failed.
func tidyOutcome(results []tidy.Result, d time.Duration) (report.Stage, []finding.Finding, []tidy.Result) {
	var fs []finding.Finding
	var failed []tidy.Result
	var untidy []string
	fixed := 0
	for i := range results {
		switch r := &results[i]; r.Status {
		case tidy.Untidy:
			fs = append(fs, r.Finding())
			untidy = append(untidy, r.Module.Rel)
		case tidy.Failed:
			failed = append(failed, *r)
		case tidy.Fixed:
			fixed++
		}
	}
	st := report.Stage{Name: "tidy", Duration: d, Status: "ok",
		Outputs: map[string]string{"untidy-modules": strings.Join(untidy, " ")}}
	st.Summary = fmt.Sprintf("%d modules: %d untidy, %d fixed, %d failed", len(results), len(untidy), fixed, len(failed))
	switch {
	case len(failed) > 0:
		st.Status = "failed"
	case len(untidy) > 0:
		st.Status = "findings"
	}
	return st, fs, failed
}

func (a *app) reportFixed(results []tidy.Result) {
	for _, r := range results {
		if r.Status != tidy.Fixed {
			continue
		}
		var parts []string
		for _, c := range tidy.ParseDiff(r.Diff) {
			parts = append(parts, c.Summary())
		}
		fmt.Fprintf(a.stderr, "fixed %s (%s)\n", r.Module.GoModFile(), strings.Join(parts, ", "))
	}
}
