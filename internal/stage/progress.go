package stage

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/modhygiene/modhygiene/internal/tidy"
)

// progress prints tidy's progress on env.Log: a live status line on a
// person's terminal, else one plain line per module. finish ends a live
// line.
func progress(env *Env, n int) (report func(tidy.Event), finish func()) {
	if !env.Live {
		return func(e tidy.Event) {
			if e.Done {
				fmt.Fprintf(env.Log, "tidy %-40s %-7s %s\n", e.Module.Rel, statusWord(e.Result), e.Result.Duration.Round(time.Millisecond))
			}
		}, func() {}
	}
	running := map[string]bool{}
	done := 0
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
			fmt.Fprintf(env.Log, "\r\033[K%s", line)
		}, func() {
			fmt.Fprint(env.Log, "\r\033[K")
		}
}

func statusWord(r *tidy.Result) string {
	if r.Memo {
		return "tidy (memo)"
	}
	return r.Status.String()
}
