package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/modhygiene/modhygiene/internal/finding"
)

func renderJSON(t *testing.T, format string, run *Run) any {
	t.Helper()
	var b bytes.Buffer
	h, err := New(format, &b, Options{ToolVersion: "v1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	if err := Replay(run, h); err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b.Bytes(), &v); err != nil {
		t.Fatalf("%s output is not JSON: %v\n%s", format, err, b.String())
	}
	return v
}

// get walks a decoded JSON value along keys and indexes.
func get(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("%v: not an object at %q", path, k)
			}
			if v, ok = m[k]; !ok {
				t.Fatalf("%v: missing %q", path, k)
			}
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				t.Fatalf("%v: no element %d", path, k)
			}
			v = a[k]
		}
	}
	return v
}

func nonEmptyString(t *testing.T, v any, path ...any) string {
	t.Helper()
	s, ok := get(t, v, path...).(string)
	if !ok || s == "" {
		t.Errorf("%v: want a non-empty string, got %#v", path, get(t, v, path...))
	}
	return s
}

// TestSARIFRequiredFields checks, for every recorded run, what SARIF 2.1.0
// and GitHub code scanning require.
func TestSARIFRequiredFields(t *testing.T) {
	for name, run := range recordedRuns() {
		log := renderJSON(t, "sarif", run)
		if got := get(t, log, "version"); got != "2.1.0" {
			t.Errorf("%s: version = %v", name, got)
		}
		nonEmptyString(t, log, "$schema")
		runs := get(t, log, "runs").([]any)
		if len(runs) != 1 {
			t.Fatalf("%s: %d runs", name, len(runs))
		}
		if got := nonEmptyString(t, log, "runs", 0, "tool", "driver", "name"); got != "modhygiene" {
			t.Errorf("driver name %q", got)
		}
		rules := get(t, log, "runs", 0, "tool", "driver", "rules").([]any)
		ruleIDs := map[string]bool{}
		for i := range rules {
			id := nonEmptyString(t, rules[i], "id")
			if ruleIDs[id] {
				t.Errorf("%s: rule %s listed twice", name, id)
			}
			ruleIDs[id] = true
			nonEmptyString(t, rules[i], "shortDescription", "text")
			nonEmptyString(t, rules[i], "fullDescription", "text")
			nonEmptyString(t, rules[i], "help", "text")
			nonEmptyString(t, rules[i], "help", "markdown")
			lvl := nonEmptyString(t, rules[i], "defaultConfiguration", "level")
			if lvl != "error" && lvl != "warning" && lvl != "note" {
				t.Errorf("rule %s level %q", id, lvl)
			}
		}
		results := get(t, log, "runs", 0, "results").([]any)
		if len(results) != len(run.Findings) {
			t.Errorf("%s: %d results for %d findings", name, len(results), len(run.Findings))
		}
		fps := map[string]bool{}
		for i, r := range results {
			id := nonEmptyString(t, r, "ruleId")
			idx := int(get(t, r, "ruleIndex").(float64))
			if got := get(t, rules[idx], "id"); got != id {
				t.Errorf("result %d: ruleIndex %d names %v, ruleId %s", i, idx, got, id)
			}
			lvl := nonEmptyString(t, r, "level")
			if lvl != "error" && lvl != "warning" && lvl != "note" {
				t.Errorf("result %d: level %q", i, lvl)
			}
			nonEmptyString(t, r, "message", "text")
			fp := nonEmptyString(t, r, "partialFingerprints", SARIFFingerprintKey)
			if fps[fp] {
				t.Errorf("result %d: fingerprint %s repeated", i, fp)
			}
			fps[fp] = true
			locs, _ := r.(map[string]any)["locations"].([]any)
			for _, l := range locs {
				uri := nonEmptyString(t, l, "physicalLocation", "artifactLocation", "uri")
				if strings.HasPrefix(uri, "/") || strings.Contains(uri, "\\") || strings.Contains(uri, "..") || strings.Contains(uri, "://") {
					t.Errorf("result %d: uri %q is not repository-relative", i, uri)
				}
				if reg, ok := get(t, l, "physicalLocation").(map[string]any)["region"]; ok {
					if n := get(t, reg, "startLine").(float64); n < 1 {
						t.Errorf("result %d: startLine %v", i, n)
					}
				}
			}
		}
	}
}

// TestFingerprintsIgnoreLines: moving a finding to another line keeps its
// SARIF and Code Quality fingerprints.
func TestFingerprintsIgnoreLines(t *testing.T) {
	f := finding.Finding{Rule: "MH002", Severity: finding.Warning, Message: "m", Module: "example.com/app", File: "go.mod", Line: 7, Subject: "gopkg.in/yaml"}
	moved := f
	moved.Line = 42
	a := BuildSARIF(&Header{}, []finding.Finding{f}, SARIFOptions{ToolVersion: "v"})
	b := BuildSARIF(&Header{}, []finding.Finding{moved}, SARIFOptions{ToolVersion: "v"})
	if x, y := a.Runs[0].Results[0].PartialFingerprints, b.Runs[0].Results[0].PartialFingerprints; x[SARIFFingerprintKey] != y[SARIFFingerprintKey] {
		t.Errorf("SARIF fingerprint moved with the line: %v vs %v", x, y)
	}
	c := BuildCodeQuality(&Header{}, []finding.Finding{f})
	d := BuildCodeQuality(&Header{}, []finding.Finding{moved})
	if c[0].Fingerprint != d[0].Fingerprint {
		t.Errorf("Code Quality fingerprint moved with the line")
	}
	other := f
	other.Subject = "gopkg.in/ini"
	if e := BuildCodeQuality(&Header{}, []finding.Finding{other}); e[0].Fingerprint == c[0].Fingerprint {
		t.Errorf("different subjects share a fingerprint")
	}
}

// TestCodeQualityShape checks the fields GitLab reads, and that
// fingerprints stay unique even for findings with the same identity.
func TestCodeQualityShape(t *testing.T) {
	runs := recordedRuns()
	dup := runs["basic"].Findings[1]
	runs["dup"] = &Run{Findings: []finding.Finding{dup, dup, dup}}
	for name, run := range runs {
		v := renderJSON(t, "codequality", run)
		issues, ok := v.([]any)
		if !ok {
			t.Fatalf("%s: not an array: %T", name, v)
		}
		if len(issues) != len(run.Findings) {
			t.Errorf("%s: %d issues for %d findings", name, len(issues), len(run.Findings))
		}
		seen := map[string]bool{}
		for i, is := range issues {
			nonEmptyString(t, is, "description")
			nonEmptyString(t, is, "check_name")
			fp := nonEmptyString(t, is, "fingerprint")
			if seen[fp] {
				t.Errorf("%s: issue %d: fingerprint %s repeated", name, i, fp)
			}
			seen[fp] = true
			switch sev := nonEmptyString(t, is, "severity"); sev {
			case "info", "minor", "major", "critical", "blocker":
			default:
				t.Errorf("%s: issue %d: severity %q", name, i, sev)
			}
			nonEmptyString(t, is, "location", "path")
			if n := get(t, is, "location", "lines", "begin").(float64); n < 1 {
				t.Errorf("%s: issue %d: begin %v", name, i, n)
			}
		}
	}
	var b bytes.Buffer
	Replay(&Run{}, NewCodeQualityHandler(&b))
	if got := strings.TrimSpace(b.String()); got != "[]" {
		t.Errorf("empty report = %q, want []", got)
	}
}

func TestSummaryLimit(t *testing.T) {
	run := recordedRuns()["many"]
	full := Markdown(run, MarkdownOptions{})
	cut := Markdown(run, MarkdownOptions{Limit: 3000})
	if len(cut) > 3000 {
		t.Errorf("cut summary is %d bytes, limit 3000", len(cut))
	}
	if !strings.Contains(cut, "This summary was cut") || strings.Contains(full, "This summary was cut") {
		t.Errorf("cut note: in cut %v, in full %v", strings.Contains(cut, "This summary was cut"), strings.Contains(full, "This summary was cut"))
	}
	if !strings.Contains(cut, "### Stages") {
		t.Errorf("cut summary lost the stage timings")
	}
}

// TestSARIFCategoryAndHelp: every command run in one directory uploads
// under one category, and each rule's help URI is its section of
// docs/rules.md at the tool's version.
func TestSARIFCategoryAndHelp(t *testing.T) {
	f := finding.Finding{Rule: "MH002", Severity: finding.Warning, File: "go.mod", Line: 3, Message: "m"}
	ids := map[string]bool{}
	for _, cmd := range []string{"check", "tidy", "run", ""} {
		log := BuildSARIF(&Header{Command: cmd, Dir: "svc", Version: "v1.4.0"}, []finding.Finding{f}, SARIFOptions{})
		ids[log.Runs[0].AutomationDetails.ID] = true
		if got, want := log.Runs[0].Tool.Driver.Rules[0].HelpURI, "https://github.com/modhygiene/modhygiene/blob/v1.4.0/docs/rules.md#mh002"; got != want {
			t.Errorf("%s: helpUri %q, want %q", cmd, got, want)
		}
	}
	if len(ids) != 1 || !ids["modhygiene/svc/"] {
		t.Errorf("automationDetails ids %v, want only modhygiene/svc/", ids)
	}
	for dir, want := range map[string]string{"": "modhygiene", ".": "modhygiene", "./svc/": "modhygiene/svc", "a/../b": "modhygiene/b", `w\x`: "modhygiene/w/x"} {
		if got := SARIFCategory(dir); got != want {
			t.Errorf("SARIFCategory(%q) = %q, want %q", dir, got, want)
		}
	}
	for v, want := range map[string]string{
		"v1.2.3":                               "/blob/v1.2.3/",
		"v1.3.0-rc.1":                          "/blob/v1.3.0-rc.1/",
		"v0.0.0-20240101000000-0123456789ab":   "/blob/main/",
		"v1.2.4-0.20240101000000-0123456789ab": "/blob/main/",
		"v1.2.3+dirty":                         "/blob/main/",
		"(devel)":                              "/blob/main/",
		"":                                     "/blob/main/",
	} {
		if got := DefaultRulesURL(v); !strings.Contains(got, want) || !strings.HasSuffix(got, "/docs/rules.md") {
			t.Errorf("DefaultRulesURL(%q) = %q, want %s", v, got, want)
		}
	}
	log := BuildSARIF(&Header{}, []finding.Finding{f}, SARIFOptions{RulesURL: "https://ghe.example/o/r/blob/abc/docs/rules.md", Category: "mine/"})
	if got := log.Runs[0].Tool.Driver.Rules[0].HelpURI; got != "https://ghe.example/o/r/blob/abc/docs/rules.md#mh002" {
		t.Errorf("helpUri with RulesURL: %q", got)
	}
	if got := log.Runs[0].AutomationDetails.ID; got != "mine/" {
		t.Errorf("id with Category: %q", got)
	}
}

// TestFailureIsAlwaysAnError: whatever severity a failure carries, SARIF
// says error and never "unchanged", Code Quality says blocker.
func TestFailureIsAlwaysAnError(t *testing.T) {
	f := finding.Finding{Rule: finding.FailedRule, Severity: finding.Info, Subject: "tidy", Module: "example.com/a", File: "a/go.mod", Line: 1, Message: "tidy could not run: x", Existing: true}
	r := BuildSARIF(&Header{}, []finding.Finding{f}, SARIFOptions{}).Runs[0].Results[0]
	if r.Level != "error" || r.BaselineState == "unchanged" || !strings.HasPrefix(r.Message.Text, "example.com/a: tidy could not run") {
		t.Errorf("SARIF result %+v", r)
	}
	if cq := BuildCodeQuality(&Header{}, []finding.Finding{f})[0]; cq.Severity != "blocker" || cq.Location.Path != "a/go.mod" {
		t.Errorf("Code Quality %+v", cq)
	}
}

func TestSARIFURI(t *testing.T) {
	for in, want := range map[string]string{
		"svc/go.mod":     "svc/go.mod",
		"my dir/go.mod":  "my%20dir/go.mod",
		"a:b/go.mod":     "./a:b/go.mod",
		"x`<y>`%/go.mod": "x%60%3Cy%3E%60%25/go.mod",
		"über/go.mod":    "%C3%BCber/go.mod",
	} {
		if got := sarifURI(in); got != want {
			t.Errorf("sarifURI(%q) = %q, want %q", in, got, want)
		}
	}
}
