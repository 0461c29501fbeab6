package tidy

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/diff"

	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/gocmd"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

func TestFailureFinding(t *testing.T) {
	m := &workspace.Module{Path: "example.com/svc", Rel: "svc", Dir: "/repo/svc"}
	downloads := strings.Repeat("go: downloading example.com/x v1.0.0\n", 260)
	for _, tc := range []struct {
		name   string
		err    error
		want   finding.Finding
		detail string
	}{{
		name: "import of a missing module",
		err: &gocmd.Error{Args: []string{"mod", "tidy", "-diff"}, Stderr: downloads +
			"go: finding module for package example.com/gone\ngo: example.com/svc imports\n\texample.com/gone: module example.com/gone: reading file:///p/example.com/gone/@v/list: no such file or directory\n"},
		want: finding.Finding{Line: 1,
			Message: "tidy could not run: go: example.com/svc imports example.com/gone: module example.com/gone: reading file:///p/example.com/gone/@v/list: no such file or directory"},
	}, {
		name: "go.mod position, absolute and relative",
		err:  &gocmd.Error{Args: []string{"mod", "tidy"}, Stderr: "go: errors parsing go.mod:\n/repo/svc/go.mod:7:2: unknown directive: x\ngo.mod:9: also bad\n"},
		want: finding.Finding{Line: 7,
			Message: "tidy could not run: go: errors parsing go.mod: svc/go.mod:7:2: unknown directive: x"},
		detail: "svc/go.mod:9: also bad",
	}, {
		name: "a dependency's go.mod is not ours",
		err:  &gocmd.Error{Stderr: "go: example.com/x@v1.0.0: parsing go.mod:\n\tmodule declares its path as: y\n\t        but was required as: example.com/x"},
		want: finding.Finding{Line: 1,
			Message: "tidy could not run: go: example.com/x@v1.0.0: parsing go.mod: module declares its path as: y but was required as: example.com/x"},
	}, {
		name: "not the go command",
		err:  errors.New("replace svc/go.sum: permission denied"),
		want: finding.Finding{Line: 1, Message: "tidy could not run: replace svc/go.sum: permission denied"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Result{Module: m, Status: Failed, Err: tc.err}
			want := tc.want
			want.Rule, want.Severity, want.Module, want.File, want.Subject, want.Detail = "MH000", finding.Error, "example.com/svc", "svc/go.mod", "tidy", tc.detail
			want.Normalize()
			if diff := cmp.Diff(want, r.Finding()); diff != "" {
				t.Errorf("finding (-want +got):\n%s", diff)
			}
			if strings.Contains(r.FailureMessage(), "downloading") {
				t.Errorf("message keeps progress lines")
			}
		})
	}
}

// TestCheckFailureDropsDownloads runs a real tidy that downloads modules and
// then fails.
func TestCheckFailureDropsDownloads(t *testing.T) {
	r := goRunner(t, fixtureProxy(t), "")
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"svc/go.mod": "module example.com/svc\n\ngo 1.21\n",
		"svc/s.go":   "package svc\n\nimport (\n\t_ \"example.com/dep\"\n\t_ \"example.com/dep2\"\n\t_ \"example.com/gone\"\n)\n",
	})
	results, err := Run(context.Background(), r, discover(t, root), Options{NoPrefetch: true})
	if err != nil {
		t.Fatal(err)
	}
	res := results[0]
	var ge *gocmd.Error
	if res.Status != Failed || !errors.As(res.Err, &ge) || !strings.Contains(ge.Stderr, "go: downloading") {
		t.Fatalf("want a failure after downloads, got %v: %v", res.Status, res.Err)
	}
	f := res.Finding()
	if !strings.HasPrefix(f.Message, "tidy could not run: go: ") || !strings.Contains(f.Message, "example.com/gone") {
		t.Errorf("message = %q", f.Message)
	}
	for _, s := range []string{f.Message, f.Detail, res.FailureMessage(), res.Err.Error()} {
		if strings.Contains(s, "downloading") {
			t.Errorf("progress lines kept: %q", s)
		}
	}
}

func TestFixCommandQuotesDirectory(t *testing.T) {
	for rel, want := range map[string]string{
		".":                "go mod tidy",
		"svc/a":            "cd svc/a && go mod tidy",
		"x$(touch PWNED)":  "cd 'x$(touch PWNED)' && go mod tidy",
		"it's a dir/`cmd`": `cd 'it'\''s a dir/` + "`cmd`" + `' && go mod tidy`,
	} {
		if got := FixCommand(&workspace.Module{Rel: rel}); got != want {
			t.Errorf("FixCommand(%q) = %q, want %q", rel, got, want)
		}
	}
}

// TestUntidyFindingLine checks that an MH001 finding points at the line to
// change: here the requirement that becomes direct, not the indirect one
// that goes away nor the line before the block where it lands.
func TestUntidyFindingLine(t *testing.T) {
	before := "module example.com/app\n\ngo 1.21\n\nrequire google.golang.org/protobuf v1.30.0\n\nrequire (\n" +
		"\tgoogle.golang.org/genproto v0.0.0-20230410155749-daa745c078e1 // indirect\n\tgoogle.golang.org/grpc v1.56.0 // indirect\n)\n"
	after := "module example.com/app\n\ngo 1.21\n\nrequire (\n\tgoogle.golang.org/grpc v1.56.0\n\tgoogle.golang.org/protobuf v1.30.0\n)\n"
	d := string(diff.Diff("current/go.mod", []byte(before), "tidy/go.mod", []byte(after)))
	m := &workspace.Module{Path: "example.com/app", Rel: "app", Dir: filepath.Join(t.TempDir(), "app")}
	f := (&Result{Module: m, Status: Untidy, Diff: d}).Finding()
	if f.Line != 9 || f.File != "app/go.mod" || f.Fix != "cd app && go mod tidy" {
		t.Errorf("finding at %s:%d, fix %q; want app/go.mod:9 (the grpc line)\n%s", f.File, f.Line, f.Fix, d)
	}
	if !strings.Contains(f.Message, `rewrite as "google.golang.org/grpc v1.56.0"`) || !strings.Contains(f.Message, "genproto") {
		t.Errorf("message = %q", f.Message)
	}
}
