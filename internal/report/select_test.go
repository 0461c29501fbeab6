package report

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/modhygiene/modhygiene/internal/finding"
)

func TestOnlyNew(t *testing.T) {
	fs := []finding.Finding{
		{Rule: "MH002", File: "go.mod", Line: 3, Subject: "changed"},
		{Rule: "MH002", File: "go.mod", Line: 9, Subject: "unchanged"},
		{Rule: "MH002", File: "go.mod", Line: 4, Subject: "existing", Existing: true},
		{Rule: finding.FailedRule, File: "go.mod", Line: 1, Subject: "tidy", Existing: true},
	}
	changed := func(file string, line int) bool { return file == "go.mod" && line >= 3 && line <= 5 }
	subjects := func(fs []finding.Finding) []string {
		var out []string
		for _, f := range fs {
			out = append(out, f.Subject)
		}
		return out
	}
	if diff := cmp.Diff([]string{"changed", "tidy"}, subjects(OnlyNew(fs, changed))); diff != "" {
		t.Errorf("in a review (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"changed", "unchanged", "tidy"}, subjects(OnlyNew(fs, nil))); diff != "" {
		t.Errorf("without changed lines (-want +got):\n%s", diff)
	}
}

func TestReadBaseline(t *testing.T) {
	p := filepath.Join(t.TempDir(), "base.json")
	stream := `{"header":{"protocol":1,"tool":"modhygiene","command":"check"}}` + "\n" +
		`{"finding":{"rule":"MH002","severity":"warning","message":"m","subject":"x"}}` + "\n"
	if err := os.WriteFile(p, []byte(stream), 0o644); err != nil {
		t.Fatal(err)
	}
	fs, err := ReadBaseline(p)
	if err != nil || len(fs) != 1 || fs[0].Subject != "x" {
		t.Fatalf("ReadBaseline = %v, %v", fs, err)
	}
	if _, err := ReadBaseline(filepath.Join(t.TempDir(), "none.json")); err == nil {
		t.Error("a missing baseline is no error")
	}
}
