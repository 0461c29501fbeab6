package report_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/report"
)

// mermaidBlocks returns the ```mermaid blocks of md and fails when one is
// not closed.
func mermaidBlocks(t *testing.T, md string) []string {
	t.Helper()
	var blocks []string
	lines := strings.Split(md, "\n")
	for i := 0; i < len(lines); i++ {
		if lines[i] != "```mermaid" {
			continue
		}
		var b strings.Builder
		for i++; i < len(lines) && lines[i] != "```"; i++ {
			b.WriteString(lines[i] + "\n")
		}
		if i == len(lines) {
			t.Fatalf("mermaid block not closed:\n%s", b.String())
		}
		blocks = append(blocks, b.String())
	}
	return blocks
}

// diagramSources renders every recorded stream as a summary and returns
// its diagrams by name.
func diagramSources(t *testing.T) map[string]string {
	out := map[string]string{}
	for _, path := range streams(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		run, _ := readRun(t, path)
		for i, b := range mermaidBlocks(t, report.Markdown(run, report.MarkdownOptions{})) {
			out[fmt.Sprintf("%s-%d", name, i)] = b
		}
	}
	return out
}

// TestMermaidBlocksStayInside: no text of a diagram can end its code block
// or start a Mermaid directive, comment or interaction, whatever the
// findings hold; each block is one diagram of a known kind.
func TestMermaidBlocksStayInside(t *testing.T) {
	allowedLine := regexp.MustCompile(`^(graph LR|gantt|  n\d+\["[^"]*"\]|  n\d+ --> n\d+|  classDef \w+ [^"]*|  class n\d+(,n\d+)* (sideA|sideB|both|target)|  title [^:]*|  dateFormat x|  axisFormat %ss|  todayMarker off|  section [^:#;%]*|  [^:#;%]* :(active|done), 0, \d+)$`)
	n := 0
	for name, d := range diagramSources(t) {
		n++
		for _, l := range strings.Split(strings.TrimSuffix(d, "\n"), "\n") {
			if !allowedLine.MatchString(l) {
				t.Errorf("%s: unexpected line %q", name, l)
			}
			if l := strings.ReplaceAll(l, " --> ", " "); strings.ContainsAny(l, "`<>") || strings.Contains(l, "%%") {
				t.Errorf("%s: line can break out: %q", name, l)
			}
		}
	}
	if n < 8 {
		t.Errorf("only %d diagrams in the recorded streams", n)
	}
}

// TestPathDiagramsCap: at most the limit is drawn, the largest first, and
// the rest are listed.
func TestPathDiagramsCap(t *testing.T) {
	var fs []finding.Finding
	for i := 0; i < 9; i++ {
		path := []string{"example.com/app"}
		for j := 0; j <= i; j++ {
			path = append(path, fmt.Sprintf("example.com/m%d", j))
		}
		fs = append(fs, finding.Finding{Rule: "MH010", Severity: finding.Error, File: "go.mod", Line: i + 1, Subject: fmt.Sprintf("GO-%d", i), Path: path})
	}
	fs = append(fs, finding.Finding{Rule: "MH006", Severity: finding.Info, Subject: "not drawn", Path: []string{"a", "b"}})
	md := report.PathDiagrams(fs, 3)
	if got := len(mermaidBlocks(t, md)); got != 3 {
		t.Errorf("%d diagrams drawn, want 3", got)
	}
	for _, want := range []string{"Dependency paths: 3 of 9 findings drawn", "Not drawn (6):", "- MH010 vulnerable: GO-0 (`go.mod:1`)"} {
		if !strings.Contains(md, want) {
			t.Errorf("missing %q in\n%s", want, md)
		}
	}
	if first := strings.Index(md, "GO-8"); first < 0 || first > strings.Index(md, "GO-7") {
		t.Errorf("the largest diagram is not first:\n%s", md)
	}
	if strings.Contains(md, "not drawn") {
		t.Errorf("MH006 has no diagram")
	}
	if report.PathDiagrams(fs[9:], 0) != "" {
		t.Errorf("diagrams for findings without a drawn rule")
	}
}

// rendered is one line of render.mjs's output.
type rendered struct {
	File     string   `json:"file"`
	OK       bool     `json:"ok"`
	Type     string   `json:"type"`
	Error    string   `json:"error"`
	Labels   []string `json:"labels"`
	Elements []string `json:"elements"`
	Active   []string `json:"active"`
	SVG      string   `json:"svg"`
}

// renderMermaid parses and renders diagrams with the real Mermaid library
// under node (see testdata/mermaid/render.mjs). It skips the test unless
// MODHYGIENE_MERMAID names the directory where scripts/ci/mermaid.sh
// installed it; MODHYGIENE_NODE may name the node binary.
func renderMermaid(t *testing.T, diagrams map[string]string) map[string]rendered {
	t.Helper()
	dir := os.Getenv("MODHYGIENE_MERMAID")
	if dir == "" {
		t.Skip("set MODHYGIENE_MERMAID to the directory scripts/ci/mermaid.sh prints to parse the diagrams with Mermaid")
	}
	node := os.Getenv("MODHYGIENE_NODE")
	if node == "" {
		node = "node"
	}
	script, err := os.ReadFile(filepath.Join("testdata", "mermaid", "render.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	args := []string{"--input-type=module", "-"}
	byFile := map[string]string{}
	for name, d := range diagrams {
		f := filepath.Join(tmp, name+".mmd")
		if err := os.WriteFile(f, []byte(d), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, f)
		byFile[f] = name
	}
	cmd := exec.Command(node, args...)
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(script)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node render.mjs: %v\n%s", err, stderr.String())
	}
	res := map[string]rendered{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var r rendered
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("render.mjs output: %v: %q", err, sc.Text())
		}
		res[byFile[r.File]] = r
	}
	if len(res) != len(diagrams) {
		t.Fatalf("render.mjs answered for %d of %d diagrams\n%s", len(res), len(diagrams), stderr.String())
	}
	return res
}

// TestMermaid parses and renders every diagram of the recorded streams'
// summaries with the real Mermaid parser, and checks what the rendered
// labels say: both versions of a duplicate major and the module to change
// are named, and hostile text comes out as the characters it holds, with
// no element or handler of its own in the SVG. A broken diagram is
// included to prove the harness can fail.
func TestMermaid(t *testing.T) {
	diagrams := diagramSources(t)
	diagrams["broken"] = "graph LR\n  n0[\"unclosed --> n1\n"
	pie := report.PieChart("Proxy answers by source", []report.PieSlice{
		{Label: "local module cache", Value: 12}, {Label: "mirror " + hostileText, Value: 3}, {Label: "shared store", Value: 0}})
	diagrams["pie"] = strings.TrimSuffix(strings.TrimPrefix(pie, "```mermaid\n"), "```\n")
	hostileLabel := strings.Join(strings.Fields(hostileText), " ")
	diagrams["hostile-direct"] = report.PathGraph(&finding.Finding{Rule: "MH002", Path: []string{"example.com/app", hostileText}, Version: "v1.0.0",
		Other: &finding.Side{Module: "x", Path: []string{"example.com/app", "example.com/lib`\"", "x"}}, Target: hostileText})
	res := renderMermaid(t, diagrams)
	if r := res["broken"]; r.OK {
		t.Fatalf("a broken diagram rendered: the harness cannot fail")
	}
	delete(res, "broken")
	// What Mermaid itself draws with; anything else came from a label.
	drawn := map[string]bool{}
	for _, e := range strings.Fields("svg g style path rect line text tspan foreignobject div span p marker defs circle polygon title desc br filter fedropshadow") {
		drawn[e] = true
	}
	for name, r := range res {
		if !r.OK {
			t.Errorf("%s: Mermaid refused the diagram: %s\n%s", name, r.Error, diagrams[name])
			continue
		}
		want := map[bool]string{true: "gantt", false: "flowchart-v2"}[strings.HasPrefix(diagrams[name], "gantt")]
		if strings.HasPrefix(diagrams[name], "pie") {
			want = "pie"
		}
		if r.Type != want {
			t.Errorf("%s: diagram type %q, want %q", name, r.Type, want)
		}
		for _, e := range r.Elements {
			if !drawn[strings.ToLower(e)] {
				t.Errorf("%s: rendered SVG has a <%s> element", name, e)
			}
		}
		if len(r.Active) > 0 {
			t.Errorf("%s: rendered SVG has active attributes %q", name, r.Active)
		}
	}
	labels := strings.Join(res["basic-0"].Labels, "\n")
	for _, want := range []string{"gopkg.in/yaml.v2 v2.4.0", "gopkg.in/yaml.v3 v3.0.1", "example.com/lib"} {
		if !strings.Contains(labels, want) {
			t.Errorf("the MH002 diagram does not name %q: %q", want, labels)
		}
	}
	got := res["hostile-direct"].Labels
	found := false
	for _, l := range got {
		found = found || strings.Join(strings.Fields(l), " ") == hostileLabel+" v1.0.0"
	}
	if !found {
		t.Errorf("hostile text did not come out as itself:\nwant %q\ngot  %q", hostileLabel+" v1.0.0", got)
	}
}

// hostileText is what a module author or a directory name can hold.
const hostileText = "x`<img src=x onerror=alert(1)>`$(touch PWNED) \"]\n```\n%%{init: {\"securityLevel\": \"loose\"}}%%\nclick n0 call alert(1) #35; ##[error] </details>"

// TestDiagramsGiveWayToTables: diagrams too large for the limit are left
// out, with a note, before any finding row is.
func TestDiagramsGiveWayToTables(t *testing.T) {
	huge := strings.Repeat("example.com/very/long/path/", 2000)
	run := &report.Run{Findings: []finding.Finding{{Rule: "MH010", Severity: finding.Error, File: "go.mod", Line: 1, Subject: "GO-1",
		Message: "m", Path: []string{"example.com/app", huge}}}}
	md := report.Markdown(run, report.MarkdownOptions{Limit: 60000})
	if len(md) > 60000 {
		t.Errorf("%d bytes, limit 60000", len(md))
	}
	if !strings.Contains(md, "dependency diagrams were left out") || strings.Contains(md, "```mermaid") {
		t.Errorf("diagrams not left out:\n%.2000s", md)
	}
	if !strings.Contains(md, "| 🔴 error | `go.mod:1` |") {
		t.Errorf("the finding's row is missing")
	}
}

func TestPieChart(t *testing.T) {
	if got := report.PieChart("t", []report.PieSlice{{Label: "a", Value: 0}}); got != "" {
		t.Errorf("no slice above zero: %q", got)
	}
	got := report.PieChart("Where \"answers\" came from", []report.PieSlice{
		{Label: "mirror a\"b:c\n```x", Value: 2}, {Label: "store", Value: 5}})
	want := "```mermaid\npie title Where ?answers? came from\n  \"mirror a?b:c????x\" : 2\n  \"store\" : 5\n```\n"
	if got != want {
		t.Errorf("PieChart =\n%s\nwant\n%s", got, want)
	}
}
