package report_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/modhygiene/modhygiene/internal/ci"
	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/report"
	"github.com/modhygiene/modhygiene/internal/report/github"
	"github.com/modhygiene/modhygiene/internal/report/gitlab"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// zeroRand is a fixed delimiter source so that outputs are reproducible.
type zeroRand struct{}

func (zeroRand) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 0xab
	}
	return len(p), nil
}

func streams(t *testing.T) []string {
	names, err := filepath.Glob(filepath.Join("testdata", "streams", "*.json"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no recorded streams: %v", err)
	}
	return names
}

func readRun(t *testing.T, path string) (*report.Run, []byte) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	run, err := report.ReadJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return run, data
}

// changedFor marks lines 20 and up of svc/go.mod as changed by the pull
// request in the "many" stream, and nothing in the others.
func changedFor(name string) func(string, int) bool {
	if name != "many" {
		return nil
	}
	c := ci.Changes{"svc/go.mod": {{From: 20, To: 40}}}
	return c.Has
}

// renders renders run in every format, by golden file suffix.
func renders(t *testing.T, name string, run *report.Run) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, f := range []struct {
		suffix string
		format string
		color  bool
	}{
		{"txt", "text", false},
		{"color.txt", "text", true},
		{"sarif", "sarif", false},
		{"codequality.json", "codequality", false},
		{"md", "markdown", false},
	} {
		var b bytes.Buffer
		h, err := report.New(f.format, &b, report.Options{Color: f.color, ToolVersion: run.Header.Version, FailOn: report.FailOn(finding.Warning)})
		if err != nil {
			t.Fatal(err)
		}
		if err := report.Replay(run, h); err != nil {
			t.Fatal(err)
		}
		out[f.suffix] = b.Bytes()
	}
	failOn := report.FailOn(finding.Warning)
	v := report.Verdict(run.Findings, failOn)
	var ann, sum, outs bytes.Buffer
	gh := github.New(github.Options{Annotations: &ann, Summary: &sum, Outputs: &outs, Rand: zeroRand{},
		Changed: changedFor(name), Verdict: &v, FailOn: failOn})
	if err := report.Replay(run, gh); err != nil {
		t.Fatal(err)
	}
	out["github-annotations.txt"] = ann.Bytes()
	out["github-summary.md"] = sum.Bytes()
	out["github-outputs.txt"] = outs.Bytes()
	// The note's body, without posting it.
	col := &report.Collector{}
	if err := report.Replay(run, col); err != nil {
		t.Fatal(err)
	}
	out["gitlab-note.md"] = []byte(report.Markdown(&col.Run, report.MarkdownOptions{
		Marker: gitlab.Marker, Verdict: &v, FailOn: failOn, Changed: changedFor(name), Limit: gitlab.MaxNote}))
	return out
}

// TestGolden renders every recorded stream in every format and compares
// with testdata/golden; SARIF and Code Quality are compared as JSON values.
func TestGolden(t *testing.T) {
	for _, path := range streams(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		t.Run(name, func(t *testing.T) {
			run, _ := readRun(t, path)
			for suffix, got := range renders(t, name, run) {
				golden := filepath.Join("testdata", "golden", name+"."+suffix)
				if *update {
					if err := os.WriteFile(golden, got, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run with -update)", err)
				}
				if strings.HasSuffix(suffix, "sarif") || strings.HasSuffix(suffix, ".json") {
					var w, g any
					if err := json.Unmarshal(want, &w); err != nil {
						t.Fatalf("%s: %v", golden, err)
					}
					if err := json.Unmarshal(got, &g); err != nil {
						t.Fatalf("%s: rendered invalid JSON: %v", suffix, err)
					}
					if diff := cmp.Diff(w, g); diff != "" {
						t.Errorf("%s (-want +got):\n%s", golden, diff)
					}
					continue
				}
				if diff := cmp.Diff(string(want), string(got)); diff != "" {
					t.Errorf("%s (-want +got):\n%s", golden, diff)
				}
			}
		})
	}
}

// TestJSONRoundTrip: a recorded stream replays into the JSON format byte for
// byte, which is what `modhygiene report --from` relies on.
func TestJSONRoundTrip(t *testing.T) {
	for _, path := range streams(t) {
		run, data := readRun(t, path)
		var b bytes.Buffer
		if err := report.Replay(run, report.NewJSONHandler(&b)); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(data), b.String()); diff != "" {
			t.Errorf("%s replayed (-want +got):\n%s", path, diff)
		}
	}
}
