package stage

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/gocmd"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

func TestReason(t *testing.T) {
	for _, tc := range []struct{ in, first, rest string }{
		{"go: downloading example.com/a v1.0.0\ngo: downloading example.com/b v1.0.0\ngo: example.com/app imports\n\texample.com/b/pkg: reading x: 404 Not Found\n\tserver response: not found\nlater",
			"go: example.com/app imports example.com/b/pkg: reading x: 404 Not Found server response: not found", "later"},
		{"go.mod:3: unknown directive: frob", "go.mod:3: unknown directive: frob", ""},
		{"go: downloading example.com/a v1.0.0", "go: downloading example.com/a v1.0.0", ""},
	} {
		first, rest := reason(tc.in)
		if first != tc.first || rest != tc.rest {
			t.Errorf("reason(%q) = %q, %q; want %q, %q", tc.in, first, rest, tc.first, tc.rest)
		}
	}
}

// TestFailureFinding: the finding names the module's go.mod and the go
// command's reason with repository-relative positions, not the command
// line; the line for a person names module and file.
func TestFailureFinding(t *testing.T) {
	m := &workspace.Module{Path: "example.com/svc", Rel: "svc"}
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
