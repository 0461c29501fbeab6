package check

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/modhygiene/modhygiene/internal/finding"
)

// deprecated implements MH006 deprecated: a module of the build list whose
// latest go.mod carries a "// Deprecated:" comment (go list -m -u). The
// successor named in the message, if any, is in the message and the fix.
// It is a warning when the module is required directly or linked, and
// info when it is only in the module graph.
func deprecated(c *modCtx) []finding.Finding {
	if !c.g.Online {
		return nil
	}
	var fs []finding.Finding
	for _, m := range c.g.Deps() {
		if m.Deprecated == "" {
			continue
		}
		msg := strings.Join(strings.Fields(m.Deprecated), " ")
		succ := successor(m.Path, msg)
		sev := finding.Info
		if c.direct(m.Path) || c.g.IsLinked(m.Path) {
			sev = finding.Warning
		}
		text := fmt.Sprintf("%s is deprecated: %s", m.Path, msg)
		if succ != "" {
			text += fmt.Sprintf(" (successor: %s)", succ)
		}
		f := c.newFinding("MH006", sev, m.Path, text)
		switch {
		case (c.direct(m.Path) || c.bringer(m.Path) == "") && succ != "":
			f.Fix = c.rewriteFix(m.Path, succ)
		case c.bringer(m.Path) != "":
			f.Fix = c.upgradeFix(m.Path)
		}
		fs = append(fs, f)
	}
	return fs
}

var modulePathRE = regexp.MustCompile(`\b(?:[a-z0-9][-a-z0-9]*\.)+[a-z]{2,}(?:/[A-Za-z0-9._~+-]*[A-Za-z0-9_~+-])+`)

// successor returns the first module path in a deprecation message that is
// not the deprecated module itself.
func successor(self, msg string) string {
	for _, p := range modulePathRE.FindAllString(msg, -1) {
		p = strings.TrimSuffix(p, ".git")
		if p != self && !strings.HasPrefix(self, p+"/") && !strings.HasPrefix(p, self+"/") {
			return p
		}
	}
	return ""
}
