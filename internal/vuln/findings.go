package vuln

import (
	"fmt"
	"sort"
	"strings"

	"golang.org/x/mod/modfile"

	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

// Rule is the rule ID of vulnerability findings.
const Rule = "MH010"

// severity maps a reach to the finding's severity: called is an error,
// imported a warning, only required is information.
func severity(r Reach) finding.Severity {
	switch r {
	case Called:
		return finding.Error
	case Imported:
		return finding.Warning
	}
	return finding.Info
}

// isGo reports whether a vulnerable "module" is Go itself.
func isGo(mod string) bool { return mod == "stdlib" || mod == "toolchain" }

// levelNoPackages is the level passed to Findings for a module that has no
// package to load: only its build list was looked up.
const levelNoPackages = "none"

// Findings returns the MH010 findings of rep for m, the module that was
// scanned: one per vulnerability, on the go.mod line that requires the
// vulnerable module (the go line for the standard library), with the
// severity of its deepest reach. Standard library entries that are only
// required (every module requires the standard library) are left out,
// except at module level, where nothing deeper is known. When a
// vulnerability affects several modules of the build list, the finding sits
// on the line of the one it reaches deepest and its fix upgrades them all.
// depPath, if not nil, gives the requirement path from m to a module path
// (modgraph's Graph.Chain, so that every rule names the same path); without
// it, a called vulnerability's path is the modules its call trace passes
// through. level is the scan level ("module", "package" or "symbol"), used
// in messages.
func (rep *Report) Findings(m *workspace.Module, level string, depPath func(mod string) []string) []finding.Finding {
	groups := map[string][]*Vuln{}
	var ids []string
	for _, v := range rep.Vulns {
		if isGo(v.Module) && v.Reach == Required && level != LevelModule {
			// Every module requires the standard library: only its
			// imported or called packages say something.
			continue
		}
		if _, ok := groups[v.ID]; !ok {
			ids = append(ids, v.ID)
		}
		groups[v.ID] = append(groups[v.ID], v)
	}
	var out []finding.Finding
	for _, id := range ids {
		vs := groups[id]
		sort.SliceStable(vs, func(i, j int) bool { return vs[i].Reach > vs[j].Reach })
		out = append(out, vulnFinding(m, level, vs, depPath))
	}
	return out
}

func vulnFinding(m *workspace.Module, level string, vs []*Vuln, depPath func(string) []string) finding.Finding {
	v := vs[0]
	required := requiredPath(m, v.Module, v.Version)
	fd := finding.Finding{
		Rule:     Rule,
		Severity: severity(v.Reach),
		Module:   m.Path,
		File:     m.GoModFile(),
		Subject:  v.ID,
	}
	if isGo(v.Module) {
		fd.Line = goLine(m)
	} else {
		fd.Line = m.RequireLine(required)
		if depPath != nil {
			fd.Path = depPath(required)
		}
		if fd.Path == nil && v.Reach == Called {
			fd.Path = tracePath(m, v.Trace)
		}
	}
	summary := ""
	if v.Entry != nil {
		summary = v.Entry.Summary
		if summary == "" {
			summary, _, _ = strings.Cut(v.Entry.Details, "\n")
		}
	}
	var b strings.Builder
	b.WriteString(v.ID)
	if summary != "" {
		b.WriteString(": " + summary)
	}
	b.WriteString("; " + reachPhrase(v, level))
	switch {
	case v.Fixed == "":
		b.WriteString("; no fixed version yet")
	case isGo(v.Module):
		b.WriteString("; fixed in " + goTag(v.Fixed))
	default:
		b.WriteString("; fixed in " + v.Fixed)
	}
	fd.Fix = fixCommand(m, vs)
	fd.Message = b.String()
	fd.Detail = detail(vs)
	return fd
}

// reachPhrase says what is vulnerable and how far it reaches.
func reachPhrase(v *Vuln, level string) string {
	what := v.Module + " " + v.Version
	if isGo(v.Module) {
		what = "the standard library of " + goTag(v.Version)
	}
	switch v.Reach {
	case Called:
		return fmt.Sprintf("%s is called (%s)", what, strings.Join(v.Symbols, ", "))
	case Imported:
		if level == LevelPackage {
			return fmt.Sprintf("%s is imported (%s; calls not checked at --scan package)", what, strings.Join(v.Packages, ", "))
		}
		return fmt.Sprintf("%s is imported (%s) but no vulnerable function is called", what, strings.Join(v.Packages, ", "))
	}
	switch level {
	case LevelModule:
		return what + " is required (imports not checked at --scan module)"
	case levelNoPackages:
		return what + " is required (the module has no package to scan under the current build constraints)"
	}
	return what + " is required but no vulnerable package is imported"
}

// detail lists every affected module, the first call trace and the entry's
// URL.
func detail(vs []*Vuln) string {
	var b strings.Builder
	for _, v := range vs {
		fmt.Fprintf(&b, "%s %s: %s", v.Module, v.Version, v.Reach)
		if v.Fixed != "" {
			fmt.Fprintf(&b, ", fixed in %s", v.Fixed)
		}
		b.WriteString("\n")
	}
	if t := vs[0].Trace; len(t) > 1 {
		b.WriteString("call trace:\n")
		// Each frame but the first holds the position of its call of the
		// frame before it.
		for k := len(t) - 1; k >= 1; k-- {
			pos := ""
			if p := t[k].Position; p != nil && p.Filename != "" {
				pos = fmt.Sprintf("%s:%d:%d: ", p.Filename, p.Line, p.Column)
			}
			fmt.Fprintf(&b, "  %s%s calls %s\n", pos, t[k].Symbol(), t[k-1].Symbol())
		}
	}
	if e := vs[0].Entry; e != nil && e.DatabaseSpecific != nil && e.DatabaseSpecific.URL != "" {
		b.WriteString("more: " + e.DatabaseSpecific.URL + "\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// tracePath returns the modules a call trace passes through, from the
// scanned module to the vulnerable one, or nil when the trace does not
// start in the scanned module.
func tracePath(m *workspace.Module, t []*Frame) []string {
	var p []string
	for k := len(t) - 1; k >= 0; k-- {
		mod := requiredPath(m, t[k].Module, t[k].Version)
		if len(p) == 0 || p[len(p)-1] != mod {
			p = append(p, mod)
		}
	}
	if len(p) == 0 || p[0] != m.Path {
		return nil
	}
	return p
}

// requiredPath maps a module as the scan saw it back to the path go.mod
// requires: a replacement is reported under the module it replaces.
func requiredPath(m *workspace.Module, mod, version string) string {
	if m.File == nil {
		return mod
	}
	for _, r := range m.File.Replace {
		if r.New.Path == mod && (r.New.Version == "" || r.New.Version == version) {
			return r.Old.Path
		}
	}
	return mod
}

// replacementOf returns the replace directive of m's go.mod that applies
// to path at version, or nil: one for that version, else one for every
// version.
func replacementOf(m *workspace.Module, path, version string) *modfile.Replace {
	if m.File == nil {
		return nil
	}
	var any *modfile.Replace
	for _, r := range m.File.Replace {
		switch {
		case r.Old.Path != path:
		case r.Old.Version == version:
			return r
		case r.Old.Version == "":
			any = r
		}
	}
	return any
}

// versionedReplaceOf returns the replace directive of m's go.mod that makes
// mod at version (a module as the scan saw it) its replacement, or nil.
// Only a replacement with a version can be moved to a fixed version.
func versionedReplaceOf(m *workspace.Module, mod, version string) *modfile.Replace {
	if m.File == nil || version == "" {
		return nil
	}
	for _, r := range m.File.Replace {
		if r.New.Path == mod && r.New.Version == version {
			return r
		}
	}
	return nil
}

// fixCommand returns the command that moves every module of vs to its
// fixed version, run in m's directory: `go get` of the fixed versions (the
// Go toolchain as toolchain@goX.Y.Z), `go mod edit -replace` for a module
// that a replace directive selects (go get cannot move those), then `go mod
// tidy` when a requirement changed. It returns "" when nothing has a fix.
func fixCommand(m *workspace.Module, vs []*Vuln) string {
	var edits, gets []string
	tidy := false
	for _, x := range vs {
		switch {
		case x.Fixed == "":
		case isGo(x.Module):
			gets = append(gets, "toolchain@"+goTag(x.Fixed))
		case versionedReplaceOf(m, x.Module, x.Version) != nil:
			r := versionedReplaceOf(m, x.Module, x.Version)
			old := r.Old.Path
			if r.Old.Version != "" {
				old += "@" + r.Old.Version
			}
			edits = append(edits, finding.Command("go", "mod", "edit", "-replace="+old+"="+r.New.Path+"@"+x.Fixed))
			tidy = true
		case x.Version != "":
			gets = append(gets, requiredPath(m, x.Module, x.Version)+"@"+x.Fixed)
			tidy = true
		}
	}
	cmds := edits
	if len(gets) > 0 {
		cmds = append(cmds, finding.Command(append([]string{"go", "get"}, gets...)...))
	}
	if len(cmds) == 0 {
		return ""
	}
	if tidy {
		cmds = append(cmds, finding.Command("go", "mod", "tidy"))
	}
	return finding.InDir(m.Rel, strings.Join(cmds, " && "))
}

// goLine is the line of the toolchain directive, else the go directive,
// else the module line.
func goLine(m *workspace.Module) int {
	if f := m.File; f != nil {
		if f.Toolchain != nil && f.Toolchain.Syntax != nil {
			return f.Toolchain.Syntax.Start.Line
		}
		if f.Go != nil && f.Go.Syntax != nil {
			return f.Go.Syntax.Start.Line
		}
	}
	return m.ModuleLine()
}

// goTag turns the semantic version x/vuln gives the standard library
// (v1.22.5) into a Go release name (go1.22.5).
func goTag(v string) string {
	if strings.HasPrefix(v, "go") {
		return v
	}
	return "go" + strings.TrimPrefix(v, "v")
}
