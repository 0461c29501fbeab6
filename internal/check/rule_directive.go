package check

import (
	"fmt"
	"go/version"

	"golang.org/x/mod/modfile"

	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

// directives implements the per-module part of MH008 directive:
//
//   - a local-path replace (replace x => ../x) in a module that another
//     module of the repository requires: replace directives apply only in
//     the main module, so the importer builds against the published x;
//   - a replace of a module that is not in the build list, or of a version
//     that is not selected: it does nothing;
//   - an exclude of a module that is not in the build list.
//
// The findings point at the directive's own line.
func directives(c *modCtx, in *Input) []finding.Finding {
	f := c.mod.File
	if f == nil {
		return nil
	}
	var fs []finding.Finding
	importers := importersOf(in.Workspace, c.mod)
	for _, r := range f.Replace {
		old := r.Old.Path
		if r.Old.Version != "" {
			old += "@" + r.Old.Version
		}
		sel := c.g.Selected(r.Old.Path)
		switch {
		case sel == nil || sel.Main:
			fs = append(fs, c.directiveFinding(r.Syntax, "replace "+old,
				fmt.Sprintf("replace of %s, which is not in the build list: the directive does nothing", old),
				"go mod edit -dropreplace="+old))
		case r.Old.Version != "" && sel.Version != r.Old.Version:
			f := c.directiveFinding(r.Syntax, "replace "+old,
				fmt.Sprintf("replace of %s, but %s is selected: the directive does nothing", old, sel.Version),
				"go mod edit -dropreplace="+old)
			f.Path = c.g.Chain(r.Old.Path)
			fs = append(fs, f)
		case r.New.Version == "" && len(importers) > 0:
			f := c.directiveFinding(r.Syntax, "replace "+r.Old.Path,
				fmt.Sprintf("local replace of %s => %s in a module that %s requires: replace directives apply only in the main module, so %s builds against the published %s; use a go.work instead",
					r.Old.Path, r.New.Path, importers[0], importers[0], r.Old.Path),
				"go mod edit -dropreplace="+old)
			f.Path = c.g.Chain(r.Old.Path)
			fs = append(fs, f)
		}
	}
	for _, e := range f.Exclude {
		if c.g.Selected(e.Mod.Path) != nil {
			continue
		}
		ex := e.Mod.Path + "@" + e.Mod.Version
		fs = append(fs, c.directiveFinding(e.Syntax, "exclude "+ex,
			fmt.Sprintf("exclude of %s, which is not in the build list: the directive does nothing", ex),
			"go mod edit -dropexclude="+ex))
	}
	return fs
}

func (c *modCtx) directiveFinding(syn *modfile.Line, subject, msg, fix string) finding.Finding {
	line := c.mod.ModuleLine()
	if syn != nil {
		line = syn.Start.Line
	}
	return finding.Finding{
		Rule: "MH008", Severity: finding.Warning, Message: msg,
		Module: c.mod.Name(), File: c.mod.GoModFile(), Line: line, Subject: subject,
		Fix: c.cmd(fix),
	}
}

// importersOf lists the repository's modules whose go.mod requires m.
func importersOf(ws *workspace.Workspace, m *workspace.Module) []string {
	var out []string
	for _, o := range ws.Modules {
		if o == m || o.File == nil || m.Path == "" {
			continue
		}
		for _, r := range o.File.Require {
			if r.Mod.Path == m.Path {
				out = append(out, o.Name())
				break
			}
		}
	}
	return out
}

// toolchainLines implements the repository-wide part of MH008: go and
// toolchain lines that disagree across the repository's modules. Each
// module below the highest value gets a finding at its line.
func toolchainLines(ws *workspace.Workspace) []finding.Finding {
	if len(ws.Modules) < 2 {
		return nil
	}
	var fs []finding.Finding
	type line struct {
		m   *workspace.Module
		v   string
		syn *modfile.Line
	}
	for _, kind := range []string{"go", "toolchain"} {
		var ls []line
		for _, m := range ws.Modules {
			if m.File == nil {
				continue
			}
			switch {
			case kind == "go" && m.File.Go != nil:
				ls = append(ls, line{m, m.File.Go.Version, m.File.Go.Syntax})
			case kind == "toolchain" && m.File.Toolchain != nil:
				ls = append(ls, line{m, m.File.Toolchain.Name, m.File.Toolchain.Syntax})
			}
		}
		if len(ls) < 2 {
			continue
		}
		max := ls[0].v
		for _, l := range ls[1:] {
			if cmpGo(l.v, max) > 0 {
				max = l.v
			}
		}
		for _, l := range ls {
			if l.v == max {
				continue
			}
			f := finding.Finding{
				Rule: "MH008", Severity: finding.Warning,
				Message: fmt.Sprintf("%s line %s disagrees with %s in other modules of the repository; they are built and tested with different language or toolchain versions",
					kind, l.v, max),
				Module: l.m.Name(), File: l.m.GoModFile(), Line: l.m.ModuleLine(), Subject: kind,
				Fix: inDir(l.m.Rel, fmt.Sprintf("go get %s@%s", kind, max)),
			}
			if l.syn != nil {
				f.Line = l.syn.Start.Line
			}
			fs = append(fs, f)
		}
	}
	return fs
}

// cmpGo compares Go versions such as 1.21, 1.21.3, go1.22.0 and 1.23rc1
// in the go command's order (1.21 < 1.21rc1 < 1.21.0).
func cmpGo(a, b string) int {
	return version.Compare("go"+trimGo(a), "go"+trimGo(b))
}

func trimGo(v string) string {
	if len(v) > 2 && v[:2] == "go" {
		return v[2:]
	}
	return v
}
