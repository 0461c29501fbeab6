package report

import (
	"fmt"
	"strings"

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
	Errors, Warnings, Infos int
	// New counts the findings that are not in the baseline.
	New int
	// Failing counts the new findings at or above --fail-on.
	Failing int
}

// Total is the number of findings.
func (c Counts) Total() int { return c.Errors + c.Warnings + c.Infos }

// Verdict counts fs and decides whether the run fails: it does when a
// finding that is not Existing (in the baseline) is at or above failOn. It
// is computed once, outside the renderers.
func Verdict(fs []finding.Finding, failOn FailOn) Counts {
	var c Counts
	for _, f := range fs {
		switch f.Severity {
		case finding.Error:
			c.Errors++
		case finding.Warning:
			c.Warnings++
		default:
			c.Infos++
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

// Fails reports whether the verdict fails the run.
func (c Counts) Fails() bool { return c.Failing > 0 }
