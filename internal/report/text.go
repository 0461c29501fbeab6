package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

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
		b.WriteString(t.paint(ansiBold, OneLine(ModuleTitle(&t.header, g.Module))))
		b.WriteByte('\n')
		for j := range g.Findings {
			t.writeFinding(&b, &g.Findings[j])
		}
	}
	if len(groups) > 0 {
		b.WriteByte('\n')
	}
	if line := TimingLine(t.stages); line != "" {
		fmt.Fprintf(&b, "%s\n", t.paint(ansiDim, OneLine(line)))
	}
	for _, f := range Failures(t.findings) {
		fmt.Fprintf(&b, "%s\n", t.paint(ansiBold+ansiRed, OneLine(FailureSentence(f))))
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

// writeFinding writes one finding. Every text in it may come from outside
// (module paths, deprecation and retraction messages, directory names), so
// each is flattened to one line with OneLine: no line of the output starts
// with text a module author chose.
func (t *TextHandler) writeFinding(b *strings.Builder, f *finding.Finding) {
	loc := f.File
	if f.Line > 0 {
		loc = fmt.Sprintf("%s:%d", f.File, f.Line)
	}
	existing := ""
	if f.Existing && !f.IsFailure() {
		existing = t.paint(ansiDim, " (existing)")
	}
	msg := f.Message
	if f.IsFailure() && f.Module != "" {
		msg = f.Module + ": " + msg
	}
	fmt.Fprintf(b, "  %s: %s %s: %s%s\n", OneLine(orDash(loc)), t.severity(severity(f)), t.paint(ansiBold, OneLine(f.Title())), OneLine(msg), existing)
	if len(f.Path) > 0 {
		fmt.Fprintf(b, "    path: %s\n", OneLine(strings.Join(f.Path, " -> ")))
	}
	if f.Detail != "" {
		for _, l := range strings.Split(strings.TrimRight(f.Detail, "\n"), "\n") {
			fmt.Fprintf(b, "    | %s\n", OneLine(l))
		}
	}
	if f.Fix != "" {
		fmt.Fprintf(b, "    fix: %s\n", t.paint(ansiBold, OneLine(f.Fix)))
	}
}

// OneLine returns s as one line that is safe to print: CR and LF (and CRLF)
// become a space, other control characters (ANSI escapes included) and the
// Unicode controls that reorder or hide text are written as Go escapes such
// as \x1b or \u202e, and "##[" (which the GitHub runner takes for a
// workflow command anywhere in a line) becomes "## [". Text that came from
// outside goes through it before the text format prints it.
func OneLine(s string) string {
	if strings.IndexFunc(s, unsafeInLine) < 0 {
		return strings.ReplaceAll(s, "##[", "## [")
	}
	return strings.ReplaceAll(flatten(s), "##[", "## [")
}

func flatten(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\r' && strings.HasPrefix(s[i:], "\r\n"):
			b.WriteByte(' ')
			size = 2
		case r == '\r' || r == '\n':
			b.WriteByte(' ')
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, "\\x%02x", s[i])
		case unsafeInLine(r):
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

// unsafeInLine reports whether r must not be printed as it is: a control
// character other than tab, or a Unicode control that changes the order
// or visibility of text (bidirectional overrides and isolates, zero-width
// joiners and marks, the line and paragraph separators).
func unsafeInLine(r rune) bool {
	switch {
	case r == '\t':
		return false
	case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0, r == utf8.RuneError:
		return true
	case r >= 0x200b && r <= 0x200f, r >= 0x2028 && r <= 0x202e, r >= 0x2060 && r <= 0x2069, r == 0xfeff:
		return true
	}
	return false
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
