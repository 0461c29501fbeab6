package check

import (
	"fmt"
	"path/filepath"
	"strings"

	"golang.org/x/mod/semver"

	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

// staleSiblings implements MH011 stale-sibling: a module of the repository
// that requires another module of the same repository without a replace,
// and selects an older release of it than the repository's version. It
// builds and tests against that old published release rather than the
// code beside it, which is the root cause of many drift findings (they are
// folded into this one) and of vulnerabilities fixed long ago in the
// repository (go-zero's tools/goctl requiring go-zero v1.3.4 while the
// repository is at v1.4.4).
//
// The repository's version of a module is the highest version at which
// the repository's other modules require it, with or without a replace:
// that is what the repository itself declares, and it is sound for a
// checkout of any tag (the crosslink layout requires the version being
// released). When no other module requires it, it is the newest release
// of its major version that the proxy knows (online only).
//
// Warning when the sibling is linked, info when it is only in the module
// graph. The fix moves the requirement to the repository's version when
// the proxy has that version, else it adds the replace by the sibling's
// directory (the crosslink layout).
func staleSiblings(an *analysis) []finding.Finding {
	ws := an.in.Workspace
	var fs []finding.Finding
	for i, a := range ws.Modules {
		if i >= len(an.in.Graphs) || an.in.Graphs[i] == nil || a.File == nil {
			continue
		}
		c := &modCtx{ws: ws, mod: a, g: an.in.Graphs[i], an: an}
		for _, r := range a.File.Require {
			b := repoModule(ws, r.Mod.Path)
			if b == nil || b == a || replaces(a, b.Path) {
				continue
			}
			if f, ok := c.staleFinding(b); ok {
				fs = append(fs, f)
			}
		}
	}
	return fs
}

func (c *modCtx) staleFinding(b *workspace.Module) (finding.Finding, bool) {
	sel := c.g.Selected(b.Path)
	if sel == nil || sel.Replace != nil {
		return finding.Finding{}, false
	}
	want, from := repoVersion(c.ws, c.mod, b.Path)
	if want == "" && c.g.Online && sel.Error == nil {
		want, from = sel.Version, "the newest release the module proxy knows"
		if sel.Update != nil {
			want = sel.Update.Version
		}
	}
	if want == "" || semver.Compare(sel.Version, want) >= 0 {
		return finding.Finding{}, false
	}
	sev, how := finding.Warning, ""
	if !c.g.IsLinked(b.Path) {
		sev, how = finding.Info, "; no package of it is linked"
	}
	f := c.newFinding("MH011", sev, b.Path,
		fmt.Sprintf("requires %s %s without a replace, so it builds against that published release, while the repository is at %s (%s)%s",
			b.Path, sel.Version, want, from, how))
	f.Fix = c.siblingFix(b, want)
	c.an.stale[staleKey{c.mod, b.Path}] = true
	return f, true
}

// repoModule returns the module of the repository with path p, or nil.
func repoModule(ws *workspace.Workspace, p string) *workspace.Module {
	for _, m := range ws.Modules {
		if m.Path == p {
			return m
		}
	}
	return nil
}

// repoVersion returns the highest version at which the repository's
// modules other than a require p, and which of them requires it so.
func repoVersion(ws *workspace.Workspace, a *workspace.Module, p string) (version, from string) {
	for _, m := range ws.Modules {
		if m == a || m.File == nil {
			continue
		}
		for _, r := range m.File.Require {
			if r.Mod.Path == p && semver.Compare(r.Mod.Version, version) > 0 {
				version, from = r.Mod.Version, "required by "+m.Name()
			}
		}
	}
	return version, from
}

// siblingFix moves the requirement on sibling b to version want when the
// proxy (or, offline, the module cache) has it, else adds the replace by
// b's directory.
func (c *modCtx) siblingFix(b *workspace.Module, want string) string {
	published := c.g.Info(b.Path, want) != nil
	if m, ok := c.lookup(b.Path, want); ok {
		published = m.Error == nil
	}
	if published {
		return c.goGetTidy(b.Path + "@" + want)
	}
	rel, err := filepath.Rel(c.mod.Dir, b.Dir)
	if err != nil {
		return ""
	}
	rel = filepath.ToSlash(rel)
	if rel != ".." && !strings.HasPrefix(rel, "../") {
		rel = "./" + rel
	}
	return c.cmd("go", "mod", "edit", "-replace="+b.Path+"="+rel) + " && go mod tidy"
}

// staleKey names a module of the repository and a sibling it requires at
// a stale release.
type staleKey struct {
	mod     *workspace.Module
	sibling string
}

// throughStale reports whether path comes into c's build through a
// sibling that c requires at a stale release: its drift follows from the
// MH011 finding and is not reported on its own.
func (an *analysis) throughStale(c *modCtx, path string) bool {
	for _, step := range c.g.Chain(path) {
		p, _, _ := strings.Cut(step, "@")
		if an.stale[staleKey{c.mod, p}] {
			return true
		}
	}
	return false
}
