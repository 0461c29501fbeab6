package check

import (
	"fmt"
	"strings"

	"github.com/modhygiene/modhygiene/internal/finding"
)

// retracted implements MH007 retracted: the selected version of a module
// is retracted by its author (a retract directive in the module's latest
// go.mod, reported by go list -m -u). The fix upgrades to the newest
// version the proxy offers, which is not retracted.
func retracted(c *modCtx) []finding.Finding {
	if !c.g.Online {
		return nil
	}
	var fs []finding.Finding
	for _, m := range c.g.Deps() {
		if len(m.Retracted) == 0 {
			continue
		}
		why := strings.Join(m.Retracted, "; ")
		if why == "" {
			why = "no reason given"
		}
		f := c.newFinding("MH007", finding.Error, m.Path,
			fmt.Sprintf("%s %s is retracted by its author: %s", m.Path, m.Version, why))
		to := "latest"
		if m.Update != nil && m.Update.Version != "" {
			to = m.Update.Version
		}
		f.Fix = c.cmd(fmt.Sprintf("go get %s@%s", m.Path, to))
		fs = append(fs, f)
	}
	return fs
}
