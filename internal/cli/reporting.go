package cli

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/modhygiene/modhygiene/internal/ci"
	"github.com/modhygiene/modhygiene/internal/exitcode"
	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/report"
	"github.com/modhygiene/modhygiene/internal/report/github"
	"github.com/modhygiene/modhygiene/internal/report/gitlab"
	"github.com/modhygiene/modhygiene/internal/stage"
)

// reportFlags are the flags of every command that produces findings.
type reportFlags struct {
	format          string
	jsonFile        string
	sarifFile       string
	codequalityFile string
	failOn          string
	baseline        string
	ciReport        string
	onlyNew         bool
}

func (r *reportFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&r.format, "format", "text", "output format on stdout: "+strings.Join(report.Formats, ", "))
	fs.StringVar(&r.jsonFile, "json", "", "also write the canonical JSON stream to `FILE`")
	fs.StringVar(&r.sarifFile, "sarif", "", "also write SARIF 2.1.0 (for GitHub code scanning) to `FILE`")
	fs.StringVar(&r.codequalityFile, "codequality", "", "also write a GitLab Code Quality report to `FILE` (on GitLab the default is "+defaultCodeQualityFile+")")
	fs.StringVar(&r.failOn, "fail-on", "warning", "lowest severity that makes the exit code 1: info, warning, error or never")
	fs.StringVar(&r.baseline, "baseline", "", "a JSON stream from the base branch: its findings are reported as existing and do not fail the run")
	fs.StringVar(&r.ciReport, "ci-report", "auto", "CI reporters: auto (GitHub annotations, job summary and outputs; GitLab Code Quality file and merge-request note) or off")
	fs.BoolVar(&r.onlyNew, "only-new", false, "in a pull or merge request, report only findings on the lines it changes and not in --baseline")
}

// defaultCodeQualityFile is the Code Quality report written on GitLab
// unless --codequality names another file.
const defaultCodeQualityFile = "gl-code-quality-report.json"

// reporting is the report settings, resolved and checked once, before any
// stage runs.
type reporting struct {
	flags  reportFlags
	failOn report.FailOn
	// ci says whether the CI platform's reporters run.
	ci bool
}

// resolve checks the report flags; problems are usage errors.
func (r *reportFlags) resolve() (*reporting, error) {
	failOn, err := report.ParseFailOn(r.failOn)
	if err != nil {
		return nil, exitcode.UsageError(err)
	}
	if r.ciReport != "auto" && r.ciReport != "off" {
		return nil, exitcode.UsageError(fmt.Errorf("--ci-report %q: want auto or off", r.ciReport))
	}
	if _, err := report.New(r.format, io.Discard, report.Options{}); err != nil {
		return nil, exitcode.UsageError(err)
	}
	return &reporting{flags: *r, failOn: failOn, ci: r.ciReport == "auto"}, nil
}

// outcome is what a command produced, ready to be reported.
type outcome struct {
	header   report.Header
	stages   []report.Stage
	findings []finding.Finding
	// replay marks a saved run (modhygiene report --from): its header is
	// rendered as it is, so that every format reproduces.
	replay bool
	// stdout receives the format; nil means the invocation's stdout.
	stdout io.Writer
	// annotations receives GitHub's workflow commands; nil means stderr.
	annotations io.Writer
	// after, when set, is called with the stages' outcome before it is
	// reported.
	after func(*stage.Outcome)
	// sayFailed ends a failed run with one line naming the failed stages.
	sayFailed bool
	// base are the fingerprints of the base branch's last saved run, which
	// --only-new counts as existing.
	base []string
}

// emit marks the baseline's findings, computes the verdict once, renders
// the run in every requested format and to the CI platform, and returns
// the verdict as an error: exit 3 when a stage failed, 1 when new findings
// reach --fail-on.
func (a *app) emit(rp *reporting, out *outcome) error {
	fs := out.findings
	if out.replay {
		// A stream from another version may lack names or fingerprints.
		for i := range fs {
			fs[i].Normalize()
		}
	}
	if rp.flags.baseline != "" {
		base, err := report.ReadBaseline(rp.flags.baseline)
		if err != nil {
			return exitcode.UsageError(fmt.Errorf("--baseline: %w", err))
		}
		report.MarkBaseline(fs, base)
	}
	changed := a.changedFor(rp, fs)
	if rp.flags.onlyNew {
		fs = report.OnlyNew(report.MarkExisting(fs, out.base), changed)
	}
	run := &report.Run{Header: out.header, Stages: out.stages, Findings: fs}
	if !out.replay {
		run.Header.Protocol, run.Header.Tool, run.Header.Version = report.Protocol, "modhygiene", version()
	}
	verdict := report.Verdict(fs, rp.failOn)
	if err := a.render(rp, out, run, verdict, changed); err != nil {
		return err
	}
	if names := failed(out.stages, fs); len(names) > 0 && out.sayFailed {
		fmt.Fprintf(a.stderr, "modhygiene: %s: failed %s: %s (see above)\n", run.Header.Command, stage.Plural(len(names), "stage", "stages"), strings.Join(names, ", "))
	}
	code := verdict.ExitCode()
	if len(failed(out.stages, nil)) > 0 {
		code = exitcode.Failure // a stage failed without a finding to say so
	}
	if code != exitcode.OK {
		return silent(code)
	}
	return nil
}

// failed names the stages that failed, or that a finding records a
// failure of.
func failed(stages []report.Stage, fs []finding.Finding) []string {
	var names []string
	for _, s := range stages {
		if s.Status == "failed" && !slices.Contains(names, s.Name) {
			names = append(names, s.Name)
		}
	}
	for i := range fs {
		if fs[i].IsFailure() && !slices.Contains(names, fs[i].Subject) {
			names = append(names, fs[i].Subject)
		}
	}
	return names
}

// render sends run to the format on stdout, the files named by flags and,
// unless --ci-report off, the CI platform's reporters. Only the format on
// stdout can fail the run; every other reporter's failure is a warning,
// and the others still run.
func (a *app) render(rp *reporting, out *outcome, run *report.Run, verdict report.Counts, changed func(string, int) bool) error {
	stdout := out.stdout
	if stdout == nil {
		stdout = a.stdout
	}
	h, err := report.New(rp.flags.format, stdout, report.Options{Color: ci.Color(stdout, a.getenv), ToolVersion: version(), FailOn: rp.failOn})
	if err != nil {
		return exitcode.UsageError(err)
	}
	warn := func(err error) { fmt.Fprintf(a.stderr, "modhygiene: warning: %v\n", err) }
	use := ci.Reporters{}
	if rp.ci {
		use = ci.DefaultReporters(a.ci.Platform)
	}
	var summary, outputs bytes.Buffer
	hs := report.Fanout{h}
	for _, f := range a.fileHandlers(rp, use) {
		hs = append(hs, report.Soft(f, warn))
	}
	if use.Annotations || use.Summary || use.Outputs {
		opt := github.Options{Changed: changed, Verdict: &verdict, FailOn: rp.failOn, Annotations: out.annotations}
		if opt.Annotations == nil {
			opt.Annotations = a.stderr
		}
		if use.Summary && a.ci.GitHub.SummaryFile != "" {
			opt.Summary = &summary
		}
		if use.Outputs && a.ci.GitHub.OutputFile != "" {
			opt.Outputs = &outputs
		}
		hs = append(hs, report.Soft(github.New(opt), warn))
	}
	if use.Note {
		if n := a.gitlabNote(changed, &verdict, rp.failOn); n != nil {
			hs = append(hs, report.Soft(n, warn))
		}
	}
	if err := report.Replay(run, hs); err != nil {
		return exitcode.FailureError(err)
	}
	appendTo(a.ci.GitHub.SummaryFile, "job summary", &summary, warn)
	appendTo(a.ci.GitHub.OutputFile, "step outputs", &outputs, warn)
	return nil
}

// appendTo appends what buf holds to the runner's file path; a problem is
// a warning.
func appendTo(path, what string, buf *bytes.Buffer, warn func(error)) {
	if buf.Len() == 0 {
		return
	}
	if err := ci.AppendFile(path, func(w io.Writer) error { _, err := buf.WriteTo(w); return err }); err != nil {
		warn(fmt.Errorf("%s: %w", what, err))
	}
}

// fileHandlers are the report files: --json, --sarif and the Code Quality
// file (--codequality, or its default on GitLab), each written whole at
// the end.
func (a *app) fileHandlers(rp *reporting, use ci.Reporters) []report.Handler {
	cq := rp.flags.codequalityFile
	if cq == "" && use.CodeQuality {
		cq = defaultCodeQualityFile
		if d := a.ci.GitLab.ProjectDir; d != "" {
			cq = filepath.Join(d, cq)
		}
	}
	var hs []report.Handler
	for _, out := range []struct {
		what, path string
		make       func(io.Writer) report.Handler
	}{
		{"json report", rp.flags.jsonFile, func(w io.Writer) report.Handler { return report.NewJSONHandler(w) }},
		{"sarif report", rp.flags.sarifFile, func(w io.Writer) report.Handler {
			return report.NewSARIF(w, report.SARIFOptions{ToolVersion: version()})
		}},
		{"code quality report", cq, func(w io.Writer) report.Handler { return report.NewCodeQualityHandler(w) }},
	} {
		if out.path != "" {
			hs = append(hs, report.File(out.what, a.abs(out.path), out.make))
		}
	}
	return hs
}

// changedFor returns which lines the pull or merge request changed when
// the report needs them (the CI reporters put findings on changed lines
// first; --only-new keeps only those), else nil.
func (a *app) changedFor(rp *reporting, fs []finding.Finding) func(string, int) bool {
	use := ci.DefaultReporters(a.ci.Platform)
	if len(fs) == 0 || !rp.flags.onlyNew && !(rp.ci && (use.Annotations || use.Note)) {
		return nil
	}
	return a.changedLines()
}

// changedLines returns which lines the pull or merge request changed, or
// nil outside a review or when git cannot tell (with one log line).
func (a *app) changedLines() func(string, int) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	has, err := a.ci.ChangedLines(ctx, a.cwd, a.env)
	if err != nil {
		fmt.Fprintf(a.stderr, "modhygiene: %v\n", err)
	}
	return has
}

// gitlabNote returns the merge-request note reporter, or nil with one log
// line when there can be no note.
func (a *app) gitlabNote(changed func(string, int) bool, verdict *report.Counts, failOn report.FailOn) report.Handler {
	n, why := gitlab.ForJob(context.Background(), a.ci.GitLab, gitlab.Options{
		Verdict: verdict, FailOn: failOn, Changed: changed, Log: a.stderr})
	if n == nil {
		fmt.Fprintf(a.stderr, "modhygiene: gitlab: %s\n", why)
		return nil
	}
	return n
}
