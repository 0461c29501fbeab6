package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/modhygiene/modhygiene/internal/finding"
)

// TextHandler renders findings for a person: grouped by file, each with its
// rule, line, dependency path and fix, and a closing count by severity. It
// buffers until Flush.
type TextHandler struct {
	w        io.Writer
	findings []finding.Finding
	stages   []Stage
}

var _ Handler = (*TextHandler)(nil)
var _ Flusher = (*TextHandler)(nil)

// NewTextHandler returns a text renderer writing to w.
func NewTextHandler(w io.Writer) *TextHandler { return &TextHandler{w: w} }

// Header does nothing for text.
func (t *TextHandler) Header(*Header) error { return nil }

// Stage records s for the timing line.
func (t *TextHandler) Stage(s *Stage) error { t.stages = append(t.stages, *s); return nil }

// Finding records fd.
func (t *TextHandler) Finding(fd *finding.Finding) error {
	t.findings = append(t.findings, *fd)
	return nil
}

// Flush writes everything.
func (t *TextHandler) Flush() error {
	fs := append([]finding.Finding(nil), t.findings...)
	finding.Sort(fs)
	var b strings.Builder
	last := "\x00"
	for _, f := range fs {
		if f.File != last {
			if last != "\x00" {
				b.WriteByte('\n')
			}
			fmt.Fprintf(&b, "%s\n", orDash(f.File))
			last = f.File
		}
		writeTextFinding(&b, &f)
	}
	c := Verdict(fs, Never)
	if len(fs) > 0 {
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "%d findings: %d errors, %d warnings, %d info\n", c.Total(), c.Errors, c.Warnings, c.Infos)
	_, err := io.WriteString(t.w, b.String())
	return err
}

func writeTextFinding(b *strings.Builder, f *finding.Finding) {
	loc := f.File
	if f.Line > 0 {
		loc = fmt.Sprintf("%s:%d", f.File, f.Line)
	}
	fmt.Fprintf(b, "  %s: %s %s: %s\n", orDash(loc), f.Severity, f.Title(), f.Message)
	if len(f.Path) > 0 {
		fmt.Fprintf(b, "    path: %s\n", strings.Join(f.Path, " -> "))
	}
	if f.Detail != "" {
		for _, l := range strings.Split(strings.TrimRight(f.Detail, "\n"), "\n") {
			fmt.Fprintf(b, "    | %s\n", l)
		}
	}
	if f.Fix != "" {
		fmt.Fprintf(b, "    fix: %s\n", f.Fix)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
