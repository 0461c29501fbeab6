package cli

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/modhygiene/modhygiene/internal/ci"
	"github.com/modhygiene/modhygiene/internal/tidy"
)

// liveProgress reports whether stderr is a terminal outside CI, where a
// live status line is welcome; elsewhere each module gets one plain line.
func (a *app) liveProgress() bool {
	if a.getenv("CI") != "" || a.getenv("TERM") == "dumb" {
		return false
	}
	return ci.IsTerminal(a.stderr)
}

// tidyProgress returns the progress callback for n modules.
func (a *app) tidyProgress(n int) func(tidy.Event) {
	if !a.liveProgress() {
		return func(e tidy.Event) {
			if e.Done {
				fmt.Fprintf(a.stderr, "tidy %-40s %-7s %s\n", e.Module.Rel, statusWord(e.Result), e.Result.Duration.Round(time.Millisecond))
			}
		}
	}
	running := map[string]bool{}
	done := 0
	a.live = true
	return func(e tidy.Event) {
		if e.Done {
			done++
			delete(running, e.Module.Rel)
		} else {
			running[e.Module.Rel] = true
		}
		names := make([]string, 0, len(running))
		for k := range running {
			names = append(names, k)
		}
		sort.Strings(names)
		line := fmt.Sprintf("tidy: %d/%d done; running %s", done, n, strings.Join(names, ", "))
		if len(line) > 78 {
			line = line[:75] + "..."
		}
		fmt.Fprintf(a.stderr, "\r\033[K%s", line)
	}
}

// finishProgress ends a live status line.
func (a *app) finishProgress() {
	if a.live {
		fmt.Fprint(a.stderr, "\r\033[K")
		a.live = false
	}
}

func statusWord(r *tidy.Result) string {
	if r.Memo {
		return "tidy (memo)"
	}
	return r.Status.String()
}
