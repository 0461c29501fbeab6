package check

import (
	"fmt"
	"go/version"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/modfile"

	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

// directives implements the per-module part of MH008 directive. The
// findings point at the directive's own line:
//
//   - a guard, a replace by a directory that does not exist (etcd's
//     "=> ./FORBIDDEN_DEPENDENCY"), is intentional: it makes any build that
//     needs the module fail. Only a guard whose module path is nothing
//     plausible (no module of the repository or of any build list, a
//     parent of none, unknown to the proxy) and close to a module of the
//     repository is reported: a typo that guards nothing (etcd v3.5.6's
//     go.etcd.io/tests/v3 for go.etcd.io/etcd/tests/v3). Warning; the fix
//     moves the guard to the intended path;
//   - a replace of a module that is not in the build list does nothing: a
//     warning with the fix that drops it, except for a local replace of a
//     module of this repository, which the crosslink layout adds on
//     purpose (info);
//   - a replace of a version that is not selected does nothing (warning);
//   - an exclude of a module that is not in the build list (warning).
//
// A local replace that a requiring module of the repository lacks is
// reported by crossReplaces, on that module.
func directives(c *modCtx, in *Input) []finding.Finding {
	f := c.mod.File
	if f == nil {
		return nil
	}
	var fs []finding.Finding
	for _, r := range f.Replace {
		if fd, ok := c.replaceFinding(r, in); ok {
			fs = append(fs, fd)
		}
	}
	for _, e := range f.Exclude {
		if c.g.Selected(e.Mod.Path) != nil {
			continue
		}
		ex := e.Mod.Path + "@" + e.Mod.Version
		fs = append(fs, c.directiveFinding(e.Syntax, finding.Warning, "exclude "+ex,
			fmt.Sprintf("exclude of %s, which is not in the build list: the directive does nothing", ex),
			c.cmd("go", "mod", "edit", "-dropexclude="+ex)))
	}
	return append(fs, crossReplaces(c, in)...)
}

// replaceFinding is the finding about one replace directive, if any.
func (c *modCtx) replaceFinding(r *modfile.Replace, in *Input) (finding.Finding, bool) {
	old := r.Old.Path
	if r.Old.Version != "" {
		old += "@" + r.Old.Version
	}
	if r.New.Version == "" && !dirExists(c.mod.Dir, r.New.Path) {
		return c.guardFinding(r, in)
	}
	sel := c.g.Selected(r.Old.Path)
	drop := c.cmd("go", "mod", "edit", "-dropreplace="+old)
	switch {
	case (sel == nil || sel.Main) && r.New.Version == "" && isRepoModule(in.Workspace, r.Old.Path):
		return c.directiveFinding(r.Syntax, finding.Info, "replace "+old,
			fmt.Sprintf("replace of %s, a module of this repository that is not in the build list: the directive does nothing here (the crosslink layout adds it on purpose)", old), ""), true
	case sel == nil || sel.Main:
		return c.directiveFinding(r.Syntax, finding.Warning, "replace "+old,
			fmt.Sprintf("replace of %s, which is not in the build list: the directive does nothing", old), drop), true
	case r.Old.Version != "" && sel.Version != r.Old.Version:
		f := c.directiveFinding(r.Syntax, finding.Warning, "replace "+old,
			fmt.Sprintf("replace of %s, but %s is selected: the directive does nothing", old, sel.Version), drop)
		f.Path = c.g.Chain(r.Old.Path)
		return f, true
	}
	return finding.Finding{}, false
}

// guardFinding reports a guard replace whose module path is a likely
// typo of a module of the repository.
func (c *modCtx) guardFinding(r *modfile.Replace, in *Input) (finding.Finding, bool) {
	p := r.Old.Path
	if plausiblePath(in, p) {
		return finding.Finding{}, false
	}
	intended := likelyIntended(in.Workspace, p)
	if intended == "" {
		return finding.Finding{}, false
	}
	if m, ok := c.lookup(p, "latest"); !ok && c.g.Online || ok && m.Error == nil {
		return finding.Finding{}, false // pending, or a real module
	}
	msg := fmt.Sprintf("guard replace of %s => %s names a module path that nothing uses, so it guards nothing; the likely intended path is %s", p, r.New.Path, intended)
	fix := c.cmd("go", "mod", "edit", "-dropreplace="+p, "-replace="+intended+"="+r.New.Path)
	if c.g.Selected(intended) != nil {
		fix = "" // the module needs it: a guard there would break the build
	}
	return c.directiveFinding(r.Syntax, finding.Warning, "replace "+p, msg, fix), true
}

func dirExists(base, dir string) bool {
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(base, filepath.FromSlash(dir))
	}
	fi, err := os.Stat(dir)
	return err == nil && fi.IsDir()
}

func isRepoModule(ws *workspace.Workspace, p string) bool {
	for _, m := range ws.Modules {
		if m.Path == p {
			return true
		}
	}
	return false
}

// plausiblePath reports whether p names something real: a module of the
// repository or a parent of one (go.etcd.io/etcd for go.etcd.io/etcd/api/v3),
// a module of a build list, or a requirement of one.
func plausiblePath(in *Input, p string) bool {
	for _, m := range in.Workspace.Modules {
		base, _ := majorOf(m.Path, "")
		if m.Path == p || base == p || strings.HasPrefix(m.Path, p+"/") {
			return true
		}
	}
	for _, g := range in.Graphs {
		if g == nil {
			continue
		}
		if g.Selected(p) != nil {
			return true
		}
		for _, reqs := range g.Requires {
			for _, r := range reqs {
				if r.Path == p {
					return true
				}
			}
		}
	}
	return false
}

// likelyIntended returns the module of the repository that p most likely
// misspells: on p's host, ending in p's path below the host (tests/v3 for
// go.etcd.io/tests/v3) or at most two edits away; "" when none is.
func likelyIntended(ws *workspace.Workspace, p string) string {
	host, tail, _ := strings.Cut(p, "/")
	best, bestD := "", 3
	for _, m := range ws.Modules {
		h, _, _ := strings.Cut(m.Path, "/")
		if h != host || m.Path == p {
			continue
		}
		d := editDistance(m.Path, p)
		if tail != "" && strings.HasSuffix(m.Path, "/"+tail) {
			d = 0
		}
		if d < bestD || d == bestD && best != "" && m.Path < best {
			best, bestD = m.Path, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func (c *modCtx) directiveFinding(syn *modfile.Line, sev finding.Severity, subject, msg, fix string) finding.Finding {
	line := c.mod.ModuleLine()
	if syn != nil {
		line = syn.Start.Line
	}
	return finding.Finding{
		Rule: "MH008", Severity: sev, Message: msg,
		Module: c.mod.Name(), File: c.mod.GoModFile(), Line: line, Subject: subject,
		Fix: fix,
	}
}

// crossReplaces reports, on the module c, a local replace that a module of
// the repository in c's build list carries and c lacks: c links the
// replaced module too, but replace directives apply only in the main
// module, so c builds against the published version while its requirement
// is developed and tested against the local directory. A module that
// carries the same replace (the crosslink layout), or any replace of that
// module, decides for itself; the replaced module itself is c's main
// module when it is c. Warning; the fix adds the replace to c.
func crossReplaces(c *modCtx, in *Input) []finding.Finding {
	var fs []finding.Finding
	seen := map[string]bool{}
	for _, m := range in.Workspace.Modules {
		if m == c.mod || m.File == nil || c.g.Selected(m.Path) == nil {
			continue
		}
		for _, r := range m.File.Replace {
			x := r.Old.Path
			if r.New.Version != "" || seen[x] || x == c.mod.Path || replaces(c.mod, x) ||
				!c.g.IsLinked(x) || !dirExists(m.Dir, r.New.Path) {
				continue
			}
			seen[x] = true
			fs = append(fs, c.crossReplaceFinding(m, r))
		}
	}
	return fs
}

func (c *modCtx) crossReplaceFinding(m *workspace.Module, r *modfile.Replace) finding.Finding {
	x := r.Old.Path
	target := r.New.Path
	if !filepath.IsAbs(target) {
		target = filepath.Join(m.Dir, filepath.FromSlash(target))
	}
	fix := ""
	if rel, err := filepath.Rel(c.mod.Dir, target); err == nil {
		rel = filepath.ToSlash(rel)
		if rel != ".." && !strings.HasPrefix(rel, "../") {
			rel = "./" + rel
		}
		fix = c.cmd("go", "mod", "edit", "-replace="+x+"="+rel) + " && go mod tidy"
	}
	v := ""
	if sel := c.g.Selected(x); sel != nil {
		v = " " + sel.Version
	}
	f := c.newFinding("MH008", finding.Warning, x,
		fmt.Sprintf("%s requires %s, which replaces %s => %s, but this module does not: replace directives apply only in the main module, so this module builds against the published %s%s while %s is developed and tested against the local copy",
			c.mod.Name(), m.Path, x, r.New.Path, x, v, m.Path))
	f.Subject = "replace " + x
	f.Fix = fix
	return f
}

// replaces reports whether m's go.mod has a replace of path (any version).
func replaces(m *workspace.Module, path string) bool {
	if m.File == nil {
		return false
	}
	for _, r := range m.File.Replace {
		if r.Old.Path == path {
			return true
		}
	}
	return false
}

// goLines implements the repository-wide part of MH008: go and toolchain
// lines that disagree across the repository's modules. A lower go line in
// a library is a choice (it keeps an older Go version supported), and a
// dependency that needs a higher one makes go mod tidy raise it (MH001),
// so a disagreement is info, one finding per kind, on the first module
// below the highest value; the detail lists every module below it.
func goLines(ws *workspace.Workspace) []finding.Finding {
	if len(ws.Modules) < 2 {
		return nil
	}
	var fs []finding.Finding
	for _, kind := range []string{"go", "toolchain"} {
		type line struct {
			m   *workspace.Module
			v   string
			syn *modfile.Line
		}
		var ls []line
		for _, m := range ws.Modules {
			switch {
			case m.File == nil:
			case kind == "go" && m.File.Go != nil:
				ls = append(ls, line{m, m.File.Go.Version, m.File.Go.Syntax})
			case kind == "toolchain" && m.File.Toolchain != nil:
				ls = append(ls, line{m, m.File.Toolchain.Name, m.File.Toolchain.Syntax})
			}
		}
		max := ""
		for _, l := range ls {
			if max == "" || cmpGo(l.v, max) > 0 {
				max = l.v
			}
		}
		var below []line
		var detail strings.Builder
		for _, l := range ls {
			if l.v != max && l.syn != nil {
				below = append(below, l)
				fmt.Fprintf(&detail, "%s:%d: %s %s\n", l.m.GoModFile(), l.syn.Start.Line, kind, l.v)
			}
		}
		if len(below) == 0 {
			continue
		}
		l := below[0]
		fs = append(fs, finding.Finding{
			Rule: "MH008", Severity: finding.Info,
			Message: fmt.Sprintf("%s line %s disagrees with %s in other modules of the repository (%d of %d modules are below it); a lower line in a library keeps older Go versions supported, so this is a choice, not a defect",
				kind, l.v, max, len(below), len(ls)),
			Module: l.m.Name(), File: l.m.GoModFile(), Line: l.syn.Start.Line, Subject: kind,
			Detail: detail.String(),
		})
	}
	return fs
}

// cmpGo compares Go versions such as 1.21, 1.21.3, go1.22.0 and 1.23rc1
// in the go command's order (1.21 < 1.21rc1 < 1.21.0).
func cmpGo(a, b string) int {
	return version.Compare("go"+trimGo(a), "go"+trimGo(b))
}

func trimGo(v string) string {
	if len(v) > 2 && v[:2] == "go" {
		return v[2:]
	}
	return v
}
