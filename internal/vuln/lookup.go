package vuln

import (
	"context"
	"strings"
	"time"

	"golang.org/x/mod/semver"

	"github.com/modhygiene/modhygiene/internal/gocmd"
	"github.com/modhygiene/modhygiene/internal/modgraph"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

// requirements returns the modules m's go.mod requires, each under its
// replacement when a replace directive with a version names one (that is
// the module x/vuln sees); requirements replaced by a directory have no
// version to look up and are left out.
func requirements(m *workspace.Module) []ModuleInfo {
	if m.File == nil {
		return nil
	}
	var out []ModuleInfo
	for _, r := range m.File.Require {
		p, v := r.Mod.Path, r.Mod.Version
		if rep := replacementOf(m, p, v); rep != nil {
			p, v = rep.New.Path, rep.New.Version
		}
		out = append(out, ModuleInfo{Path: p, Version: v})
	}
	return out
}

// buildList returns the modules of g's build list (what `go list -m all`
// selects) but the main modules, each under its replacement as x/vuln
// would see it.
func buildList(g *modgraph.Graph) []ModuleInfo {
	var out []ModuleInfo
	for _, m := range g.Modules {
		if m.Main {
			continue
		}
		p, v := m.Path, m.Version
		if r := m.Replace; r != nil {
			p, v = r.Path, r.Version
		}
		out = append(out, ModuleInfo{Path: p, Version: v})
	}
	return out
}

// lookup adds to rep, as only Required, the vulnerabilities of the modules
// in cands that rep does not hold yet (x/vuln looks only at modules that
// provide packages to the build, so a vulnerable module that is required
// but not imported would otherwise go unreported), and those of the
// standard library of the Go version when stdlib is set. They are looked up
// with x/vuln's query mode, against the same database, and filtered by the
// affected ranges: query mode returns every entry with a later fix.
func (s *scanner) lookup(ctx context.Context, m *workspace.Module, rep *Report, cands []ModuleInfo, stdlib bool) error {
	seen := map[string]bool{}
	for _, mi := range rep.Modules {
		seen[mi.Path] = true
	}
	for _, v := range rep.Vulns {
		seen[v.Module] = true
	}
	var queries []string
	var reqs []ModuleInfo
	for _, c := range cands {
		if seen[c.Path] || !semver.IsValid(c.Version) {
			continue
		}
		seen[c.Path] = true
		queries = append(queries, c.Path+"@"+c.Version)
		reqs = append(reqs, c)
	}
	if gv := goSemver(gocmd.Lookup(s.opts.Env, "GOVERSION")); stdlib && gv != "" && !seen["stdlib"] {
		queries = append(queries, "stdlib@"+gv)
		reqs = append(reqs, ModuleInfo{Path: "stdlib", Version: gv})
	}
	if len(queries) == 0 {
		return nil
	}
	args := []string{"-mode", "query", "-format", "json"}
	if s.opts.DB != "" {
		args = append(args, "-db", s.opts.DB)
	}
	q, err := runScan(ctx, append(args, queries...), s.opts.Env)
	if err != nil {
		return err
	}
	now := time.Now()
	for _, e := range q.Entries {
		if e.Withdrawn != nil && e.Withdrawn.Before(now) {
			continue
		}
		for _, r := range reqs {
			if e.affects(r.Path, r.Version) {
				rep.Vulns = append(rep.Vulns, &Vuln{ID: e.ID, Entry: e, Module: r.Path, Version: r.Version,
					Fixed: e.earliestFix(r.Path, r.Version), Reach: Required})
			}
		}
	}
	rep.sort()
	return nil
}

// goSemver turns a Go version (go1.22.5, go1.23rc1, go1.21.0 X:boringcrypto)
// into the semantic version x/vuln uses for the standard library, or "".
func goSemver(v string) string {
	v, _, _ = strings.Cut(v, " ")
	v = strings.TrimPrefix(v, "go")
	if v == "" {
		return ""
	}
	for _, pre := range []string{"rc", "beta"} {
		if i := strings.Index(v, pre); i > 0 {
			v = v[:i] + "-" + v[i:]
			break
		}
	}
	main, pre, _ := strings.Cut(v, "-")
	if strings.Count(main, ".") == 1 {
		main += ".0"
	}
	out := "v" + main
	if pre != "" {
		out += "-" + pre
	}
	if !semver.IsValid(out) {
		return ""
	}
	return out
}
