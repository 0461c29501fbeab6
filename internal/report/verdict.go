package report

import (
	"fmt"
	"sort"
	"strings"

	"github.com/modhygiene/modhygiene/internal/exitcode"
	"github.com/modhygiene/modhygiene/internal/finding"
)

// FailOn is the lowest severity that fails a run; Never fails no run.
type FailOn int

// Never means no finding fails the run.
const Never FailOn = 1 << 10

// ParseFailOn parses info, warning, error or never.
func ParseFailOn(s string) (FailOn, error) {
	if strings.EqualFold(s, "never") {
		return Never, nil
	}
	sev, err := finding.ParseSeverity(s)
	if err != nil {
		return 0, fmt.Errorf("--fail-on %q: want info, warning, error or never", s)
	}
	return FailOn(sev), nil
}

// Counts tallies findings by severity.
type Counts struct {
	// Errors, Warnings and Infos count every finding by severity; a
	// failure (rule MH000) is an error.
	Errors, Warnings, Infos int
	// New counts the findings that are not in the baseline. A failure is
	// always new.
	New int
	// Failing counts the new findings at or above --fail-on, failures left
	// out (they have Failed).
	Failing int
	// Failed counts the failures: findings of rule MH000, one for each
	// module a stage could not handle. A baseline never hides one.
	Failed int
}

// Total is the number of findings.
func (c Counts) Total() int { return c.Errors + c.Warnings + c.Infos }

// Verdict counts fs and decides whether the run fails: it does when a
// finding that is not Existing (in the baseline) is at or above failOn, and
// whatever failOn says when a stage could not run for some module (a
// finding of rule MH000, see Counts.Failed). It is computed once, outside
// the renderers.
func Verdict(fs []finding.Finding, failOn FailOn) Counts {
	var c Counts
	for _, f := range fs {
		switch severity(&f) {
		case finding.Error:
			c.Errors++
		case finding.Warning:
			c.Warnings++
		default:
			c.Infos++
		}
		if f.IsFailure() {
			c.Failed++
			c.New++
			continue
		}
		if f.Existing {
			continue
		}
		c.New++
		if failOn != Never && int(f.Severity) >= int(failOn) {
			c.Failing++
		}
	}
	return c
}

// String returns the level's name: info, warning, error or never.
func (f FailOn) String() string {
	if f == Never {
		return "never"
	}
	return finding.Severity(f).String()
}

// Fails reports whether new findings reach --fail-on (exit code 1).
func (c Counts) Fails() bool { return c.Failing > 0 }

// Broken reports whether some stage could not run for some module, so that
// the run's result is unknown (exit code 3, whatever --fail-on says).
func (c Counts) Broken() bool { return c.Failed > 0 }

// ExitCode is the process exit code the verdict asks for: 3
// (exitcode.Failure) when a stage could not run for some module, else 1
// (exitcode.Findings) when new findings reach --fail-on, else 0.
func (c Counts) ExitCode() int {
	switch {
	case c.Broken():
		return exitcode.Failure
	case c.Fails():
		return exitcode.Findings
	}
	return exitcode.OK
}

// StageFailure is how many modules one stage could not handle.
type StageFailure struct {
	// Stage is the stage's name, the Subject of its MH000 findings: tidy,
	// check, vuln.
	Stage string
	// Modules counts the distinct modules (by module path and file).
	Modules int
}

// Failures counts the failures (MH000 findings) of fs by stage, in stage
// name order.
func Failures(fs []finding.Finding) []StageFailure {
	seen := map[[3]string]bool{}
	count := map[string]int{}
	for _, f := range fs {
		if !f.IsFailure() {
			continue
		}
		stage := f.Subject
		if stage == "" {
			stage = "a stage"
		}
		k := [3]string{stage, f.Module, f.File}
		if seen[k] {
			continue
		}
		seen[k] = true
		count[stage]++
	}
	out := make([]StageFailure, 0, len(count))
	for s, n := range count {
		out = append(out, StageFailure{Stage: s, Modules: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Stage < out[j].Stage })
	return out
}

// FailureLine is "tidy could not run for 2 modules, check could not run
// for 1 module", or "" when no stage failed.
func FailureLine(fs []StageFailure) string {
	var parts []string
	for _, f := range fs {
		parts = append(parts, fmt.Sprintf("%s could not run for %s", f.Stage, plural(f.Modules, "module")))
	}
	return strings.Join(parts, ", ")
}

// pastTense names what a stage does to a module, for "1 module could not
// be tidied".
var pastTense = map[string]string{
	"tidy":  "tidied",
	"check": "checked",
	"vuln":  "scanned for vulnerabilities",
}

// FailureSentence is "1 module could not be tidied" for one StageFailure.
func FailureSentence(f StageFailure) string {
	if verb, ok := pastTense[f.Stage]; ok {
		return fmt.Sprintf("%s could not be %s", plural(f.Modules, "module"), verb)
	}
	return fmt.Sprintf("%s could not run for %s", f.Stage, plural(f.Modules, "module"))
}

// severity is f's severity as every renderer shows it: a failure is always
// an error, whatever a configuration made of it.
func severity(f *finding.Finding) finding.Severity {
	if f.IsFailure() {
		return finding.Error
	}
	return f.Severity
}

// MarkBaseline sets Existing on each finding of fs whose fingerprint is
// among base's (computed where missing), and clears it on the others. A
// failure (rule MH000) is never marked: a baseline never hides a stage
// that could not run.
func MarkBaseline(fs, base []finding.Finding) {
	seen := map[string]bool{}
	for _, b := range base {
		fp := b.Fingerprint
		if fp == "" {
			fp = b.ComputeFingerprint()
		}
		seen[fp] = true
	}
	for i := range fs {
		f := &fs[i]
		fp := f.Fingerprint
		if fp == "" {
			fp = f.ComputeFingerprint()
		}
		f.Existing = seen[fp] && !f.IsFailure()
	}
}
