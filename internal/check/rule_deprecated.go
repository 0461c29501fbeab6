package check

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/modgraph"
)

// deprecated implements MH006 deprecated: a module of the build list whose
// latest go.mod carries a "// Deprecated:" comment (go list -m -u). The
// successor named in the message, if any, is in the message. Modules the
// repository replaces with a local directory are its own code and are
// left out.
//
//   - warning when a package of it is linked. When dependencies import
//     it, the fix upgrades them to releases that no longer require it.
//     When the module imports it itself the move is a code change (no
//     command), except for a drop-in twin (KnownTwins), whose imports the
//     fix rewrites;
//   - info when it is only in the module graph, when no upgrade drops it,
//     or when the module is itself the named successor (a wrapper in
//     transition: nothing to do).
func deprecated(c *modCtx) []finding.Finding {
	if !c.g.Online {
		return nil
	}
	var fs []finding.Finding
	for _, m := range c.g.Deps() {
		if m.Deprecated == "" || m.LocalReplace() {
			continue
		}
		msg := strings.Join(strings.Fields(m.Deprecated), " ")
		succ := successor(m.Path, msg)
		text := fmt.Sprintf("%s is deprecated: %s", m.Path, msg)
		if succ != "" && succ != c.mod.Path {
			text += fmt.Sprintf(" (successor: %s)", succ)
		}
		fs = append(fs, deprecatedFinding(c, m, succ, text))
	}
	return fs
}

func deprecatedFinding(c *modCtx, m *modgraph.Module, succ, text string) finding.Finding {
	switch {
	case succ == c.mod.Path:
		return c.newFinding("MH006", finding.Info, m.Path, text+"; this module is the successor it names: nothing to do")
	case !c.g.IsLinked(m.Path):
		return c.newFinding("MH006", finding.Info, m.Path, text+"; no package of it is linked: nothing to do")
	}
	p := c.planDrop(m.Path)
	sev, how, fix := finding.Warning, "", ""
	switch {
	case p.own && p.blocker == "" && p.sibling == "" && succ != "" && dropIn(c.an.twins, m.Path, succ):
		fix = c.rewriteFix(m.Path, succ, p.targets...)
	case p.own && succ != "":
		how = "; the module imports it itself: move to " + succ + " by hand"
	case p.own:
		how = "; the module imports it itself: move away from it by hand"
	case p.sibling != "":
		sev, how = finding.Info, fmt.Sprintf("; it comes in through %s, a module of this repository: it is reported there", p.sibling)
	case len(p.targets) == 0:
		sev, how = finding.Info, "; nothing to do here: "+p.blocker
	default:
		fix = p.fix(c)
	}
	f := c.newFinding("MH006", sev, m.Path, text+how)
	f.Line = p.line(c, m.Path)
	f.Fix = fix
	return f
}

// dropIn reports whether the twins table calls new a drop-in replacement
// of old.
func dropIn(twins []Twin, old, new string) bool {
	for _, t := range twins {
		if t.DropIn && t.Old == old && t.New == new {
			return true
		}
	}
	return false
}

var (
	modulePathRE = regexp.MustCompile(`\b(?:[a-z0-9][-a-z0-9]*\.)+[a-z]{2,}(?:/[A-Za-z0-9._~+-]*[A-Za-z0-9_~+-])+`)
	urlRE        = regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://\S+`)
)

// successor returns the first module path in a deprecation message that is
// not the deprecated module itself, nor text of a URL (a link to a
// migration guide is not a module path). A new major version of the
// module (x/v2 for x) is a successor; a package or a parent of it is not.
func successor(self, msg string) string {
	msg = urlRE.ReplaceAllString(msg, " ")
	base, _ := majorOf(self, "")
	for _, p := range modulePathRE.FindAllString(msg, -1) {
		p = strings.TrimSuffix(p, ".git")
		if p == self {
			continue
		}
		if pb, _ := majorOf(p, ""); pb == base && p != base {
			return p // a new major: x/v2 for x
		}
		if strings.HasPrefix(self, p+"/") || strings.HasPrefix(p, self+"/") {
			continue
		}
		return p
	}
	return ""
}
