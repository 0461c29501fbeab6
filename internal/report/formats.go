package report

import (
	"fmt"
	"io"

	"github.com/modhygiene/modhygiene/internal/finding"
)

// Options configure the renderers made by New. The zero value renders plain
// text without colour.
type Options struct {
	// Color turns on ANSI colour in the text format.
	Color bool
	// ToolVersion is the version written into SARIF when the run's header
	// has none.
	ToolVersion string
	// RulesURL is the rules page SARIF's help URIs point into; empty means
	// DefaultRulesURL (see SARIFOptions).
	RulesURL string
	// SARIFCategory replaces the category of SARIF's automationDetails.id;
	// empty means SARIFCategory of the run's working directory.
	SARIFCategory string
	// FailOn is the level the markdown format's verdict line uses; 0 leaves
	// the line out (a failed stage is still reported).
	FailOn FailOn
}

// Formats lists the names New accepts.
var Formats = []string{"text", "json", "sarif", "codequality", "markdown"}

// New returns the renderer for a format name, writing to w.
func New(format string, w io.Writer, opt Options) (Handler, error) {
	switch format {
	case "text", "":
		return NewColorTextHandler(w, opt.Color), nil
	case "json":
		return NewJSONHandler(w), nil
	case "sarif":
		return NewSARIF(w, SARIFOptions{ToolVersion: opt.ToolVersion, RulesURL: opt.RulesURL, Category: opt.SARIFCategory}), nil
	case "codequality":
		return NewCodeQualityHandler(w), nil
	case "markdown":
		return &MarkdownHandler{W: w, FailOn: opt.FailOn}, nil
	}
	return nil, fmt.Errorf("unknown format %q (want one of %v)", format, Formats)
}

// MarkdownHandler renders a run as Markdown (the job summary's form, with
// its diagrams) on Flush, for --format markdown.
type MarkdownHandler struct {
	// W receives the markdown.
	W io.Writer
	// FailOn, when not 0, adds the verdict line for that level.
	FailOn FailOn

	col Collector
}

var _ Handler = (*MarkdownHandler)(nil)
var _ Flusher = (*MarkdownHandler)(nil)

// Header records h.
func (m *MarkdownHandler) Header(h *Header) error { return m.col.Header(h) }

// Stage records s.
func (m *MarkdownHandler) Stage(s *Stage) error { return m.col.Stage(s) }

// Finding records fd.
func (m *MarkdownHandler) Finding(fd *finding.Finding) error { return m.col.Finding(fd) }

// Flush writes the markdown.
func (m *MarkdownHandler) Flush() error {
	opt := MarkdownOptions{FailOn: m.FailOn}
	if m.FailOn != 0 {
		v := Verdict(m.col.Run.Findings, m.FailOn)
		opt.Verdict = &v
	}
	_, err := io.WriteString(m.W, Markdown(&m.col.Run, opt))
	return err
}
