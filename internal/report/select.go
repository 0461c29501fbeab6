package report

import (
	"fmt"
	"os"

	"github.com/modhygiene/modhygiene/internal/finding"
)

// ReadBaseline reads the findings of a saved run (a JSON stream) for
// MarkBaseline.
func ReadBaseline(path string) ([]finding.Finding, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	run, err := ReadJSON(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return run.Findings, nil
}

// MarkExisting sets Existing on the findings whose fingerprint is among
// fps (the base branch's last saved run); failures are never marked.
func MarkExisting(fs []finding.Finding, fps []string) []finding.Finding {
	seen := map[string]bool{}
	for _, fp := range fps {
		seen[fp] = true
	}
	for i := range fs {
		if seen[fs[i].Fingerprint] && !fs[i].IsFailure() {
			fs[i].Existing = true
		}
	}
	return fs
}

// OnlyNew keeps the findings a pull or merge request introduced: not in
// the baseline (Existing) and, when changed is not nil, on a line it
// changed. Failures are always kept.
func OnlyNew(fs []finding.Finding, changed func(file string, line int) bool) []finding.Finding {
	var kept []finding.Finding
	for _, f := range fs {
		switch {
		case f.IsFailure():
		case f.Existing:
			continue
		case changed != nil && !changed(f.File, f.Line):
			continue
		}
		kept = append(kept, f)
	}
	return kept
}
