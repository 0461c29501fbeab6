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
// finding is about the old path:
//
//   - error when both copies are linked and their paths differ only in
//     case: the go command refuses the build ("case-insensitive import
//     collision");
//   - warning when both copies are linked. When the module imports the old
//     path itself, the fix rewrites its imports, but only for a drop-in
//     twin (Twin.DropIn: same package names and API); otherwise the
//     message names the migration guide and no command is printed. When
//     dependencies import it, the fix upgrades them to releases that no
//     longer require it;
//   - info when at most one copy is linked, or no upgrade drops it.
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
			fs = append(fs, twinFinding(c, old, news[len(news)-1], t, reason))
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
			fs = append(fs, twinFinding(c, m, keep, Twin{Old: m.Path, New: keep.Path, DropIn: true}, "the paths differ only in letter case"))
		}
	}
	return fs
}

func twinFinding(c *modCtx, old, new *modgraph.Module, t Twin, reason string) finding.Finding {
	head := fmt.Sprintf("%s %s and %s %s hold the same code (%s)", old.Path, old.Version, new.Path, new.Version, reason)
	detail := depLine(c, old) + "\n" + depLine(c, new) + "\n"
	if t.Guide != "" {
		detail += "migration guide: " + t.Guide + "\n"
	}
	if !c.g.IsLinked(old.Path) || !c.g.IsLinked(new.Path) {
		f := c.newFinding("MH003", finding.Info, old.Path, head+"; at most one of them is linked into the build: nothing to do")
		f.Detail, f.Other = detail, c.side(new.Path)
		return f
	}
	sev, how := finding.Warning, "both are linked into the build, and values of one are not accepted by the other"
	if strings.EqualFold(old.Path, new.Path) {
		sev, how = finding.Error, "both are linked into the build, which the go command refuses (case-insensitive import collision)"
	}
	p := c.planDrop(old.Path)
	var fix string
	switch {
	case p.own && (!t.DropIn || old.Path != t.Old):
		how += "; the module imports " + old.Path + " itself: move it to " + new.Path + " by hand"
		if t.Guide != "" {
			how += " (migration guide: " + t.Guide + ")"
		}
	case p.own && p.blocker == "" && p.sibling == "":
		fix = c.rewriteFix(old.Path, t.New, p.targets...)
	case p.own:
		how += "; the module imports " + old.Path + " itself, and dependencies do too"
	case p.sibling != "":
		sev, how = finding.Info, how+fmt.Sprintf(" through %s, a module of this repository: it is reported there", p.sibling)
	case len(p.targets) == 0:
		sev, how = finding.Info, how+"; nothing to do here: "+p.blocker
	default:
		fix = p.fix(c)
	}
	if sev == finding.Info && strings.EqualFold(old.Path, new.Path) {
		sev = finding.Error // the build fails whatever can be done here
	}
	f := c.newFinding("MH003", sev, old.Path, head+"; "+how)
	f.Detail, f.Other = detail, c.side(new.Path)
	f.Line = p.line(c, old.Path)
	f.Fix = fix
	if fix != "" {
		f.Target = targetOf(p.targets)
		if f.Target == "" {
			f.Target = old.Path // the import rewrite
		}
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
