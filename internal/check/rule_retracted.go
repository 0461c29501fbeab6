package check

import (
	"fmt"
	"strings"

	"github.com/modhygiene/modhygiene/internal/finding"
)

// retracted implements MH007 retracted: the selected version of a module
// is retracted by its author (a retract directive in the module's latest
// go.mod, reported by go list -m -u). It is an error when a package of it
// is linked: the fix upgrades to the newest version the proxy offers,
// which is not retracted, and survives go mod tidy because the module is
// linked. It is info when the module is only in the module graph: nothing
// of it is compiled in, and go mod tidy would undo an upgrade. Modules
// replaced by a local directory are left out.
func retracted(c *modCtx) []finding.Finding {
	if !c.g.Online {
		return nil
	}
	var fs []finding.Finding
	for _, m := range c.g.Deps() {
		if len(m.Retracted) == 0 || m.LocalReplace() {
			continue
		}
		why := strings.Join(m.Retracted, "; ")
		if why == "" {
			why = "no reason given"
		}
		msg := fmt.Sprintf("%s %s is retracted by its author: %s", m.Path, m.Version, why)
		if !c.g.IsLinked(m.Path) {
			fs = append(fs, c.newFinding("MH007", finding.Info, m.Path, msg+"; no package of it is linked: nothing to do"))
			continue
		}
		f := c.newFinding("MH007", finding.Error, m.Path, msg)
		if m.Update != nil && m.Update.Version != "" {
			f.Fix = c.goGetTidy(m.Path + "@" + m.Update.Version)
		}
		fs = append(fs, f)
	}
	return fs
}
