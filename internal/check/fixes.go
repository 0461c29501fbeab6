package check

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/modgraph"
)

// dropPlan says how a module can stop linking a dependency (an old major,
// a twin, a deprecated module): by changing its own imports, by upgrading
// the dependencies that import it, or not at all from this module.
type dropPlan struct {
	// own is set when a package of the module imports it itself.
	own bool
	// sibling is the repository module, replaced by a local directory,
	// through which it comes in: the finding is that module's to fix.
	sibling string
	// targets are the upgrades (path@version) that stop every importer
	// from requiring it; empty when there is no such set.
	targets []string
	// blocker says why no upgrade helps, such as "the newest
	// example.com/lib v1.4.0 still requires it".
	blocker string
	// pending is set when the answer waits for a proxy lookup.
	pending bool
}

// planDrop works out how the module can stop linking old. The importers
// are the modules whose packages import a package of old (from the
// package listing; without one, the linked modules that require it).
// Each importer other than the module itself must move to a release that
// no longer requires old: online, the importer's newest release (go list
// -m -u) is looked up and its go.mod read; offline, "@latest" is assumed.
// An importer that is a local replacement cannot be upgraded here.
func (c *modCtx) planDrop(old string) dropPlan {
	var p dropPlan
	importers := c.g.Importers(old)
	if len(importers) == 0 {
		if b := c.bringer(old); b != "" {
			importers = []string{b}
		} else {
			importers = []string{c.g.Main}
		}
	}
	for _, b := range importers {
		if b == c.g.Main {
			p.own = true
			continue
		}
		sel := c.g.Selected(b)
		switch {
		case sel == nil:
			p.blocker = fmt.Sprintf("%s imports it and is not in the build list", b)
		case sel.LocalReplace():
			p.sibling = b
		default:
			t, why, pending := c.upgradeDropping(sel, old)
			if t == "" {
				p.blocker, p.pending = why, p.pending || pending
				continue
			}
			p.targets = append(p.targets, t)
		}
	}
	if p.blocker != "" || p.sibling != "" {
		p.targets = nil
	}
	return p
}

// upgradeDropping returns the upgrade (path@version) of the dependency
// that no longer requires old, or why there is none: its newest release
// (go list -m -u), whose go.mod must not require old nor a Go newer than
// the repository's modules use.
func (c *modCtx) upgradeDropping(sel *modgraph.Module, old string) (target, why string, pending bool) {
	path := sel.Path
	if !c.g.Online {
		return path + "@latest", "", false
	}
	if sel.Error != nil {
		return "", fmt.Sprintf("the newest %s could not be looked up", path), false
	}
	if sel.Update == nil {
		return "", fmt.Sprintf("%s %s is its newest release and still imports it", path, sel.Version), false
	}
	newest := sel.Update.Version
	m, ok := c.lookup(path, newest)
	if !ok {
		return "", fmt.Sprintf("%s %s was not looked up", path, newest), true
	}
	if m.Error != nil || m.GoMod == "" {
		return "", fmt.Sprintf("%s %s could not be looked up", path, newest), false
	}
	for _, r := range modgraph.ReadRequirements(m.GoMod) {
		if r.Path == old {
			return "", fmt.Sprintf("the newest %s %s still requires it", path, newest), false
		}
	}
	goVersion := m.GoVersion
	if goVersion == "" {
		goVersion = modgraph.ReadGoVersion(m.GoMod)
	}
	if max := c.an.maxGo(); goVersion != "" && max != "" && cmpGo(goVersion, max) > 0 {
		return "", fmt.Sprintf("the newest %s %s needs go %s, newer than any module of the repository (go %s)", path, newest, goVersion, max), false
	}
	return path + "@" + newest, "", false
}

// maxGo returns the highest go line of the repository's modules: an
// upgrade that needs a newer Go would drop every Go version the
// repository builds with (and fail with GOTOOLCHAIN=local).
func (an *analysis) maxGo() string {
	max := ""
	for _, m := range an.in.Workspace.Modules {
		if m.File != nil && m.File.Go != nil && (max == "" || cmpGo(m.File.Go.Version, max) > 0) {
			max = m.File.Go.Version
		}
	}
	return max
}

// fix returns the plan's command: the upgrades and a tidy, or "".
func (p dropPlan) fix(c *modCtx) string {
	if len(p.targets) == 0 || p.own {
		return ""
	}
	return c.goGetTidy(p.targets...)
}

// line is the go.mod line the plan changes: the require line of the first
// dependency it upgrades, else the require line of subject.
func (p dropPlan) line(c *modCtx, subject string) int {
	if len(p.targets) > 0 && !p.own {
		path, _, _ := strings.Cut(p.targets[0], "@")
		return c.mod.RequireLine(path)
	}
	return c.mod.RequireLine(subject)
}

// rewriteFix is the command that moves the module's own imports of the
// module path old (and its packages) to new, upgrades the dependencies in
// targets and tidies: only for drop-in replacements, whose packages keep
// their names and API.
func (c *modCtx) rewriteFix(old, new string, targets ...string) string {
	expr := "s#\"" + sedQuote(old) + "\\([/\"]\\)#\"" + strings.ReplaceAll(new, "#", "\\#") + "\\1#g"
	line := finding.Command("grep", "-rlF", "--include=*.go", "\""+old, ".") + " | " + finding.Command("xargs", "-r", "sed", "-i", expr)
	if len(targets) > 0 {
		line += " && " + finding.Command(append([]string{"go", "get"}, targets...)...)
	}
	return c.thenTidyDependents(line+" && go mod tidy", targets)
}

var sedSpecial = regexp.MustCompile(`[][\\.*^$#]`)

// sedQuote escapes s for a basic regular expression delimited by #.
func sedQuote(s string) string { return sedSpecial.ReplaceAllString(s, `\$0`) }

// foldInfos keeps one info finding per rule and subject across the
// repository's modules for the graph-only rules (MH002, MH003, MH004,
// MH006, MH007): the first module's, its detail naming the others. An info that
// another module has as a warning or error is dropped there.
func foldInfos(fs []finding.Finding) []finding.Finding {
	fold := map[string]bool{"MH002": true, "MH003": true, "MH004": true, "MH006": true, "MH007": true}
	type key struct{ rule, subject string }
	serious := map[key]bool{}
	for _, f := range fs {
		if f.Severity > finding.Info {
			serious[key{f.Rule, f.Subject}] = true
		}
	}
	first := map[key]int{}
	out := fs[:0:0]
	for _, f := range fs {
		k := key{f.Rule, f.Subject}
		if f.Severity != finding.Info || !fold[f.Rule] {
			out = append(out, f)
			continue
		}
		if serious[k] {
			continue
		}
		if i, ok := first[k]; ok {
			out[i].Detail += "also in " + f.File + "\n"
			continue
		}
		first[k] = len(out)
		out = append(out, f)
	}
	return out
}
