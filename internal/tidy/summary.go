package tidy

import (
	"fmt"
	"sort"
	"strings"
)

// Summary counts the results of a run.
type Summary struct {
	// Modules is the number of modules.
	Modules int
	// Checked is how many modules the go command ran for.
	Checked int
	// Unchanged is how many the memo showed tidy without running go.
	Unchanged int
	// Untidy, Fixed and Failed count the results with that status.
	Untidy, Fixed, Failed int
	// Since lists the labels of the imported memo entries that matched
	// (Result.MemoFrom), sorted, without duplicates; empty when every
	// match was made on this machine.
	Since []string
}

// Summarize counts results.
func Summarize(results []Result) Summary {
	s := Summary{Modules: len(results)}
	since := map[string]bool{}
	for _, r := range results {
		if r.Memo {
			s.Unchanged++
			if r.MemoFrom != "" && !since[r.MemoFrom] {
				since[r.MemoFrom] = true
				s.Since = append(s.Since, r.MemoFrom)
			}
		} else {
			s.Checked++
		}
		switch r.Status {
		case Untidy:
			s.Untidy++
		case Fixed:
			s.Fixed++
		case Failed:
			s.Failed++
		}
	}
	sort.Strings(s.Since)
	return s
}

// String says how many modules were checked and how many were unchanged,
// such as "1 of 23 modules checked, 22 unchanged since main" (or "since
// the last run" for entries made on this machine).
func (s Summary) String() string {
	noun := "modules"
	if s.Modules == 1 {
		noun = "module"
	}
	out := fmt.Sprintf("%d of %d %s checked", s.Checked, s.Modules, noun)
	if s.Unchanged == 0 {
		return out
	}
	since := "the last run"
	if len(s.Since) > 0 {
		since = strings.Join(s.Since, ", ")
	}
	return fmt.Sprintf("%s, %d unchanged since %s", out, s.Unchanged, since)
}
