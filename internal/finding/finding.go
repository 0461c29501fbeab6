// Package finding defines the Finding value that every stage produces, its
// severities, and the catalogue of rule IDs.
package finding

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
)

// Severity orders findings from informational to errors.
type Severity int

// The severities, lowest first. The zero value is not a valid severity.
const (
	Info Severity = iota + 1
	Warning
	Error
)

var severityNames = map[Severity]string{Info: "info", Warning: "warning", Error: "error"}

// String returns the lower-case name of s.
func (s Severity) String() string {
	if n, ok := severityNames[s]; ok {
		return n
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// MarshalText encodes s as its name.
func (s Severity) MarshalText() ([]byte, error) {
	if _, ok := severityNames[s]; !ok {
		return nil, fmt.Errorf("invalid severity %d", int(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText decodes a severity name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseSeverity parses info, warning or error (case-insensitive).
func ParseSeverity(name string) (Severity, error) {
	for s, n := range severityNames {
		if strings.EqualFold(name, n) {
			return s, nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want info, warning or error)", name)
}

// Finding is one problem found in a repository. Findings are values: a Go
// error means the tool failed, a Finding means the repository has a problem.
type Finding struct {
	// Rule is the stable rule ID, such as MH002.
	Rule string `json:"rule"`
	// Name is the rule's short name, such as duplicate-major.
	Name string `json:"name"`
	// Severity is how serious the finding is.
	Severity Severity `json:"severity"`
	// Message is one line for a person.
	Message string `json:"message"`
	// Module is the path of the repository's module the finding belongs to
	// (empty for findings about the whole repository or the environment).
	Module string `json:"module,omitempty"`
	// File is the file to change, relative to the repository root with
	// forward slashes, such as "svc/go.mod".
	File string `json:"file,omitempty"`
	// Line is the 1-based line in File to change, 0 when unknown.
	Line int `json:"line,omitempty"`
	// Subject names what the finding is about (a dependency's module path,
	// an OSV ID, an environment variable); with Rule, Module and File it
	// makes the fingerprint, so it must not contain line numbers.
	Subject string `json:"subject,omitempty"`
	// Path is the dependency path that brings Subject in, the repository's
	// module first, as `go mod why -m` would print it.
	Path []string `json:"path,omitempty"`
	// Version is the selected version of the module at the end of Path,
	// for findings about one version of a module (MH002 to MH005, MH007,
	// MH010); empty when unknown.
	Version string `json:"version,omitempty"`
	// Other is the second side of a finding that compares two modules or
	// two versions (MH002 the newer major, MH003 the twin, MH004 the family
	// member it lags, MH005 the version another module of the repository
	// selects); nil for one-sided findings.
	Other *Side `json:"other,omitempty"`
	// Target is the module path that Fix changes (the dependency to
	// upgrade, the requirement to rewrite), when there is one; reports
	// highlight it in the dependency paths.
	Target string `json:"target,omitempty"`
	// Fix is the exact command that resolves the finding, if there is one.
	Fix string `json:"fix,omitempty"`
	// Detail is longer text: a diff, a list of versions.
	Detail string `json:"detail,omitempty"`
	// Fingerprint identifies the finding across runs; see Fingerprint.
	Fingerprint string `json:"fingerprint,omitempty"`
	// Existing is set when a baseline run already had this finding.
	Existing bool `json:"existing,omitempty"`
}

// Side is one side of a finding that compares two modules or two versions:
// the module, its version and the dependency path that brings it in.
type Side struct {
	// Module is the module path, such as gopkg.in/yaml.v3.
	Module string `json:"module"`
	// Version is its selected version, empty when unknown.
	Version string `json:"version,omitempty"`
	// Path is the dependency path that brings Module in, a module of the
	// repository first and Module last, as Finding.Path.
	Path []string `json:"path,omitempty"`
}

// ComputeFingerprint returns a stable identity for f made from its rule,
// module, file and subject. It does not depend on the line number, so a
// finding keeps its fingerprint when lines above it move.
func (f *Finding) ComputeFingerprint() string {
	h := sha256.New()
	for _, s := range []string{f.Rule, f.Module, f.File, f.Subject} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// Normalize fills Name and Fingerprint when they are empty, and makes a
// failure (rule FailedRule) an error whatever its severity says.
func (f *Finding) Normalize() {
	if f.IsFailure() {
		f.Severity = Error
	}
	if f.Name == "" {
		if r, ok := Lookup(f.Rule); ok {
			f.Name = r.Name
		}
	}
	if f.Fingerprint == "" {
		f.Fingerprint = f.ComputeFingerprint()
	}
}

// Title returns "MH002 duplicate-major", the form used in annotations; the
// name comes from the catalogue when the finding has none.
func (f *Finding) Title() string {
	name := f.Name
	if name == "" {
		if r, ok := Lookup(f.Rule); ok {
			name = r.Name
		}
	}
	if name == "" {
		return f.Rule
	}
	return f.Rule + " " + name
}

// Sort orders findings by file, line, rule and subject, the order every
// renderer uses.
func Sort(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		return a.Subject < b.Subject
	})
}
