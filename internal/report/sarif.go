package report

import (
	"encoding/json"
	"io"
	"net/url"
	"path"
	"sort"
	"strings"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"

	"github.com/modhygiene/modhygiene/internal/finding"
)

// SARIF 2.1.0, the subset GitHub code scanning reads.
const (
	sarifSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
	sarifVersion = "2.1.0"
	// SARIFFingerprintKey names the partialFingerprints entry, versioned so
	// that a change of the fingerprint's recipe can use a new key.
	SARIFFingerprintKey = "modhygiene/v1"
	toolURI             = "https://github.com/modhygiene/modhygiene"
)

// SARIFLog is a SARIF 2.1.0 log; exported so tests and tools can read one back.
type SARIFLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []SARIFRun `json:"runs"`
}

// SARIFRun is one run of one tool.
type SARIFRun struct {
	Tool              SARIFTool              `json:"tool"`
	AutomationDetails *SARIFAutomation       `json:"automationDetails,omitempty"`
	OriginalURIBaseID map[string]SARIFURIRef `json:"originalUriBaseIds,omitempty"`
	Results           []SARIFResult          `json:"results"`
	Properties        map[string]any         `json:"properties,omitempty"`
}

// SARIFAutomation names the analysis, so that runs of several commands
// uploaded to GitHub do not replace each other.
type SARIFAutomation struct {
	ID string `json:"id"`
}

// SARIFURIRef is an artifact location used as a base.
type SARIFURIRef struct {
	URI         string        `json:"uri,omitempty"`
	Description *SARIFMessage `json:"description,omitempty"`
}

// SARIFTool describes the tool.
type SARIFTool struct {
	Driver SARIFDriver `json:"driver"`
}

// SARIFDriver is the tool's main component.
type SARIFDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri,omitempty"`
	Rules          []SARIFRule `json:"rules"`
}

// SARIFRule is one rule's metadata.
type SARIFRule struct {
	ID                   string          `json:"id"`
	Name                 string          `json:"name,omitempty"`
	ShortDescription     SARIFMessage    `json:"shortDescription"`
	FullDescription      SARIFMessage    `json:"fullDescription"`
	Help                 SARIFMessage    `json:"help"`
	HelpURI              string          `json:"helpUri,omitempty"`
	DefaultConfiguration SARIFRuleConfig `json:"defaultConfiguration"`
	Properties           map[string]any  `json:"properties,omitempty"`
}

// SARIFRuleConfig is a rule's default configuration.
type SARIFRuleConfig struct {
	Level string `json:"level"`
}

// SARIFMessage is a text with an optional markdown form.
type SARIFMessage struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

// SARIFResult is one finding.
type SARIFResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             SARIFMessage      `json:"message"`
	Locations           []SARIFLocation   `json:"locations,omitempty"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	BaselineState       string            `json:"baselineState,omitempty"`
	Properties          map[string]any    `json:"properties,omitempty"`
}

// SARIFLocation is where a result is.
type SARIFLocation struct {
	PhysicalLocation SARIFPhysical `json:"physicalLocation"`
}

// SARIFPhysical is a file and region.
type SARIFPhysical struct {
	ArtifactLocation SARIFArtifact `json:"artifactLocation"`
	Region           *SARIFRegion  `json:"region,omitempty"`
}

// SARIFArtifact is a file, relative to the repository root.
type SARIFArtifact struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

// SARIFRegion is a line range.
type SARIFRegion struct {
	StartLine int `json:"startLine"`
}

// SARIFLevel maps a severity to a SARIF level: error, warning or note.
func SARIFLevel(s finding.Severity) string {
	switch s {
	case finding.Error:
		return "error"
	case finding.Warning:
		return "warning"
	}
	return "note"
}

// SARIFOptions configure the SARIF renderer. The zero value writes no
// driver version, help URIs into the project's public repository (see
// DefaultRulesURL) and the category of the run's working directory.
type SARIFOptions struct {
	// ToolVersion is the driver's version when the run's header has none.
	ToolVersion string
	// RulesURL is the address of the rules page; each rule's helpUri is
	// RulesURL#mh002. Empty means DefaultRulesURL of the run's version.
	RulesURL string
	// Category, when set, replaces the category of automationDetails.id
	// (by default "modhygiene" and the run's working directory, see
	// SARIFCategory).
	Category string
}

// SARIFHandler renders a run as one SARIF 2.1.0 log: one rule entry per rule
// that has results, with its help text and the address of its section of
// docs/rules.md, and one result per finding with a repository-relative uri,
// startLine and a partial fingerprint that does not depend on the line. It
// buffers until Flush.
type SARIFHandler struct {
	w        io.Writer
	opt      SARIFOptions
	header   Header
	findings []finding.Finding
}

var _ Handler = (*SARIFHandler)(nil)
var _ Flusher = (*SARIFHandler)(nil)

// NewSARIFHandler returns a SARIF renderer writing to w; toolVersion is
// written as the driver's version when the run's header has none.
func NewSARIFHandler(w io.Writer, toolVersion string) *SARIFHandler {
	return NewSARIF(w, SARIFOptions{ToolVersion: toolVersion})
}

// NewSARIF returns a SARIF renderer writing to w.
func NewSARIF(w io.Writer, opt SARIFOptions) *SARIFHandler {
	return &SARIFHandler{w: w, opt: opt}
}

// Header records the run's version and working directory.
func (h *SARIFHandler) Header(x *Header) error { h.header = *x; return nil }

// Stage does nothing: SARIF has no place for timings that tools read.
func (h *SARIFHandler) Stage(*Stage) error { return nil }

// Finding records fd.
func (h *SARIFHandler) Finding(fd *finding.Finding) error {
	h.findings = append(h.findings, *fd)
	return nil
}

// Flush writes the log. The driver's version is the run's (from the
// header), so that a replayed stream renders as the original did; the
// handler's own version is the fallback.
func (h *SARIFHandler) Flush() error {
	log := BuildSARIF(&h.header, h.findings, h.opt)
	enc := json.NewEncoder(jsonWriter{h.w})
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(log)
}

// DefaultRulesURL is the rules page of the project's public repository at
// the tool's version: docs/rules.md at the tag for a release (v1.2.0,
// v1.3.0-rc.1), at main for a development build (a pseudo-version, a
// +dirty build, "devel" or "").
func DefaultRulesURL(version string) string {
	ref := "main"
	if semver.IsValid(version) && semver.Build(version) == "" && !module.IsPseudoVersion(version) {
		ref = version
	}
	return toolURI + "/blob/" + ref + "/docs/rules.md"
}

// SARIFCategory is the category of the run's automationDetails.id:
// "modhygiene" for a run at the repository root, "modhygiene/svc" for one
// in the directory svc. It is the same for every command (check, tidy,
// run, report --from), so that GitHub code scanning keeps one analysis per
// working directory whichever command uploads it.
func SARIFCategory(dir string) string {
	dir = strings.Trim(path.Clean("/"+strings.ReplaceAll(dir, "\\", "/")), "/")
	if dir == "" {
		return "modhygiene"
	}
	return "modhygiene/" + dir
}

// BuildSARIF makes the SARIF log of a run.
func BuildSARIF(hdr *Header, findings []finding.Finding, opt SARIFOptions) *SARIFLog {
	version := hdr.Version
	if version == "" {
		version = opt.ToolVersion
	}
	rulesURL := opt.RulesURL
	if rulesURL == "" {
		rulesURL = DefaultRulesURL(version)
	}
	fs := append([]finding.Finding(nil), findings...)
	finding.Sort(fs)
	used := map[string]bool{}
	for _, f := range fs {
		used[f.Rule] = true
	}
	var ids []string
	for id := range used {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	index := map[string]int{}
	rules := []SARIFRule{}
	for i, id := range ids {
		index[id] = i
		rules = append(rules, sarifRule(id, fs, rulesURL))
	}
	// A run compared with a baseline marks every result new or unchanged.
	compared := false
	for _, f := range fs {
		compared = compared || f.Existing
	}
	results := []SARIFResult{}
	for i := range fs {
		results = append(results, sarifResult(&fs[i], index[fs[i].Rule], compared))
	}
	category := opt.Category
	if category == "" {
		category = SARIFCategory(hdr.Dir)
	}
	return &SARIFLog{
		Schema:  sarifSchema,
		Version: sarifVersion,
		Runs: []SARIFRun{{
			Tool: SARIFTool{Driver: SARIFDriver{
				Name:           "modhygiene",
				Version:        sarifToolVersion(version),
				InformationURI: toolURI,
				Rules:          rules,
			}},
			AutomationDetails: &SARIFAutomation{ID: strings.TrimSuffix(category, "/") + "/"},
			OriginalURIBaseID: map[string]SARIFURIRef{
				"%SRCROOT%": {Description: &SARIFMessage{Text: "The repository root."}},
			},
			Results: results,
		}},
	}
}

// sarifResult is one finding as a result. A failure (MH000) is always at
// level error and never "unchanged".
func sarifResult(f *finding.Finding, ruleIndex int, compared bool) SARIFResult {
	fp := f.Fingerprint
	if fp == "" {
		fp = f.ComputeFingerprint()
	}
	r := SARIFResult{
		RuleID:              f.Rule,
		RuleIndex:           ruleIndex,
		Level:               SARIFLevel(severity(f)),
		Message:             SARIFMessage{Text: sarifText(f)},
		PartialFingerprints: map[string]string{SARIFFingerprintKey: fp},
	}
	if f.File != "" {
		loc := SARIFLocation{PhysicalLocation: SARIFPhysical{
			ArtifactLocation: SARIFArtifact{URI: sarifURI(f.File), URIBaseID: "%SRCROOT%"},
		}}
		if f.Line > 0 {
			loc.PhysicalLocation.Region = &SARIFRegion{StartLine: f.Line}
		}
		r.Locations = []SARIFLocation{loc}
	}
	switch {
	case f.Existing && !f.IsFailure():
		r.BaselineState = "unchanged"
	case compared:
		r.BaselineState = "new"
	}
	props := map[string]any{}
	if f.Module != "" {
		props["module"] = f.Module
	}
	if f.Subject != "" {
		props["subject"] = f.Subject
	}
	if f.Fix != "" {
		props["fix"] = f.Fix
	}
	if len(props) > 0 {
		r.Properties = props
	}
	return r
}

func sarifRule(id string, fs []finding.Finding, rulesURL string) SARIFRule {
	r, ok := finding.Lookup(id)
	if !ok {
		// A rule outside the catalogue: describe it from its findings.
		r = finding.Rule{ID: id, Short: id, Help: id, Default: finding.Warning}
		for _, f := range fs {
			if f.Rule == id {
				r.Name = f.Name
				r.Short = f.Title()
				r.Help = f.Message
				break
			}
		}
	}
	return SARIFRule{
		ID:               r.ID,
		Name:             r.Name,
		ShortDescription: SARIFMessage{Text: r.Short},
		FullDescription:  SARIFMessage{Text: r.Help},
		Help: SARIFMessage{
			Text:     r.Help,
			Markdown: "**" + r.ID + " " + r.Name + "**: " + r.Short + "\n\n" + r.Help,
		},
		HelpURI:              rulesURL + "#" + strings.ToLower(r.ID),
		DefaultConfiguration: SARIFRuleConfig{Level: SARIFLevel(r.Default)},
		Properties:           map[string]any{"tags": []string{"dependencies", "go-modules"}},
	}
}

// sarifURI is a repository-relative file path as a relative URI
// reference: each segment percent-encoded where a URI needs it (spaces,
// backticks, angle brackets, %), so a directory with any name stays one
// valid uri that consumers decode back to the path.
func sarifURI(file string) string {
	u := (&url.URL{Path: file}).EscapedPath()
	if first, _, _ := strings.Cut(u, "/"); strings.Contains(first, ":") {
		// Not a scheme: a first segment with a colon needs "./".
		u = "./" + u
	}
	return u
}

// sarifText is the message with the dependency path and the fix; a
// failure names its module first.
func sarifText(f *finding.Finding) string {
	var b strings.Builder
	if f.IsFailure() && f.Module != "" {
		b.WriteString(f.Module + ": ")
	}
	b.WriteString(f.Message)
	if len(f.Path) > 0 {
		b.WriteString("\nDependency path: ")
		b.WriteString(strings.Join(f.Path, " -> "))
	}
	if f.Fix != "" {
		b.WriteString("\nFix: ")
		b.WriteString(f.Fix)
	}
	return b.String()
}

// sarifToolVersion drops the "v" of a Go module version, as SARIF wants
// versions that start with a number; a version that still does not (a
// development build) becomes 0.0.0-<version>.
func sarifToolVersion(v string) string {
	if v == "" {
		return ""
	}
	v = strings.TrimPrefix(v, "v")
	if v == "" || v[0] < '0' || v[0] > '9' {
		v = "0.0.0-" + v
	}
	return v
}
