package mirror

import (
	"sort"

	"golang.org/x/mod/module"

	"github.com/modhygiene/modhygiene/internal/workspace"
)

// ProbeModules picks up to n module versions the workspace requires, to be
// fetched as .info from every candidate. It skips modules matching the
// private patterns (GONOPROXY, or GOPRIVATE: their paths must never reach a
// public mirror), replaced modules and the workspace's own modules, and
// prefers direct requirements. The choice is deterministic. It returns nil
// when nothing qualifies.
func ProbeModules(ws *workspace.Workspace, private string, n int) []module.Version {
	if ws == nil || n <= 0 {
		return nil
	}
	own := map[string]bool{}
	for _, m := range ws.Modules {
		own[m.Path] = true
	}
	type req struct {
		mod      module.Version
		indirect bool
	}
	seen := map[string]bool{}
	var reqs []req
	for _, m := range ws.Modules {
		if m.File == nil {
			continue
		}
		replaced := map[string]bool{}
		for _, r := range m.File.Replace {
			replaced[r.Old.Path] = true
		}
		for _, r := range m.File.Require {
			p := r.Mod.Path
			if own[p] || replaced[p] || seen[p] || module.MatchPrefixPatterns(private, p) {
				continue
			}
			if module.CheckPath(p) != nil {
				continue
			}
			seen[p] = true
			reqs = append(reqs, req{r.Mod, r.Indirect})
		}
	}
	sort.SliceStable(reqs, func(i, j int) bool {
		if reqs[i].indirect != reqs[j].indirect {
			return !reqs[i].indirect
		}
		return reqs[i].mod.Path < reqs[j].mod.Path
	})
	var out []module.Version
	for _, r := range reqs {
		if len(out) == n {
			break
		}
		out = append(out, r.mod)
	}
	return out
}
