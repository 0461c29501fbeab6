package check

import (
	"fmt"
	"strings"

	"golang.org/x/mod/semver"

	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/modgraph"
)

// renamedTwins implements MH003 renamed-twin: the same code under two
// module paths of one build list, from the twins table (KnownTwins plus the
// configuration) and from paths that differ only in letter case. The
// finding is about the old path; it is an error when both copies are
// linked into the module's packages or tests, else a warning.
func renamedTwins(c *modCtx, twins []Twin) []finding.Finding {
	var fs []finding.Finding
	seen := map[string]bool{}
	deps := c.g.Deps()
	for _, t := range twins {
		for _, old := range matching(deps, t.Old) {
			if t.OldBefore != "" && semver.Compare(old.Version, t.OldBefore) >= 0 {
				continue
			}
			news := matching(deps, t.New)
			if len(news) == 0 || seen[old.Path] {
				continue
			}
			seen[old.Path] = true
			reason := t.Reason
			if reason == "" {
				reason = "the configuration names them as twins"
			}
			fs = append(fs, twinFinding(c, old, news[len(news)-1], reason))
		}
	}
	// Paths that differ only in case: both copies are written to one
	// directory on case-insensitive file systems, and the go command
	// rejects importing both ("case-insensitive import collision").
	byFold := map[string][]*modgraph.Module{}
	for _, m := range deps {
		byFold[strings.ToLower(m.Path)] = append(byFold[strings.ToLower(m.Path)], m)
	}
	for _, k := range sortedKeys(byFold) {
		ms := byFold[k]
		if len(ms) < 2 {
			continue
		}
		// The all-lower-case path (or the last in order) is the one to keep.
		keep := ms[len(ms)-1]
		for _, m := range ms {
			if m.Path == strings.ToLower(m.Path) {
				keep = m
			}
		}
		for _, m := range ms {
			if m == keep || seen[m.Path] {
				continue
			}
			seen[m.Path] = true
			fs = append(fs, twinFinding(c, m, keep, "the paths differ only in letter case"))
		}
	}
	return fs
}

func twinFinding(c *modCtx, old, new *modgraph.Module, reason string) finding.Finding {
	sev, how := finding.Warning, "at most one of them is linked into the build"
	if c.g.IsLinked(old.Path) && c.g.IsLinked(new.Path) {
		sev, how = finding.Error, "both are linked into the build, and values of one are not accepted by the other"
	}
	f := c.newFinding("MH003", sev, old.Path, fmt.Sprintf("%s %s and %s %s hold the same code (%s); %s",
		old.Path, old.Version, new.Path, new.Version, reason, how))
	f.Detail = depLine(c, old) + "\n" + depLine(c, new) + "\n"
	if c.direct(old.Path) || c.bringer(old.Path) == "" {
		f.Fix = c.rewriteFix(old.Path, new.Path)
	} else {
		f.Fix = c.upgradeFix(old.Path)
	}
	return f
}

// matching returns the modules whose path is p or p at another major
// version (p/v2, p/v3, ...), in build-list order.
func matching(deps []*modgraph.Module, p string) []*modgraph.Module {
	var out []*modgraph.Module
	for _, m := range deps {
		if m.Path == p {
			out = append(out, m)
			continue
		}
		if base, _ := majorOf(m.Path, m.Version); base == p && strings.HasPrefix(m.Path, p+"/v") {
			out = append(out, m)
		}
	}
	return out
}
