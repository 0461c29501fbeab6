package check

import (
	"fmt"
	"sort"
	"strings"

	"golang.org/x/mod/semver"

	"github.com/modhygiene/modhygiene/internal/finding"
)

// drift implements MH005 cross-module-drift: modules of one repository
// whose build lists select different versions of the same dependency. Each
// module behind the highest version gets a finding at its require line;
// the detail lists module -> version. The fix is `go work sync` when the
// repository has a go.work, else `go get dep@version` in the module.
// Only dependencies that both sides compile in count: a module's linked
// dependencies (go list -deps -test), or, when its packages could not be
// listed, the requirements in its go.mod. Versions that are only in the
// module graph do not reach the binaries and tests, so differences there
// are left to MVS. Dependencies that are modules of the repository, and
// dependencies that a module replaces, are left out.
func drift(in *Input) []finding.Finding {
	ws := in.Workspace
	if len(ws.Modules) < 2 {
		return nil
	}
	own := map[string]bool{}
	for _, m := range ws.Modules {
		own[m.Path] = true
	}
	type use struct {
		mc      *modCtx
		version string
	}
	uses := map[string][]use{}
	replaced := map[string]bool{}
	for i, m := range ws.Modules {
		if i >= len(in.Graphs) || in.Graphs[i] == nil {
			continue
		}
		mc := &modCtx{ws: ws, mod: m, g: in.Graphs[i]}
		for _, d := range mc.g.Deps() {
			if own[d.Path] {
				continue
			}
			if d.Replace != nil {
				replaced[d.Path] = true
				continue
			}
			if !mc.compiles(d.Path) {
				continue
			}
			uses[d.Path] = append(uses[d.Path], use{mc, d.Version})
		}
	}
	var fs []finding.Finding
	for _, dep := range sortedKeys(uses) {
		us := uses[dep]
		if replaced[dep] || len(us) < 2 {
			continue
		}
		max := us[0].version
		for _, u := range us[1:] {
			if semver.Compare(u.version, max) > 0 {
				max = u.version
			}
		}
		var detail strings.Builder
		same := true
		rows := append([]use(nil), us...)
		sort.SliceStable(rows, func(i, j int) bool { return rows[i].mc.mod.Rel < rows[j].mc.mod.Rel })
		for _, u := range rows {
			fmt.Fprintf(&detail, "%s -> %s\n", u.mc.mod.GoModFile(), u.version)
			if u.version != max {
				same = false
			}
		}
		if same {
			continue
		}
		var others []string
		for _, u := range rows {
			if u.version == max {
				others = append(others, u.mc.mod.Name())
			}
		}
		for _, u := range rows {
			if u.version == max {
				continue
			}
			verb := "selects"
			if len(others) > 1 {
				verb = "select"
			}
			f := u.mc.newFinding("MH005", finding.Warning, dep,
				fmt.Sprintf("selects %s %s, while %s %s %s", dep, u.version, strings.Join(others, ", "), verb, max))
			f.Detail = detail.String()
			if ws.WorkFile != "" {
				f.Fix = inDir(ws.Rel(ws.Root), "go work sync")
			} else {
				f.Fix = u.mc.cmd(fmt.Sprintf("go get %s@%s", dep, max))
			}
			fs = append(fs, f)
		}
	}
	return fs
}

// compiles reports whether path is compiled into the module's packages or
// tests: linked, or required in go.mod when packages are unknown.
func (c *modCtx) compiles(path string) bool {
	if c.g.Linked != nil {
		return c.g.IsLinked(path)
	}
	return c.mod.RequireLine(path) != c.mod.ModuleLine()
}
