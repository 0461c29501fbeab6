// Package github reports a run to GitHub Actions: annotations through
// workflow commands, the job summary and the step outputs.
package github

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/modhygiene/modhygiene/internal/ci"
	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/report"
)

// MaxPerLevel is how many annotations of each level (error, warning, notice)
// the runner shows per step; the rest are dropped by the runner, so they go
// to the job summary only.
const MaxPerLevel = 10

// DefaultSummaryLimit is the largest job summary written. The runner drops a
// summary above 1 MiB; this leaves room for other steps' summaries in the
// same step file and for the note that says the summary was cut.
const DefaultSummaryLimit = 900 << 10

// Options configure a Reporter. Each writer is optional: nil turns that part
// off. The zero value reports nothing.
type Options struct {
	// Annotations receives the workflow commands (the process's stderr or
	// stdout; the runner reads both).
	Annotations io.Writer
	// Summary receives the job summary in markdown (GITHUB_STEP_SUMMARY,
	// opened for appending).
	Summary io.Writer
	// Outputs receives the step outputs (GITHUB_OUTPUT, opened for
	// appending), written with random heredoc delimiters.
	Outputs io.Writer
	// Rand is the source of heredoc delimiters; nil means crypto/rand.
	Rand io.Reader
	// Changed, when set, reports whether a line was changed by the pull
	// request: findings there are annotated first.
	Changed func(file string, line int) bool
	// Verdict is the run's verdict, computed once by the caller.
	Verdict *report.Counts
	// FailOn is the level the verdict used.
	FailOn report.FailOn
	// SummaryLimit caps the summary's size in bytes; 0 means DefaultSummaryLimit.
	SummaryLimit int
	// MaxPerLevel caps annotations per level; 0 means MaxPerLevel.
	MaxPerLevel int
	// Diagrams is how many dependency diagrams the summary draws; 0 means
	// report.DefaultDiagrams, negative none (see report.MarkdownOptions).
	Diagrams int
}

// Reporter is a report.Handler that collects a run and writes the GitHub
// outputs on Flush.
type Reporter struct {
	opt Options
	col report.Collector
}

var _ report.Handler = (*Reporter)(nil)
var _ report.Flusher = (*Reporter)(nil)

// New returns a Reporter.
func New(opt Options) *Reporter { return &Reporter{opt: opt} }

// Header records h.
func (r *Reporter) Header(h *report.Header) error { return r.col.Header(h) }

// Stage records s.
func (r *Reporter) Stage(s *report.Stage) error { return r.col.Stage(s) }

// Finding records fd.
func (r *Reporter) Finding(fd *finding.Finding) error { return r.col.Finding(fd) }

// Flush writes the annotations, the summary and the outputs. Each is
// written even when another fails; the errors are joined.
func (r *Reporter) Flush() error {
	run := &r.col.Run
	var errs []error
	annotated := 0
	if r.opt.Annotations != nil {
		n, err := r.annotate(run.Findings)
		if err != nil {
			errs = append(errs, fmt.Errorf("annotations: %w", err))
		}
		annotated = n
	}
	if r.opt.Summary != nil {
		if _, err := io.WriteString(r.opt.Summary, r.summary(run, annotated)+"\n"); err != nil {
			errs = append(errs, fmt.Errorf("job summary: %w", err))
		}
	}
	if r.opt.Outputs != nil {
		if err := r.outputs(run); err != nil {
			errs = append(errs, fmt.Errorf("step outputs: %w", err))
		}
	}
	return errors.Join(errs...)
}

// summary renders the job summary, cut to the summary limit.
func (r *Reporter) summary(run *report.Run, annotated int) string {
	limit := r.opt.SummaryLimit
	if limit <= 0 {
		limit = DefaultSummaryLimit
	}
	note := ""
	if total := len(run.Findings); r.opt.Annotations != nil && annotated < total {
		note = fmt.Sprintf("%d of %d findings are shown as annotations (GitHub shows at most %d errors, %d warnings and %d notices per step); every finding is listed below.",
			annotated, total, r.max(), r.max(), r.max())
	}
	return report.Markdown(run, report.MarkdownOptions{
		Verdict:  r.opt.Verdict,
		FailOn:   r.opt.FailOn,
		Changed:  r.opt.Changed,
		Note:     note,
		Limit:    limit,
		Diagrams: r.opt.Diagrams,
	})
}

func (r *Reporter) max() int {
	if r.opt.MaxPerLevel > 0 {
		return r.opt.MaxPerLevel
	}
	return MaxPerLevel
}

// Order returns fs in the order they get annotations: failures (a stage
// that could not run for a module) first, then new findings on lines the
// pull request changed, then other new findings, then findings already on
// the base branch; each part in finding.Sort order.
func Order(fs []finding.Finding, changed func(string, int) bool) []finding.Finding {
	out := append([]finding.Finding(nil), fs...)
	finding.Sort(out)
	rank := func(f *finding.Finding) int {
		switch {
		case f.IsFailure():
			return 0
		case f.Existing:
			return 3
		case changed != nil && changed(f.File, f.Line):
			return 1
		}
		return 2
	}
	sort.SliceStable(out, func(i, j int) bool { return rank(&out[i]) < rank(&out[j]) })
	return out
}

// Level is the workflow command for a severity: error, warning or notice.
func Level(s finding.Severity) string {
	switch s {
	case finding.Error:
		return "error"
	case finding.Warning:
		return "warning"
	}
	return "notice"
}

// annotate writes at most max annotations per level and returns how many it wrote.
func (r *Reporter) annotate(fs []finding.Finding) (int, error) {
	count := map[string]int{}
	n := 0
	for _, f := range Order(fs, r.opt.Changed) {
		level := Level(f.Severity)
		if f.IsFailure() {
			level = "error"
		}
		if count[level] >= r.max() {
			continue
		}
		count[level]++
		n++
		if err := ci.Annotate(r.opt.Annotations, ci.Annotation{
			Level:   level,
			File:    f.File,
			Line:    f.Line,
			Title:   f.Title(),
			Message: annotationMessage(&f),
		}); err != nil {
			return n, err
		}
	}
	return n, nil
}

// annotationMessage is the finding's message with its path and fix; a
// failure names its module first. ci.Annotate escapes it.
func annotationMessage(f *finding.Finding) string {
	var b strings.Builder
	if f.IsFailure() && f.Module != "" {
		b.WriteString("module " + f.Module + ": ")
	}
	b.WriteString(f.Message)
	if f.Existing && !f.IsFailure() {
		b.WriteString(" (already on the base branch)")
	}
	if len(f.Path) > 0 {
		b.WriteString("\npath: " + strings.Join(f.Path, " -> "))
	}
	if f.Fix != "" {
		b.WriteString("\nfix: " + f.Fix)
	}
	return b.String()
}

// outputs writes findings, errors, warnings, info, new, failing and failed
// (true when a stage could not run for some module, always written), then
// each stage's outputs in stage order.
func (r *Reporter) outputs(run *report.Run) error {
	c := report.Verdict(run.Findings, report.Never)
	failing := 0
	if r.opt.Verdict != nil {
		failing = r.opt.Verdict.Failing
	}
	ef := &ci.EnvFile{W: r.opt.Outputs, Rand: r.opt.Rand}
	for _, kv := range [][2]string{
		{"findings", strconv.Itoa(c.Total())},
		{"errors", strconv.Itoa(c.Errors)},
		{"warnings", strconv.Itoa(c.Warnings)},
		{"info", strconv.Itoa(c.Infos)},
		{"new", strconv.Itoa(c.New)},
		{"failing", strconv.Itoa(failing)},
		{"failed", strconv.FormatBool(c.Broken())},
	} {
		if err := ef.Set(kv[0], kv[1]); err != nil {
			return err
		}
	}
	for _, s := range run.Stages {
		if err := ef.SetAll(s.Outputs); err != nil {
			return err
		}
	}
	return nil
}
