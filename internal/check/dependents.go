package check

import (
	"strings"

	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

// dependents returns the modules of the repository whose builds read the
// go.mod of the module in dir through a replace by a directory, directly
// or through another such module. A module comes after the ones it
// replaces where the replaces allow (a cycle keeps discovery order): after
// a fix changes the go.mod in dir, each needs `go mod tidy` again, in that
// order, or it is left untidy.
func dependents(ws *workspace.Workspace, dir string) []*workspace.Module {
	if ws.WorkFile != "" {
		return nil // a workspace builds every module from its directory
	}
	replaces := map[*workspace.Module]map[string]bool{}
	for _, m := range ws.Modules {
		replaces[m] = map[string]bool{}
		for _, r := range m.LocalReplaces() {
			replaces[m][r.Dir] = true
		}
	}
	in := map[string]bool{dir: true}
	var set []*workspace.Module
	for grew := true; grew; {
		grew = false
		for _, m := range ws.Modules {
			if in[m.Dir] {
				continue
			}
			for d := range replaces[m] {
				if in[d] {
					in[m.Dir], grew = true, true
					set = append(set, m)
					break
				}
			}
		}
	}
	return orderByReplaces(set, replaces)
}

// orderByReplaces orders mods so that a module comes after the modules of
// mods it replaces; modules in a cycle keep their order.
func orderByReplaces(mods []*workspace.Module, replaces map[*workspace.Module]map[string]bool) []*workspace.Module {
	var out []*workspace.Module
	placed := map[*workspace.Module]bool{}
	for len(out) < len(mods) {
		progress := false
		for _, m := range mods {
			if placed[m] || !readyAfter(m, mods, placed, replaces) {
				continue
			}
			placed[m], progress = true, true
			out = append(out, m)
		}
		if !progress { // a cycle: place the first left, then go on
			for _, m := range mods {
				if !placed[m] {
					placed[m] = true
					out = append(out, m)
					break
				}
			}
		}
	}
	return out
}

// readyAfter reports whether every module of mods that m replaces is placed.
func readyAfter(m *workspace.Module, mods []*workspace.Module, placed map[*workspace.Module]bool, replaces map[*workspace.Module]map[string]bool) bool {
	for _, o := range mods {
		if o != m && !placed[o] && replaces[m][o.Dir] {
			return false
		}
	}
	return true
}

// dependents returns the module's dependents, computed once per analysis.
func (c *modCtx) dependents() []*workspace.Module {
	if c.an == nil {
		return dependents(c.ws, c.mod.Dir)
	}
	deps, ok := c.an.dependents[c.mod.Dir]
	if !ok {
		if c.an.dependents == nil {
			c.an.dependents = map[string][]*workspace.Module{}
		}
		deps = dependents(c.ws, c.mod.Dir)
		c.an.dependents[c.mod.Dir] = deps
	}
	return deps
}

// thenTidyDependents returns cmd, run in the module's directory, followed
// by `go mod tidy` in every module that replaces it with its directory
// (see dependents): the command for a fix that changes the module's go.mod.
func (c *modCtx) thenTidyDependents(cmd string) string {
	deps := c.dependents()
	if len(deps) == 0 {
		return finding.InDir(c.mod.Rel, cmd)
	}
	parts := []string{"(" + finding.InDir(c.mod.Rel, cmd) + ")"}
	for _, d := range deps {
		parts = append(parts, "("+finding.InDir(d.Rel, "go mod tidy")+")")
	}
	return strings.Join(parts, " && ")
}
