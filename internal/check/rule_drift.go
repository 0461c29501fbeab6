package check

import (
	"fmt"
	"sort"
	"strings"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"

	"github.com/modhygiene/modhygiene/internal/finding"
)

// drift implements MH005 cross-module-drift: modules of one repository
// whose build lists select different versions of the same dependency. Each
// module behind the highest version gets a finding at its require line;
// the detail lists module -> version. The fix is `go work sync` when the
// repository has a go.work, else `go get dep@version` in the module. When
// the highest version is a pseudo-version and the proxy has the release it
// precedes, made from that commit or after it, the target is the release
// and modules at the pseudo-version are moved too.
// Only dependencies that both sides compile in count: a module's linked
// dependencies (go list -deps -test), or, when its packages could not be
// listed, the requirements in its go.mod. Versions that are only in the
// module graph do not reach the binaries and tests, so differences there
// are left to MVS. Dependencies that are modules of the repository, and
// dependencies that a module replaces, are left out, and so are those that
// come in through a stale sibling (MH011), which is reported instead.
func drift(an *analysis) []finding.Finding {
	ws := an.in.Workspace
	if len(ws.Modules) < 2 {
		return nil
	}
	uses, replaced := driftUses(an)
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
		target := releaseOf(us[0].mc, dep, max)
		sort.SliceStable(us, func(i, j int) bool { return us[i].mc.mod.Rel < us[j].mc.mod.Rel })
		var detail strings.Builder
		same := true
		var others []string
		var ahead *finding.Side
		for _, u := range us {
			fmt.Fprintf(&detail, "%s -> %s\n", u.mc.mod.GoModFile(), u.version)
			same = same && u.version == target
			if u.version == max {
				others = append(others, u.mc.mod.Name())
				if ahead == nil {
					ahead = &finding.Side{Module: dep, Version: max, Path: u.mc.g.Chain(dep)}
				}
			}
		}
		if same {
			continue
		}
		for _, u := range us {
			if u.version == target {
				continue
			}
			f := driftFinding(u.mc, dep, u.version, max, target, others, detail.String())
			f.Other = ahead
			fs = append(fs, f)
		}
	}
	return fs
}

type driftUse struct {
	mc      *modCtx
	version string
}

// driftUses collects, per dependency, the modules that compile it in and
// the version each selects, and the dependencies some module replaces.
func driftUses(an *analysis) (map[string][]driftUse, map[string]bool) {
	ws := an.in.Workspace
	uses := map[string][]driftUse{}
	replaced := map[string]bool{}
	for i, m := range ws.Modules {
		if i >= len(an.in.Graphs) || an.in.Graphs[i] == nil {
			continue
		}
		mc := &modCtx{ws: ws, mod: m, g: an.in.Graphs[i], an: an}
		for _, d := range mc.g.Deps() {
			switch {
			case isRepoModule(ws, d.Path):
			case d.Replace != nil:
				replaced[d.Path] = true
			case mc.compiles(d.Path) && !an.throughStale(mc, d.Path):
				uses[d.Path] = append(uses[d.Path], driftUse{mc, d.Version})
			}
		}
	}
	return uses, replaced
}

func driftFinding(mc *modCtx, dep, have, max, target string, others []string, detail string) finding.Finding {
	verb := "selects"
	if len(others) > 1 {
		verb = "select"
	}
	msg := fmt.Sprintf("selects %s %s, while %s %s %s", dep, have, strings.Join(others, ", "), verb, max)
	if have == max {
		msg = fmt.Sprintf("selects %s %s, a pseudo-version of a commit the release %s includes", dep, have, target)
	} else if target != max {
		msg += fmt.Sprintf(", a pseudo-version of a commit the release %s includes", target)
	}
	f := mc.newFinding("MH005", finding.Warning, dep, msg)
	f.Detail = detail
	if ws := mc.ws; ws.WorkFile != "" {
		f.Fix = finding.InDir(ws.Rel(ws.Root), "go work sync")
	} else {
		f.Fix, f.Target = mc.goGetTidy(dep+"@"+target), dep
	}
	return f
}

// releaseOf returns the release that the pseudo-version v precedes (v1.2.4
// for v1.2.4-0.20260101000000-abcdef123456) when the proxy has it and it
// was made from v's commit (the origin's hash) or, without an origin, no
// earlier than v's commit time; else v itself.
func releaseOf(c *modCtx, path, v string) string {
	if !module.IsPseudoVersion(v) {
		return v
	}
	rel := strings.SplitN(v, "-", 2)[0]
	if !semver.IsValid(rel) || !strings.Contains(strings.TrimPrefix(v, rel+"-"), ".") {
		return v // vX.0.0-TIME-HASH: no tag before it, so no release follows
	}
	m, ok := c.lookup(path, rel)
	if !ok || m.Error != nil {
		return v
	}
	rev, err1 := module.PseudoVersionRev(v)
	t, err2 := module.PseudoVersionTime(v)
	if err1 != nil || err2 != nil {
		return v
	}
	if info := c.g.Info(path, rel); info != nil && info.Origin != nil && info.Origin.Hash != "" {
		if strings.HasPrefix(info.Origin.Hash, rev) {
			return rel
		}
		return v
	}
	if m.Time != nil && !m.Time.Before(t) {
		return rel
	}
	return v
}

// compiles reports whether path is compiled into the module's packages or
// tests: linked, or required in go.mod when packages are unknown.
func (c *modCtx) compiles(path string) bool {
	if c.g.Linked != nil {
		return c.g.IsLinked(path)
	}
	return c.mod.RequireLine(path) != c.mod.ModuleLine()
}
