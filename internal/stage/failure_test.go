package stage

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/gocmd"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

// TestFailureFinding: the finding names the module's go.mod and the go
// command's reason with repository-relative positions, not the command
// line; the line for a person names module and file.
func TestFailureFinding(t *testing.T) {
	m := &workspace.Module{Path: "example.com/svc", Rel: "svc", Dir: "/repo/svc"}
	err := &gocmd.Error{Args: []string{"mod", "tidy", "-diff"}, Stderr: "go: downloading example.com/x v1.0.0\ngo.mod:4: unknown directive: frob\n", Err: errors.New("exit status 1")}
	var fs failures
	fs.add("tidy", "tidy could not run for", m, err)
	want := finding.Finding{Rule: finding.FailedRule, Severity: finding.Error, Module: "example.com/svc", File: "svc/go.mod", Line: 1,
		Subject: "tidy", Message: "tidy could not run: svc/go.mod:4: unknown directive: frob"}
	if diff := cmp.Diff([]finding.Finding{want}, fs.findings); diff != "" {
		t.Errorf("finding (-want +got):\n%s", diff)
	}
	if want := "tidy could not run for example.com/svc (svc/go.mod): svc/go.mod:4: unknown directive: frob"; fs.lines[0] != want {
		t.Errorf("line = %q, want %q", fs.lines[0], want)
	}
}
