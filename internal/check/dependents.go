package check

import (
	"strings"

	"golang.org/x/mod/semver"

	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/modgraph"
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
// targets are the path@version (or path@none) the command moves with go
// get. Where the fix could take away what keeps a dependent's build
// unambiguous (see splitPins), the dependent first pins it with go get.
func (c *modCtx) thenTidyDependents(cmd string, targets []string) string {
	deps := c.dependents()
	if len(deps) == 0 {
		return finding.InDir(c.mod.Rel, cmd)
	}
	parts := []string{"(" + finding.InDir(c.mod.Rel, cmd) + ")"}
	for _, d := range deps {
		tidy := "go mod tidy"
		if pins := splitPins(c.an.graphOf(d), c.mod.Path, targets); len(pins) > 0 {
			tidy = finding.Command(append([]string{"go", "get"}, pins...)...) + " && " + tidy
		}
		parts = append(parts, "("+finding.InDir(d.Rel, tidy)+")")
	}
	return strings.Join(parts, " && ")
}

// splitPins returns path@version of each split module that, in the build
// list of g (a dependent's graph), only fixed's go.mod and the modules it
// requires hold at a version after its split. A split module is one whose
// go.mod at the selected version requires modules below its own path
// (google.golang.org/genproto requires google.golang.org/genproto/googleapis/rpc)
// while its go.mod at the version the rest of the graph requires does
// not: that older version may still hold the packages that moved out.
// A fix moves fixed's requirements and go mod tidy may then drop the
// line (kratos v2.9.2: grpc v1.67.1 and the googleapis modules it brings
// no longer require genproto, so the root's tidy removes it), and the
// dependent would fail with "ambiguous import". Pinned with go get in the
// dependent first, the version stays; the dependent's tidy keeps the pin
// only where it is needed. A version whose go.mod is not in the module
// cache is not judged. A module the fix itself moves (one of targets) is
// never pinned, and a pin is never below a version the targets' new go.mod
// files require, so that it cannot be a downgrade.
func splitPins(g *modgraph.Graph, fixed string, targets []string) []string {
	if g == nil {
		return nil
	}
	movable := map[string]bool{fixed: true}
	for _, r := range g.Requires[fixed] {
		movable[r.Path] = true
	}
	moved := targetVersions(targets)
	var pins []string
	for _, r := range g.Requires[fixed] {
		sel := g.Selected(r.Path)
		if sel == nil || sel.Version != r.Version || sel.Replace != nil || moved[r.Path] != "" {
			continue
		}
		old := stableRequire(g, r.Path, movable)
		if old == "" || semver.Compare(old, r.Version) >= 0 {
			continue
		}
		oldReqs := g.RequiresAt(r.Path, old)
		if oldReqs != nil && !requiresBelow(oldReqs, r.Path) && requiresBelow(g.RequiresAt(r.Path, r.Version), r.Path) {
			pins = append(pins, r.Path+"@"+atLeast(g, r.Path, r.Version, moved))
		}
	}
	return pins
}

// targetVersions maps each path of targets (path@version) to its version.
func targetVersions(targets []string) map[string]string {
	out := map[string]string{}
	for _, t := range targets {
		if path, v, ok := strings.Cut(t, "@"); ok {
			out[path] = v
		}
	}
	return out
}

// atLeast returns version, or the highest version of path that the go.mod
// of a moved module at its new version requires, if higher (read from the
// module cache; one that is not there is not known).
func atLeast(g *modgraph.Graph, path, version string, moved map[string]string) string {
	for mod, v := range moved {
		if !semver.IsValid(v) {
			continue // @none, or a query
		}
		for _, r := range g.RequiresAt(mod, v) {
			if r.Path == path && semver.Compare(r.Version, version) > 0 {
				version = r.Version
			}
		}
	}
	return version
}

// stableRequire returns the highest version of path that a module of g
// the fix does not move requires, "" when none does.
func stableRequire(g *modgraph.Graph, path string, movable map[string]bool) string {
	high := ""
	for from, reqs := range g.Requires {
		if movable[from] {
			continue
		}
		for _, r := range reqs {
			if r.Path == path && (high == "" || semver.Compare(r.Version, high) > 0) {
				high = r.Version
			}
		}
	}
	return high
}

// requiresBelow reports whether reqs name a module below path/.
func requiresBelow(reqs []modgraph.Requirement, path string) bool {
	for _, r := range reqs {
		if strings.HasPrefix(r.Path, path+"/") {
			return true
		}
	}
	return false
}

// graphOf returns the loaded graph of mod, or nil.
func (an *analysis) graphOf(mod *workspace.Module) *modgraph.Graph {
	if an == nil || an.in == nil {
		return nil
	}
	for i, m := range an.in.Workspace.Modules {
		if m == mod && i < len(an.in.Graphs) {
			return an.in.Graphs[i]
		}
	}
	return nil
}
