package check

import (
	"fmt"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"

	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/modgraph"
)

// familySkew implements MH004 family-skew: modules released together,
// selected at different versions. Families come from three sources:
//
//   - the families table (KnownFamilies and the configuration), for
//     numberings the graph cannot tell: OpenTelemetry's stable and
//     unstable modules, the Kubernetes staging modules, and prefixes whose
//     modules are versioned independently (aws-sdk-go-v2);
//   - inference ("lockstep"): a selected release of B requires a sibling C
//     at B's own version, yet C is selected at another version. Siblings
//     share a path prefix (otel and otel/sdk), a repository on a known host
//     (github.com/org/repo/...), the origin repository recorded in the
//     proxy's .info, or a vanity host with releases published within a day
//     of each other. Modules of one owner in different repositories
//     (go-logr/logr and go-logr/stdr) are not siblings, so their equal
//     version numbers are a coincidence, not a family;
//   - shared packages: a module that still contains the packages of a
//     nested module split out of it (google.golang.org/genproto before the
//     googleapis/api split), reported only when the go command itself
//     finds an imported package in both ("ambiguous import"): graph pruning
//     usually keeps the old root module's packages out of the build.
//
// A skew is about the member that is behind; its fix upgrades it to the
// version of the member ahead (never a downgrade). It is an error when
// both are linked and major.minor differ (the member behind is compiled
// against an API it was not released with), a warning when both are
// linked and only the patch level differs, and info when one of them is
// only in the module graph: go mod tidy would undo an upgrade of a module
// nothing imports, so there is nothing to do.
func familySkew(c *modCtx, families []Family) []finding.Finding {
	var fs []finding.Finding
	fs = append(fs, tableSkew(c, families)...)
	fs = append(fs, lockstepSkew(c, families)...)
	fs = append(fs, sharedPackages(c)...)
	return fs
}

func familyOf(families []Family, path string) *Family {
	for i := range families {
		if families[i].has(path) {
			return &families[i]
		}
	}
	return nil
}

// tableSkew compares the members of each listed family.
func tableSkew(c *modCtx, families []Family) []finding.Finding {
	var fs []finding.Finding
	for i := range families {
		fam := &families[i]
		if fam.Match == Independent {
			continue
		}
		var members []*modgraph.Module
		for _, m := range c.g.Deps() {
			if familyOf(families, m.Path) != fam || m.Replace != nil && m.Replace.Version == "" {
				continue
			}
			if fam.Match == Stable && semver.Major(m.Version) == "v0" {
				continue
			}
			members = append(members, m)
		}
		if len(members) < 2 {
			continue
		}
		lead := members[0]
		for _, m := range members[1:] {
			if semver.Compare(norm(fam.Match, m.Version), norm(fam.Match, lead.Version)) > 0 {
				lead = m
			}
		}
		for _, m := range members {
			if m == lead || sameRelease(fam.Match, m.Version, lead.Version) {
				continue
			}
			want := target(fam.Match, m.Version, lead.Version)
			if semver.Compare(want, m.Version) <= 0 || !c.canReach(m, want) {
				continue
			}
			f := c.skewFinding(fam.Match, m, lead, want,
				fmt.Sprintf("the %s modules are released together and must match (%s)", fam.Name, matchDoc(fam.Match)))
			f.Detail = familyDetail(c, members)
			fs = append(fs, f)
		}
	}
	return fs
}

// skewFinding is the finding that m is behind lead, with the fix that
// upgrades m to want when both are linked.
func (c *modCtx) skewFinding(match Match, m, lead *modgraph.Module, want, why string) finding.Finding {
	sev := c.skewSeverity(match, m, lead)
	msg := fmt.Sprintf("%s %s is behind %s %s: %s", m.Path, m.Version, lead.Path, lead.Version, why)
	if sev == finding.Info {
		msg += "; " + notBothLinked(c, m, lead)
	}
	f := c.newFinding("MH004", sev, m.Path, msg)
	f.Other = c.side(lead.Path)
	if sev > finding.Info {
		f.Fix, f.Target = c.goGetTidy(m.Path+"@"+want), m.Path
	}
	return f
}

func notBothLinked(c *modCtx, a, b *modgraph.Module) string {
	for _, m := range []*modgraph.Module{a, b} {
		if !c.g.IsLinked(m.Path) {
			return m.Path + " is only in the module graph, no package of it is linked: nothing to do"
		}
	}
	return ""
}

// lockstepSkew infers families from the requirements of selected
// releases: b's selected release requires a sibling at b's own version,
// and the sibling is selected at another version of that major. The one
// behind is reported, whichever it is: with graph pruning the sibling may
// stay behind the release that requires it (go-openapi/swag v0.28.0
// requires swag/cmdutils v0.28.0, yet cmdutils v0.27.1 is selected).
func lockstepSkew(c *modCtx, families []Family) []finding.Finding {
	var fs []skew
	seen := map[string]bool{}
	for _, b := range c.g.Deps() {
		if familyOf(families, b.Path) != nil || b.Replace != nil {
			continue
		}
		for _, r := range c.g.Requires[b.Path] {
			sel := c.g.Selected(r.Path)
			if sel == nil || sel.Main || sel.Replace != nil || r.Version != b.Version || sel.Version == r.Version || familyOf(families, r.Path) != nil {
				continue
			}
			// Lockstep seen at one major version says nothing about the
			// next: containerd/errdefs went to v1.0.0 while errdefs/pkg
			// stayed at v0.3.0.
			if semver.Major(sel.Version) != semver.Major(b.Version) || !c.siblings(b, sel, r.Version) {
				continue
			}
			behind, ahead := b, sel
			if semver.Compare(sel.Version, b.Version) < 0 {
				behind, ahead = sel, b
			}
			if seen[behind.Path] || !c.canReach(behind, ahead.Version) {
				continue
			}
			seen[behind.Path] = true
			f := c.skewFinding(Exact, behind, ahead, ahead.Version,
				fmt.Sprintf("%s %s requires %s at its own version, so they are released together", b.Path, b.Version, r.Path))
			f.Detail = familyDetail(c, []*modgraph.Module{behind, ahead})
			fs = append(fs, skew{f, ahead.Path})
		}
	}
	return foldSkewInfos(fs)
}

// skew is a finding of lockstepSkew and the module ahead.
type skew struct {
	f     finding.Finding
	ahead string
}

// foldSkewInfos keeps one info finding per module ahead: the members of a
// family that are only in the module graph (go-openapi/swag's ten
// submodules behind swag) make one finding, the others in its detail.
func foldSkewInfos(fs []skew) []finding.Finding {
	var out []finding.Finding
	byAhead := map[string]int{}
	for _, sk := range fs {
		if sk.f.Severity != finding.Info {
			out = append(out, sk.f)
			continue
		}
		if i, ok := byAhead[sk.ahead]; ok {
			out[i].Detail += "also behind: " + sk.f.Subject + "\n"
			continue
		}
		byAhead[sk.ahead] = len(out)
		out = append(out, sk.f)
	}
	return out
}

// canReach reports whether m may have a release at version v to align
// to. Online, the proxy's newest version of m (go list -u's Update, or m
// itself when there is none) must reach v: a member whose releases stopped
// (go.opentelemetry.io/otel/exporters/jaeger ends at v1.17.0) cannot follow
// its family, and MH006 reports it when it is deprecated. Offline it is
// assumed.
func (c *modCtx) canReach(m *modgraph.Module, v string) bool {
	if !c.g.Online || m.Error != nil {
		return true
	}
	latest := m.Version
	if m.Update != nil {
		latest = m.Update.Version
	}
	return semver.Compare(latest, v) >= 0
}

// publicHosts serve unrelated modules of many owners: a shared host says
// nothing about a shared release.
var publicHosts = map[string]bool{
	"github.com": true, "gitlab.com": true, "bitbucket.org": true, "codeberg.org": true,
	"gitee.com": true, "git.sr.ht": true, "gopkg.in": true, "golang.org": true,
	"google.golang.org": true, "go.googlesource.com": true,
}

// repoHosts have paths of the form host/owner/repo/...
var repoHosts = map[string]bool{"github.com": true, "gitlab.com": true, "bitbucket.org": true, "codeberg.org": true, "gitee.com": true}

// siblings reports whether a and b come from one repository or release
// process, by path, origin or release time of version v.
func (c *modCtx) siblings(a, b *modgraph.Module, v string) bool {
	pa, _ := majorOf(a.Path, a.Version)
	pb, _ := majorOf(b.Path, b.Version)
	if pa == pb {
		return false // two majors of one module: MH002's business
	}
	if strings.HasPrefix(pa, pb+"/") || strings.HasPrefix(pb, pa+"/") {
		return true
	}
	ra, rb := repoRoot(pa), repoRoot(pb)
	if ra != "" && ra == rb {
		return true
	}
	ia, ib := c.g.Info(a.Path, v), c.g.Info(b.Path, v)
	if ia != nil && ib != nil && ia.Origin != nil && ib.Origin != nil && ia.Origin.URL != "" {
		return normURL(ia.Origin.URL) == normURL(ib.Origin.URL)
	}
	ha, _, _ := strings.Cut(pa, "/")
	hb, _, _ := strings.Cut(pb, "/")
	if ha == hb && !publicHosts[ha] && ia != nil && ib != nil && !ia.Time.IsZero() && !ib.Time.IsZero() {
		d := ia.Time.Sub(ib.Time)
		return d < 24*time.Hour && d > -24*time.Hour
	}
	return false
}

func repoRoot(path string) string {
	parts := strings.SplitN(path, "/", 4)
	if len(parts) < 3 || !repoHosts[parts[0]] {
		return ""
	}
	return strings.Join(parts[:3], "/")
}

func normURL(u string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSuffix(u, "/"), ".git"))
}

// sharedPackages reports a package that the go command found in two
// modules of the build list ("ambiguous import"): a root module that still
// holds the packages of a nested module split out of it. The older of the
// two is the one to move: an old root module from before the split
// (google.golang.org/genproto before googleapis/api) is upgraded; an old
// nested module that was merged back into its root is dropped by
// upgrading whatever brings it in. It is an error: the build fails.
func sharedPackages(c *modCtx) []finding.Finding {
	var fs []finding.Finding
	seen := map[string]bool{}
	for _, ip := range sortedKeys(c.g.Ambiguous) {
		outer, inner := ambiguousPair(c, c.g.Ambiguous[ip])
		if outer == nil || seen[outer.Path+" "+inner.Path] {
			continue
		}
		seen[outer.Path+" "+inner.Path] = true
		var f finding.Finding
		if mergedBack(outer, inner) {
			f = c.newFinding("MH004", finding.Error, inner.Path,
				fmt.Sprintf("%s %s provides package %s, which %s %s provides again since the module was merged back: the go command reports \"ambiguous import\"; drop %s",
					inner.Path, inner.Version, ip, outer.Path, outer.Version, inner.Path))
			if p := c.planDrop(inner.Path); len(p.targets) > 0 && !p.own {
				f.Fix, f.Line = p.fix(c), p.line(c, inner.Path)
			} else if c.direct(inner.Path) {
				f.Fix = c.goGetTidy(inner.Path + "@none")
			}
		} else {
			f = c.newFinding("MH004", finding.Error, outer.Path,
				fmt.Sprintf("%s %s still contains package %s, which %s %s now provides: the go command reports \"ambiguous import\"; upgrade %s past the split",
					outer.Path, outer.Version, ip, inner.Path, inner.Version, outer.Path))
			to := "latest"
			if outer.Update != nil {
				to = outer.Update.Version
			}
			f.Fix = c.goGetTidy(outer.Path + "@" + to)
		}
		f.Detail = familyDetail(c, []*modgraph.Module{outer, inner})
		fs = append(fs, f)
	}
	return fs
}

// ambiguousPair returns the two modules of the build list that both
// provide an ambiguous package, the root module first; nil when the go
// command named other modules.
func ambiguousPair(c *modCtx, mods []string) (outer, inner *modgraph.Module) {
	for _, a := range mods {
		for _, b := range mods {
			if strings.HasPrefix(b, a+"/") {
				outer, inner = c.g.Selected(a), c.g.Selected(b)
			}
		}
	}
	if outer == nil || inner == nil {
		return nil, nil
	}
	return outer, inner
}

// mergedBack reports whether the nested module's version is older than
// the root module's, by release time or, for pseudo-versions, their
// timestamps.
func mergedBack(outer, inner *modgraph.Module) bool {
	to, ti := releaseTime(outer), releaseTime(inner)
	return !to.IsZero() && !ti.IsZero() && ti.Before(to)
}

func releaseTime(m *modgraph.Module) time.Time {
	if m.Time != nil && m.Time.Year() > 1 {
		return *m.Time
	}
	if module.IsPseudoVersion(m.Version) {
		if t, err := module.PseudoVersionTime(m.Version); err == nil {
			return t
		}
	}
	return time.Time{}
}

func familyDetail(c *modCtx, ms []*modgraph.Module) string {
	var b strings.Builder
	for _, m := range ms {
		b.WriteString(depLine(c, m) + "\n")
	}
	return b.String()
}

// norm maps a version onto the scale members of a family share.
func norm(m Match, v string) string {
	if m == K8s {
		if i := strings.Index(v, "."); i > 0 {
			return "v1" + v[i:]
		}
	}
	return v
}

func sameRelease(m Match, a, b string) bool {
	switch m {
	case Minor:
		return semver.MajorMinor(a) == semver.MajorMinor(b)
	default:
		return norm(m, a) == norm(m, b)
	}
}

// target is the version of a member that matches the lead's release.
func target(m Match, member, lead string) string {
	switch m {
	case K8s:
		// Keep the member's own major, take the lead's minor.patch.
		maj := semver.Major(member)
		if i := strings.Index(lead, "."); i > 0 && maj != "" {
			return maj + lead[i:]
		}
	case Minor:
		return semver.MajorMinor(lead)
	}
	return lead
}

// skewSeverity is an error when major.minor differ and both members are
// linked into the module's packages or tests, a warning when both are
// linked and only the patch level (or a pre-release) differs, and info
// when a member is only in the module graph.
func (c *modCtx) skewSeverity(m Match, a, b *modgraph.Module) finding.Severity {
	switch {
	case !c.g.IsLinked(a.Path) || !c.g.IsLinked(b.Path):
		return finding.Info
	case semver.MajorMinor(norm(m, a.Version)) != semver.MajorMinor(norm(m, b.Version)):
		return finding.Error
	}
	return finding.Warning
}

func matchDoc(m Match) string {
	switch m {
	case K8s:
		return "staging modules v0.X.Y go with k8s.io/kubernetes v1.X.Y"
	case Minor:
		return "same major.minor"
	case Stable:
		return "stable v1 modules share one version; v0 modules are numbered apart"
	}
	return "same version"
}
