package report

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/modhygiene/modhygiene/internal/finding"
)

// TextHandler renders findings for a person: grouped by module, each with
// its location, severity, rule, message, dependency path and fix, then the
// stage timings and a closing count by severity. It buffers until Flush.
type TextHandler struct {
	w        io.Writer
	color    bool
	header   Header
	findings []finding.Finding
	stages   []Stage
}

var _ Handler = (*TextHandler)(nil)
var _ Flusher = (*TextHandler)(nil)

// NewTextHandler returns a text renderer writing to w without colour.
func NewTextHandler(w io.Writer) *TextHandler { return &TextHandler{w: w} }

// NewColorTextHandler returns a text renderer writing to w that uses ANSI
// colour when color is set.
func NewColorTextHandler(w io.Writer, color bool) *TextHandler {
	return &TextHandler{w: w, color: color}
}

// Header records the run's modules, used to title the groups.
func (t *TextHandler) Header(h *Header) error { t.header = *h; return nil }

// Stage records s for the timing line.
func (t *TextHandler) Stage(s *Stage) error { t.stages = append(t.stages, *s); return nil }

// Finding records fd.
func (t *TextHandler) Finding(fd *finding.Finding) error {
	t.findings = append(t.findings, *fd)
	return nil
}

// ANSI escapes used by the text format.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiRed    = "\x1b[31m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
)

func (t *TextHandler) paint(code, s string) string {
	if !t.color || s == "" {
		return s
	}
	return code + s + ansiReset
}

func (t *TextHandler) severity(s finding.Severity) string {
	switch s {
	case finding.Error:
		return t.paint(ansiBold+ansiRed, s.String())
	case finding.Warning:
		return t.paint(ansiYellow, s.String())
	}
	return t.paint(ansiCyan, s.String())
}

// Flush writes everything.
func (t *TextHandler) Flush() error {
	var b strings.Builder
	groups := GroupByModule(t.findings)
	for i, g := range groups {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(t.paint(ansiBold, ModuleTitle(&t.header, g.Module)))
		b.WriteByte('\n')
		for j := range g.Findings {
			t.writeFinding(&b, &g.Findings[j])
		}
	}
	if len(groups) > 0 {
		b.WriteByte('\n')
	}
	if line := TimingLine(t.stages); line != "" {
		fmt.Fprintf(&b, "%s\n", t.paint(ansiDim, line))
	}
	c := Verdict(t.findings, Never)
	fmt.Fprintf(&b, "%d findings: %d errors, %d warnings, %d info", c.Total(), c.Errors, c.Warnings, c.Infos)
	if old := c.Total() - c.New; old > 0 {
		fmt.Fprintf(&b, " (%d new, %d existing)", c.New, old)
	}
	b.WriteByte('\n')
	_, err := io.WriteString(t.w, b.String())
	return err
}

func (t *TextHandler) writeFinding(b *strings.Builder, f *finding.Finding) {
	loc := f.File
	if f.Line > 0 {
		loc = fmt.Sprintf("%s:%d", f.File, f.Line)
	}
	existing := ""
	if f.Existing {
		existing = t.paint(ansiDim, " (existing)")
	}
	fmt.Fprintf(b, "  %s: %s %s: %s%s\n", orDash(loc), t.severity(f.Severity), t.paint(ansiBold, f.Title()), f.Message, existing)
	if len(f.Path) > 0 {
		fmt.Fprintf(b, "    path: %s\n", strings.Join(f.Path, " -> "))
	}
	if f.Detail != "" {
		for _, l := range strings.Split(strings.TrimRight(f.Detail, "\n"), "\n") {
			fmt.Fprintf(b, "    | %s\n", l)
		}
	}
	if f.Fix != "" {
		fmt.Fprintf(b, "    fix: %s\n", t.paint(ansiBold, f.Fix))
	}
}

// ModuleGroup is the findings of one module of the repository.
type ModuleGroup struct {
	// Module is the module path, "" for findings about the whole repository
	// or its environment.
	Module   string
	Findings []finding.Finding
}

// GroupByModule sorts fs (finding.Sort) and groups them by module, in the
// order of each module's first finding, with the repository-wide group last.
func GroupByModule(fs []finding.Finding) []ModuleGroup {
	sorted := append([]finding.Finding(nil), fs...)
	finding.Sort(sorted)
	index := map[string]int{}
	var groups []ModuleGroup
	var repo *ModuleGroup
	for _, f := range sorted {
		if f.Module == "" {
			if repo == nil {
				repo = &ModuleGroup{}
			}
			repo.Findings = append(repo.Findings, f)
			continue
		}
		i, ok := index[f.Module]
		if !ok {
			i = len(groups)
			index[f.Module] = i
			groups = append(groups, ModuleGroup{Module: f.Module})
		}
		groups[i].Findings = append(groups[i].Findings, f)
	}
	if repo != nil {
		groups = append(groups, *repo)
	}
	return groups
}

// ModuleTitle names a group: the module path with its go.mod when the header
// knows it, or "repository and environment" for the repository-wide group.
func ModuleTitle(h *Header, module string) string {
	if module == "" {
		return "repository and environment"
	}
	for _, m := range h.Modules {
		if m.Path == module && m.GoMod != "" {
			return fmt.Sprintf("%s (%s)", module, m.GoMod)
		}
	}
	return module
}

// TimingLine is "timing: tidy 1.2s (was 2s), check 310ms", or "" without stages.
func TimingLine(stages []Stage) string {
	if len(stages) == 0 {
		return ""
	}
	var parts []string
	for _, s := range stages {
		p := s.Name + " " + FormatDuration(s.Duration)
		if s.Previous > 0 {
			p += " (was " + FormatDuration(s.Previous) + ")"
		}
		parts = append(parts, p)
	}
	return "timing: " + strings.Join(parts, ", ")
}

// FormatDuration rounds d for people: milliseconds below 10s, tenths of a
// second above.
func FormatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < 10*time.Second:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
