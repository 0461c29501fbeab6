package report

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"strconv"

	"github.com/modhygiene/modhygiene/internal/finding"
)

// CodeQualityIssue is one entry of a GitLab Code Quality report.
type CodeQualityIssue struct {
	Description string              `json:"description"`
	CheckName   string              `json:"check_name"`
	Fingerprint string              `json:"fingerprint"`
	Severity    string              `json:"severity"`
	Location    CodeQualityLocation `json:"location"`
}

// CodeQualityLocation is a file and its first line.
type CodeQualityLocation struct {
	Path  string           `json:"path"`
	Lines CodeQualityLines `json:"lines"`
}

// CodeQualityLines holds the first line.
type CodeQualityLines struct {
	Begin int `json:"begin"`
}

// CodeQualitySeverity maps a finding to info, minor, major, critical or
// blocker: info stays info, warnings are minor, errors major, a known
// vulnerability (MH010) at error is critical, and a stage that could not
// run for a module (MH000) is a blocker: the merge request's verdict on
// that module is unknown.
func CodeQualitySeverity(f *finding.Finding) string {
	if f.IsFailure() {
		return "blocker"
	}
	switch f.Severity {
	case finding.Error:
		if f.Rule == "MH010" {
			return "critical"
		}
		return "major"
	case finding.Warning:
		return "minor"
	}
	return "info"
}

// CodeQualityHandler renders a run as a GitLab Code Quality report: a JSON
// array whose fingerprints are unique and stable (rule, module, file and
// subject, never the line). It buffers until Flush.
type CodeQualityHandler struct {
	w        io.Writer
	header   Header
	findings []finding.Finding
}

var _ Handler = (*CodeQualityHandler)(nil)
var _ Flusher = (*CodeQualityHandler)(nil)

// NewCodeQualityHandler returns a Code Quality renderer writing to w.
func NewCodeQualityHandler(w io.Writer) *CodeQualityHandler { return &CodeQualityHandler{w: w} }

// Header records the modules, used to place findings without a file.
func (h *CodeQualityHandler) Header(x *Header) error { h.header = *x; return nil }

// Stage does nothing.
func (h *CodeQualityHandler) Stage(*Stage) error { return nil }

// Finding records fd.
func (h *CodeQualityHandler) Finding(fd *finding.Finding) error {
	h.findings = append(h.findings, *fd)
	return nil
}

// Flush writes the report.
func (h *CodeQualityHandler) Flush() error {
	enc := json.NewEncoder(jsonWriter{h.w})
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(BuildCodeQuality(&h.header, h.findings))
}

// BuildCodeQuality makes the Code Quality issues of a run. A finding without
// a file is placed on its module's go.mod, else on the root go.mod, line 1.
func BuildCodeQuality(hdr *Header, findings []finding.Finding) []CodeQualityIssue {
	fs := append([]finding.Finding(nil), findings...)
	finding.Sort(fs)
	out := []CodeQualityIssue{}
	seen := map[string]int{}
	for _, f := range fs {
		fp := f.Fingerprint
		if fp == "" {
			fp = f.ComputeFingerprint()
		}
		// Two findings with the same identity still need distinct
		// fingerprints; the n-th repeat is numbered, which is stable as
		// long as the findings are.
		seen[fp]++
		if n := seen[fp]; n > 1 {
			sum := sha256.Sum256([]byte(fp + "#" + strconv.Itoa(n)))
			fp = hex.EncodeToString(sum[:16])
		}
		path, line := f.File, f.Line
		if path == "" {
			path = "go.mod"
			for _, m := range hdr.Modules {
				if m.Path == f.Module && m.GoMod != "" {
					path = m.GoMod
				}
			}
		}
		if line < 1 {
			line = 1
		}
		desc := f.Title() + ": " + f.Message
		if f.IsFailure() && f.Module != "" {
			desc = f.Title() + ": " + f.Module + ": " + f.Message
		}
		if f.Fix != "" {
			desc += " (fix: " + f.Fix + ")"
		}
		out = append(out, CodeQualityIssue{
			Description: desc,
			CheckName:   f.Rule,
			Fingerprint: fp,
			Severity:    CodeQualitySeverity(&f),
			Location:    CodeQualityLocation{Path: path, Lines: CodeQualityLines{Begin: line}},
		})
	}
	return out
}
