package check

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"

	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/modgraph"
)

// dupMajor implements MH002 duplicate-major: one module at several major
// versions in a build list (x, x/v2, x/v3; gopkg.in/x.v2 and .v3;
// x v2.0.0+incompatible beside x/v3). Each older major gets a finding.
// Two majors are two APIs that Go builds side by side, so nothing breaks:
//
//   - warning when it and a newer major are both linked into the module's
//     packages or tests. The fix upgrades the dependencies that import the
//     old major to releases that no longer require it. When the module
//     imports the old major itself the move is a code change across APIs
//     (etcd's client/v2 beside client/v3), and no command is printed;
//   - info when one of them is only in the module graph (nothing of it is
//     compiled in), or when no upgrade drops it (the newest release of the
//     dependency still requires it, or it comes in through a module of the
//     repository, where it is reported).
func dupMajor(c *modCtx) []finding.Finding {
	groups := map[string][]*modgraph.Module{}
	for _, m := range c.g.Deps() {
		base, _ := majorOf(m.Path, m.Version)
		groups[base] = append(groups[base], m)
	}
	var fs []finding.Finding
	for _, base := range sortedKeys(groups) {
		ms := groups[base]
		if len(ms) < 2 {
			continue
		}
		sort.SliceStable(ms, func(i, j int) bool {
			_, a := majorOf(ms[i].Path, ms[i].Version)
			_, b := majorOf(ms[j].Path, ms[j].Version)
			if a != b {
				return a < b
			}
			return ms[i].Path < ms[j].Path
		})
		var detail strings.Builder
		for _, m := range ms {
			state := "only in the module graph"
			if c.g.IsLinked(m.Path) {
				state = "linked"
			}
			fmt.Fprintf(&detail, "%s (%s)\n", depLine(c, m), state)
		}
		for _, old := range ms[:len(ms)-1] {
			f := dupMajorFinding(c, old, ms[len(ms)-1], anyLinked(c, ms, old))
			f.Detail = detail.String()
			fs = append(fs, f)
		}
	}
	return fs
}

func dupMajorFinding(c *modCtx, old, newest *modgraph.Module, otherLinked bool) finding.Finding {
	head := fmt.Sprintf("%s %s and %s %s are two major versions of one module", old.Path, old.Version, newest.Path, newest.Version)
	if !c.g.IsLinked(old.Path) || !otherLinked {
		f := c.newFinding("MH002", finding.Info, old.Path, head+"; only one of them is linked into the build, the other is only in the module graph: nothing to do")
		if !c.g.IsLinked(old.Path) {
			f.Message = head + "; " + old.Path + " is only in the module graph, no package of it is linked: nothing to do"
		}
		f.Other = c.side(newest.Path)
		return f
	}
	p := c.planDrop(old.Path)
	sev, how := finding.Warning, "both are linked into the build"
	switch {
	case p.own:
		how += "; the module imports " + old.Path + " itself, and moving to another major is a change of code (no command)"
	case p.sibling != "":
		sev, how = finding.Info, how+fmt.Sprintf(" through %s, a module of this repository: it is reported there", p.sibling)
	case len(p.targets) == 0:
		sev, how = finding.Info, how+"; nothing to do here: "+p.blocker
	}
	f := c.newFinding("MH002", sev, old.Path, head+"; "+how)
	f.Line = p.line(c, old.Path)
	f.Fix = p.fix(c)
	f.Other = c.side(newest.Path)
	if f.Fix != "" {
		f.Target = targetOf(p.targets)
	}
	return f
}

func anyLinked(c *modCtx, ms []*modgraph.Module, except *modgraph.Module) bool {
	for _, m := range ms {
		if m != except && c.g.IsLinked(m.Path) {
			return true
		}
	}
	return false
}

// depLine renders m and how it enters the build: "gopkg.in/yaml.v2 v2.4.0
// <- k8s.io/apimachinery <- sigs.k8s.io/controller-runtime", the main
// module left out.
func depLine(c *modCtx, m *modgraph.Module) string {
	s := m.Path + " " + m.Version
	if ch := c.g.Chain(m.Path); len(ch) > 2 {
		s += " <- " + reverseChain(ch[1:len(ch)-1])
	}
	return s
}

// majorOf returns the path without its major-version suffix and the major
// version as a number: gopkg.in/yaml.v2 → (gopkg.in/yaml, 2);
// x/v3 → (x, 3); x at v2.1.0+incompatible → (x, 2); x at v1 or v0 → (x, 1).
func majorOf(path, version string) (string, int) {
	prefix, pathMajor, ok := module.SplitPathVersion(path)
	if !ok {
		return path, 1
	}
	if pathMajor != "" {
		n, err := strconv.Atoi(strings.TrimLeft(pathMajor, "/.v"))
		if err != nil {
			return prefix, 1
		}
		if n == 0 {
			n = 1
		}
		return prefix, n
	}
	if strings.HasSuffix(version, "+incompatible") {
		if n, err := strconv.Atoi(strings.TrimPrefix(semver.Major(version), "v")); err == nil && n > 1 {
			return prefix, n
		}
	}
	return prefix, 1
}
