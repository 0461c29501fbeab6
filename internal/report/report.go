// Package report turns the findings and stage timings of a run into the
// formats people read. The JSON stream (see json.go) is the canonical form;
// every other format is rendered from the same calls, so a saved stream can
// be replayed into any of them (`modhygiene report --from`).
package report

import (
	"errors"
	"time"

	"github.com/modhygiene/modhygiene/internal/finding"
)

// Protocol is the version of the JSON stream. It changes only when a reader
// of an older stream would misread a newer one.
const Protocol = 1

// Header opens a run.
type Header struct {
	// Protocol is the stream's version, Protocol when written by this build.
	Protocol int `json:"protocol"`
	// Tool is "modhygiene".
	Tool string `json:"tool"`
	// Version is the tool's version.
	Version string `json:"version"`
	// Command is the command that made the run, such as "tidy" or "run".
	Command string `json:"command"`
	// Modules lists the repository's modules, by repository-relative go.mod.
	Modules []ModuleInfo `json:"modules,omitempty"`
	// Dir is the directory the run worked in (--dir), relative to the
	// repository root with forward slashes; "" or "." for the root. It
	// makes the SARIF category (see SARIFCategory).
	Dir string `json:"dir,omitempty"`
}

// ModuleInfo names one module of the repository.
type ModuleInfo struct {
	Path  string `json:"path"`
	GoMod string `json:"gomod"`
}

// Stage is the outcome and wall time of one stage of a run.
type Stage struct {
	// Name is the stage: mirrors, restore, tidy, check, vuln, save.
	Name string `json:"name"`
	// Duration is the stage's wall time.
	Duration time.Duration `json:"duration_ns"`
	// Status is ok, findings, skipped, warning or failed.
	Status string `json:"status"`
	// Summary is one line about the outcome ("3 of 12 modules untidy").
	Summary string `json:"summary,omitempty"`
	// Previous is the same stage's wall time in the last run, when known.
	Previous time.Duration `json:"previous_ns,omitempty"`
	// Outputs are key/value results other tools may use (cache-hit, goproxy).
	Outputs map[string]string `json:"outputs,omitempty"`
}

// Handler receives a run as it happens: one Header, then stages and
// findings in any order. Implementations need not be safe for concurrent
// use; the caller serialises calls. A Handler that buffers may implement
// Flusher, which is called once at the end.
type Handler interface {
	Header(*Header) error
	Stage(*Stage) error
	Finding(*finding.Finding) error
}

// Flusher is implemented by handlers that write their output at the end.
type Flusher interface {
	Flush() error
}

// Fanout sends every call to each of its handlers in order and joins their
// errors. Replay stops at the first error, so wrap every handler whose
// failure must not cost the others their output (report files, the CI
// platform's reporters) in Soft; then only the unwrapped ones (the format
// on stdout) can fail the run.
type Fanout []Handler

var _ Handler = Fanout(nil)
var _ Flusher = Fanout(nil)

// Header sends h to every handler.
func (f Fanout) Header(h *Header) error {
	var errs []error
	for _, x := range f {
		errs = append(errs, x.Header(h))
	}
	return errors.Join(errs...)
}

// Stage sends s to every handler.
func (f Fanout) Stage(s *Stage) error {
	var errs []error
	for _, x := range f {
		errs = append(errs, x.Stage(s))
	}
	return errors.Join(errs...)
}

// Finding sends fd to every handler.
func (f Fanout) Finding(fd *finding.Finding) error {
	var errs []error
	for _, x := range f {
		errs = append(errs, x.Finding(fd))
	}
	return errors.Join(errs...)
}

// Flush flushes every handler that is a Flusher.
func (f Fanout) Flush() error {
	var errs []error
	for _, x := range f {
		if fl, ok := x.(Flusher); ok {
			errs = append(errs, fl.Flush())
		}
	}
	return errors.Join(errs...)
}

// Run is a whole run held in memory.
type Run struct {
	Header   Header
	Stages   []Stage
	Findings []finding.Finding
}

// Collector is a Handler that keeps everything in a Run.
type Collector struct {
	Run Run
}

var _ Handler = (*Collector)(nil)

// Header records h.
func (c *Collector) Header(h *Header) error { c.Run.Header = *h; return nil }

// Stage records s.
func (c *Collector) Stage(s *Stage) error { c.Run.Stages = append(c.Run.Stages, *s); return nil }

// Finding records fd.
func (c *Collector) Finding(fd *finding.Finding) error {
	c.Run.Findings = append(c.Run.Findings, *fd)
	return nil
}

// Replay sends a whole run to h, findings in finding.Sort order, and flushes
// h if it is a Flusher.
func Replay(r *Run, h Handler) error {
	if err := h.Header(&r.Header); err != nil {
		return err
	}
	for i := range r.Stages {
		if err := h.Stage(&r.Stages[i]); err != nil {
			return err
		}
	}
	fs := append([]finding.Finding(nil), r.Findings...)
	finding.Sort(fs)
	for i := range fs {
		if err := h.Finding(&fs[i]); err != nil {
			return err
		}
	}
	if fl, ok := h.(Flusher); ok {
		return fl.Flush()
	}
	return nil
}
