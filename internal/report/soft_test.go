package report

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modhygiene/modhygiene/internal/finding"
)

// failing is a handler whose every method fails.
type failing struct{ calls int }

func (f *failing) Header(*Header) error           { f.calls++; return errors.New("header broke") }
func (f *failing) Stage(*Stage) error             { f.calls++; return errors.New("stage broke") }
func (f *failing) Finding(*finding.Finding) error { f.calls++; return errors.New("finding broke") }

// TestOneBadReportPathLosesOnlyItself: a --sarif file in a directory that
// does not exist and a reporter that fails at once are warnings; the text
// on stdout and the other files are still written, whole.
func TestOneBadReportPathLosesOnlyItself(t *testing.T) {
	dir := t.TempDir()
	run := &Run{Header: Header{Command: "check"}, Stages: []Stage{{Name: "check"}},
		Findings: []finding.Finding{{Rule: "MH002", Severity: finding.Warning, File: "go.mod", Line: 3, Message: "m"}}}
	var warnings []string
	warn := func(err error) { warnings = append(warnings, err.Error()) }
	var stdout bytes.Buffer
	bad := &failing{}
	h := Fanout{
		NewTextHandler(&stdout),
		Soft(File("sarif report", filepath.Join(dir, "out", "x.sarif"), func(w io.Writer) Handler { return NewSARIFHandler(w, "v1") }), warn),
		Soft(bad, warn),
		Soft(File("json report", filepath.Join(dir, "run.json"), func(w io.Writer) Handler { return NewJSONHandler(w) }), warn),
		Soft(File("code quality report", filepath.Join(dir, "cq.json"), func(w io.Writer) Handler { return NewCodeQualityHandler(w) }), warn),
	}
	if err := Replay(run, h); err != nil {
		t.Fatalf("Replay = %v, want nil", err)
	}
	want := []string{
		"header broke",
		"sarif report " + filepath.Join(dir, "out", "x.sarif") + ": no such file or directory",
	}
	if strings.Join(warnings, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(warnings, "\n"), strings.Join(want, "\n"))
	}
	if bad.calls != 1 {
		t.Errorf("the broken handler got %d calls after its failure, want none", bad.calls-1)
	}
	if !strings.Contains(stdout.String(), "1 finding") {
		t.Errorf("text output: %q", stdout.String())
	}
	for _, f := range []string{"run.json", "cq.json"} {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || !bytes.Contains(data, []byte("MH002")) {
			t.Errorf("%s: %v %q", f, err, data)
		}
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".modhygiene-report-*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestFileReplacesWhole: a report file is replaced at once, and a path
// that is not a regular file is written in place.
func TestFileReplacesWhole(t *testing.T) {
	p := filepath.Join(t.TempDir(), "r.json")
	os.WriteFile(p, []byte("old old old old old old old old"), 0o600)
	h := File("json report", p, func(w io.Writer) Handler { return NewJSONHandler(w) })
	if err := Replay(&Run{Header: Header{Command: "x"}}, h); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(p)
	if !bytes.HasPrefix(data, []byte(`{"header"`)) || bytes.Contains(data, []byte("old")) {
		t.Errorf("file = %q", data)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", fi.Mode())
	}
	if err := Replay(&Run{}, File("json report", os.DevNull, func(w io.Writer) Handler { return NewJSONHandler(w) })); err != nil {
		t.Errorf("writing to %s: %v", os.DevNull, err)
	}
	if _, err := os.Stat(os.DevNull); err != nil {
		t.Errorf("%s: %v", os.DevNull, err)
	}
}
