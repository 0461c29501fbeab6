package github

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/modhygiene/modhygiene/internal/ci"
	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/report"
)

func TestCapsAndChangedFirst(t *testing.T) {
	var fs []finding.Finding
	for i := 0; i < 30; i++ {
		fs = append(fs, finding.Finding{Rule: "MH002", Severity: finding.Severity(i%3 + 1), File: "go.mod", Line: i + 1, Message: fmt.Sprint(i)})
	}
	// Line 30 (an info) and 29 (a warning) were changed by the pull request.
	changed := ci.Changes{"go.mod": {{From: 29, To: 30}}}
	var ann, sum bytes.Buffer
	r := New(Options{Annotations: &ann, Summary: &sum, Changed: changed.Has})
	if err := report.Replay(&report.Run{Findings: fs}, r); err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	lines := strings.Split(strings.TrimSpace(ann.String()), "\n")
	for _, l := range lines {
		count[strings.SplitN(strings.TrimPrefix(l, "::"), " ", 2)[0]]++
	}
	if diff := cmp.Diff(map[string]int{"error": 10, "warning": 10, "notice": 10}, count); diff != "" {
		t.Errorf("annotations per level (-want +got):\n%s", diff)
	}
	if !strings.Contains(lines[0], "line=29,") || !strings.Contains(lines[1], "line=30,") {
		t.Errorf("changed lines not first:\n%s\n%s", lines[0], lines[1])
	}
	if !strings.Contains(sum.String(), "30 of 30 findings") && strings.Contains(sum.String(), "are shown as annotations") {
		t.Errorf("summary claims findings were left out:\n%s", sum.String())
	}
}

func TestOutputsCannotInject(t *testing.T) {
	var out bytes.Buffer
	run := &report.Run{Stages: []report.Stage{{Name: "mirrors", Outputs: map[string]string{
		"goproxy": "https://a.example\nEOF\nINJECTED=1\nghadelimiter_x\nINJECTED<<EOF\n1\nEOF",
	}}}}
	if err := report.Replay(run, New(Options{Outputs: &out})); err != nil {
		t.Fatal(err)
	}
	kvs, err := ci.ParseEnvFile(out.String())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, kv := range kvs {
		got[kv[0]] = kv[1]
	}
	want := map[string]string{"findings": "0", "errors": "0", "warnings": "0", "info": "0", "new": "0", "failing": "0", "failed": "false",
		"goproxy": run.Stages[0].Outputs["goproxy"]}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
}

// TestSummaryStaysUnderTheLimit: a run far too large for a job summary is
// cut under 1 MiB, says so, and keeps the counts and stage timings.
func TestSummaryStaysUnderTheLimit(t *testing.T) {
	var fs []finding.Finding
	for i := 0; i < 20000; i++ {
		fs = append(fs, finding.Finding{Rule: "MH005", Name: "cross-module-drift", Severity: finding.Warning,
			Module: fmt.Sprintf("example.com/m%03d", i%50), File: fmt.Sprintf("m%03d/go.mod", i%50), Line: i/50 + 3,
			Message: fmt.Sprintf("example.com/dep%05d at v1.%d.0 here and v1.%d.0 in example.com/other", i, i%7, i%11),
			Fix:     fmt.Sprintf("go get example.com/dep%05d@v1.%d.0", i, i%11)})
	}
	var sum bytes.Buffer
	run := &report.Run{Findings: fs, Stages: []report.Stage{{Name: "check", Status: "findings"}}}
	if err := report.Replay(run, New(Options{Summary: &sum})); err != nil {
		t.Fatal(err)
	}
	if sum.Len() > 1<<20 || sum.Len() > DefaultSummaryLimit {
		t.Errorf("summary is %d bytes", sum.Len())
	}
	for _, want := range []string{"This summary was cut", "| MH005 cross-module-drift | 0 | 20000 | 0 | 20000 |", "### Stages"} {
		if !strings.Contains(sum.String(), want) {
			t.Errorf("summary lacks %q", want)
		}
	}
}

// TestFailedRunTellsTheTruth: a run where tidy could not run for two
// modules annotates both (ahead of the cap, naming the module), says
// Failed at the top of the summary even with --fail-on never, and writes
// failed=true with honest counts.
func TestFailedRunTellsTheTruth(t *testing.T) {
	var fs []finding.Finding
	for i := 0; i < 12; i++ {
		fs = append(fs, finding.Finding{Rule: "MH004", Severity: finding.Error, File: "go.mod", Line: i + 1, Message: fmt.Sprint(i)})
	}
	for _, m := range []string{"a", "b"} {
		fs = append(fs, finding.Finding{Rule: finding.FailedRule, Severity: finding.Error, Module: "example.com/" + m, File: m + "/go.mod", Line: 1, Subject: "tidy",
			Message: "tidy could not run: go: example.com/private@v1.0.0: 404 Not Found", Existing: m == "b"})
	}
	v := report.Verdict(fs, report.Never)
	var ann, sum, out bytes.Buffer
	r := New(Options{Annotations: &ann, Summary: &sum, Outputs: &out, Verdict: &v, FailOn: report.Never})
	if err := report.Replay(&report.Run{Header: report.Header{Command: "tidy"}, Findings: fs}, r); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(ann.String(), "\n")
	for i, m := range []string{"a", "b"} {
		want := fmt.Sprintf("::error file=%s/go.mod,line=1,endLine=1,title=MH000 failed::module example.com/%s: tidy could not run: go: example.com/private@v1.0.0: 404 Not Found", m, m)
		if lines[i] != want {
			t.Errorf("annotation %d:\n got %s\nwant %s", i, lines[i], want)
		}
	}
	if n := strings.Count(ann.String(), "::error "); n != 10 {
		t.Errorf("%d error annotations, want 10", n)
	}
	md := sum.String()
	if !strings.HasPrefix(md, "## modhygiene tidy: 14 findings\n\n**Failed**: tidy could not run for 2 modules.\n") || strings.Contains(md, "Passed") {
		t.Errorf("summary:\n%s", md)
	}
	kvs, err := ci.ParseEnvFile(out.String())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, kv := range kvs {
		got[kv[0]] = kv[1]
	}
	want := map[string]string{"findings": "14", "errors": "14", "warnings": "0", "info": "0", "new": "14", "failing": "0", "failed": "true"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
}

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, fmt.Errorf("disk full") }

// TestOnePartFailingKeepsTheOthers: a summary that cannot be written does
// not stop the annotations or the outputs.
func TestOnePartFailingKeepsTheOthers(t *testing.T) {
	var ann, out bytes.Buffer
	r := New(Options{Annotations: &ann, Summary: failWriter{}, Outputs: &out})
	run := &report.Run{Findings: []finding.Finding{{Rule: "MH002", Severity: finding.Warning, File: "go.mod", Line: 2, Message: "m"}}}
	err := report.Replay(run, r)
	if err == nil || !strings.Contains(err.Error(), "job summary: disk full") {
		t.Errorf("Replay = %v, want the summary's error", err)
	}
	if !strings.Contains(ann.String(), "::warning file=go.mod") || !strings.Contains(out.String(), "failed<<") {
		t.Errorf("annotations %q, outputs %q", ann.String(), out.String())
	}
}
