package config

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/modhygiene/modhygiene/internal/finding"
)

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"syntax", "rules:\n  MH002: [\n", ".modhygiene.yaml:2: "},
		{"unknown key", "rules: {}\nbogus: 1\n", ".modhygiene.yaml:2: field bogus not found"},
		{"bad rule", "rules:\n  MH2: error\n", ".modhygiene.yaml:2: rules: unknown rule ID \"MH2\""},
		{"bad severity", "rules:\n  MH002: loud\n", ".modhygiene.yaml:2: rules: MH002: severity \"loud\""},
		{"no reason", "ignore:\n  - rule: MH002\n    subject: x\n", ".modhygiene.yaml:2: ignore: an entry needs a reason"},
		{"bad date", "ignore:\n  - id: GO-1\n    reason: r\n    expires: soon\n", ".modhygiene.yaml:4: ignore: expires \"soon\""},
		{"unknown rule", "rules:\n  MH002: error\n  MH999: error\n", ".modhygiene.yaml:3: rules: unknown rule ID \"MH999\""},
		{"failures stay", "rules:\n  MH000: off\n", ".modhygiene.yaml:2: rules: unknown rule ID \"MH000\""},
		{"ignore unknown rule", "ignore:\n  - rule: MH999\n    reason: r\n", ".modhygiene.yaml:2: ignore: unknown rule ID \"MH999\""},
		{"twin", "twins:\n  - old: a\n  - old: b\n    new: c\n", ".modhygiene.yaml:2: twins: an entry needs old and new"},
		{"family match", "families:\n  - name: f\n    prefixes: [a/]\n    match: fuzzy\n", ".modhygiene.yaml:4: families: f: match \"fuzzy\": want exact, minor, k8s, stable, independent"},
		{"family members", "families:\n  - name: ok\n    modules: [a]\n  - name: f\n", ".modhygiene.yaml:4: families: f: a family needs prefixes or modules"},
		{"run key", "run:\n  tidy: fix\n  speed: max\n", ".modhygiene.yaml:3: run: unknown key \"speed\""},
		{"wrong type", "rules: [1, 2]\n", ".modhygiene.yaml:1: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(".modhygiene.yaml", []byte(tc.in))
			if name := "other.yaml"; tc.name == "twin" {
				// Errors name the file that was read, not the default name.
				if _, err := Parse(name, []byte(tc.in)); err == nil || !strings.HasPrefix(err.Error(), name+":2:") {
					t.Errorf("Parse(%s) = %v", name, err)
				}
			}
			var ce *Error
			if !errors.As(err, &ce) || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("Parse error = %v, want prefix %q", err, tc.want)
			}
		})
	}
}

func TestParseEmptyAndValid(t *testing.T) {
	f, err := Parse("c.yaml", nil)
	if err != nil || len(f.Rules) != 0 {
		t.Fatalf("empty: %v %+v", err, f)
	}
	f, err = Parse("c.yaml", []byte("rules:\n  MH008: off\nignore:\n  - id: GO-2022-1059\n    reason: not parsed\n    expires: 2026-12-31\nrun:\n  mirrors: current\n"))
	if err != nil {
		t.Fatal(err)
	}
	ig := f.Ignore[0]
	if ig.Subject != "GO-2022-1059" || ig.Line != 4 || ig.Until.Format(time.DateOnly) != "2026-12-31" || f.Run["mirrors"] != "current" {
		t.Errorf("parsed = %+v run=%v", ig, f.Run)
	}
}

func TestApply(t *testing.T) {
	f, err := Parse(FileName, []byte(`rules:
  MH008: off
  MH002: error
ignore:
  - rule: MH003
    subject: github.com/a/...
    reason: migrating
  - id: GO-1
    reason: old
    expires: 2026-01-31
`))
	if err != nil {
		t.Fatal(err)
	}
	in := []finding.Finding{
		{Rule: "MH008", Severity: finding.Warning, Subject: "go"},
		{Rule: "MH002", Severity: finding.Warning, Subject: "gopkg.in/yaml.v2"},
		{Rule: "MH003", Severity: finding.Warning, Subject: "github.com/a/b"},
		{Rule: "MH003", Severity: finding.Warning, Subject: "github.com/ab"},
		{Rule: "MH010", Severity: finding.Error, Subject: "GO-1"},
	}
	before := f.Apply(in, time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC))
	if diff := cmp.Diff([]string{"MH002/error/gopkg.in/yaml.v2", "MH003/warning/github.com/ab"}, summary(before)); diff != "" {
		t.Errorf("before expiry (-want +got):\n%s", diff)
	}
	after := f.Apply(in, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	want := []string{"MH002/error/gopkg.in/yaml.v2", "MH003/warning/github.com/ab", "MH010/error/GO-1", "MH010/warning/expired-ignore:GO-1"}
	if diff := cmp.Diff(want, summary(after)); diff != "" {
		t.Errorf("after expiry (-want +got):\n%s", diff)
	}
}

func summary(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Rule+"/"+f.Severity.String()+"/"+f.Subject)
	}
	return out
}
