package report

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/modhygiene/modhygiene/internal/exitcode"
	"github.com/modhygiene/modhygiene/internal/finding"
)

func failure(stage, module string) finding.Finding {
	return finding.Finding{Rule: finding.FailedRule, Severity: finding.Error, Subject: stage, Module: module, File: module + "/go.mod", Line: 1,
		Message: stage + " could not run: boom"}
}

func TestVerdictFailures(t *testing.T) {
	fs := []finding.Finding{
		failure("tidy", "a"), failure("tidy", "b"), failure("check", "a"),
		{Rule: "MH002", Severity: finding.Warning},
	}
	fs[1].Existing = true         // a baseline never hides a failure
	fs[2].Severity = finding.Info // nor does a configuration
	for _, tc := range []struct {
		failOn FailOn
		want   Counts
	}{
		{Never, Counts{Errors: 3, Warnings: 1, New: 4, Failed: 3}},
		{FailOn(finding.Warning), Counts{Errors: 3, Warnings: 1, New: 4, Failing: 1, Failed: 3}},
	} {
		got := Verdict(fs, tc.failOn)
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("Verdict(%v) (-want +got):\n%s", tc.failOn, diff)
		}
		if got.ExitCode() != exitcode.Failure || !got.Broken() {
			t.Errorf("Verdict(%v).ExitCode() = %d, want %d", tc.failOn, got.ExitCode(), exitcode.Failure)
		}
	}
	if diff := cmp.Diff([]StageFailure{{"check", 1}, {"tidy", 2}}, Failures(fs)); diff != "" {
		t.Errorf("Failures (-want +got):\n%s", diff)
	}
	if got, want := FailureLine(Failures(fs)), "check could not run for 1 module, tidy could not run for 2 modules"; got != want {
		t.Errorf("FailureLine = %q, want %q", got, want)
	}
	for f, want := range map[StageFailure]string{
		{"tidy", 1}:    "1 module could not be tidied",
		{"check", 2}:   "2 modules could not be checked",
		{"vuln", 1}:    "1 module could not be scanned for vulnerabilities",
		{"mirrors", 3}: "mirrors could not run for 3 modules",
	} {
		if got := FailureSentence(f); got != want {
			t.Errorf("FailureSentence(%v) = %q, want %q", f, got, want)
		}
	}
	clean := Verdict(fs[3:], FailOn(finding.Error))
	if clean.ExitCode() != exitcode.OK || clean.Broken() {
		t.Errorf("a warning with --fail-on error: exit %d", clean.ExitCode())
	}
	if Verdict(fs[3:], FailOn(finding.Warning)).ExitCode() != exitcode.Findings {
		t.Errorf("a warning with --fail-on warning does not exit 1")
	}
}

func TestMarkBaseline(t *testing.T) {
	fs := []finding.Finding{failure("tidy", "a"), {Rule: "MH002", Subject: "x"}, {Rule: "MH002", Subject: "y", Existing: true}}
	base := []finding.Finding{failure("tidy", "a"), {Rule: "MH002", Subject: "x"}}
	MarkBaseline(fs, base)
	var got []bool
	for _, f := range fs {
		got = append(got, f.Existing)
	}
	if diff := cmp.Diff([]bool{false, true, false}, got); diff != "" {
		t.Errorf("Existing (-want +got):\n%s", diff)
	}
}
