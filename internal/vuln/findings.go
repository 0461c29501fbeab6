package vuln

import (
	"fmt"
	"sort"
	"strings"

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

// Findings returns the MH010 findings of rep for m, the module that was
// scanned: one per vulnerability, on the go.mod line that requires the
// vulnerable module (the go line for the standard library), with the
// severity of its deepest reach. Standard library entries that are only
// required (every module requires the standard library) are left out,
// except at module level, where nothing deeper is known. When a vulnerability affects several
// modules of the build list, the finding sits on the line of the one it
// reaches deepest and its fix upgrades them all. depPath, if not nil, gives
// the requirement path from m to a module path. level is the scan level
// ("module", "package" or "symbol"), used in messages.
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
		if v.Reach == Called {
			fd.Path = tracePath(m, v.Trace)
		}
		if fd.Path == nil && depPath != nil {
			fd.Path = depPath(required)
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
	var fixes []string
	for _, x := range vs {
		if x.Fixed == "" {
			continue
		}
		if isGo(x.Module) {
			fixes = append(fixes, "toolchain@"+goTag(x.Fixed))
		} else {
			fixes = append(fixes, requiredPath(m, x.Module, x.Version)+"@"+x.Fixed)
		}
	}
	switch {
	case v.Fixed == "":
		b.WriteString("; no fixed version yet")
	case isGo(v.Module):
		b.WriteString("; fixed in " + goTag(v.Fixed))
	default:
		b.WriteString("; fixed in " + v.Fixed)
	}
	if len(fixes) > 0 {
		fd.Fix = "go get " + strings.Join(fixes, " ")
	}
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
		if level == "package" {
			return fmt.Sprintf("%s is imported (%s; calls not checked at --scan package)", what, strings.Join(v.Packages, ", "))
		}
		return fmt.Sprintf("%s is imported (%s) but no vulnerable function is called", what, strings.Join(v.Packages, ", "))
	}
	if level == "module" {
		return what + " is required (imports not checked at --scan module)"
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
