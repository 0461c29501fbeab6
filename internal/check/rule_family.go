package check

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
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
//     googleapis/api split), which makes imports of those packages
//     ambiguous. This is found from the module cache before the go command
//     trips over it.
//
// The finding is about the member that is behind; its fix upgrades it to
// the family's version.
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
			if !c.canReach(m, want) {
				continue
			}
			f := c.newFinding("MH004", c.skewSeverity(fam.Match, m, lead), m.Path,
				fmt.Sprintf("%s %s is behind %s %s: the %s modules are released together and must match (%s)",
					m.Path, m.Version, lead.Path, lead.Version, fam.Name, matchDoc(fam.Match)))
			f.Detail = familyDetail(c, members)
			f.Fix = c.cmd(fmt.Sprintf("go get %s@%s", m.Path, want))
			fs = append(fs, f)
		}
	}
	return fs
}

// lockstepSkew infers families from the requirements of selected releases.
func lockstepSkew(c *modCtx, families []Family) []finding.Finding {
	var fs []finding.Finding
	for _, b := range c.g.Deps() {
		if familyOf(families, b.Path) != nil || b.Replace != nil {
			continue
		}
		var ahead *modgraph.Module
		for _, r := range c.g.Requires[b.Path] {
			sel := c.g.Selected(r.Path)
			if sel == nil || sel.Main || r.Version != b.Version || sel.Version == r.Version || familyOf(families, r.Path) != nil {
				continue
			}
			// Lockstep seen at one major version says nothing about the
			// next: containerd/errdefs went to v1.0.0 while errdefs/pkg
			// stayed at v0.3.0.
			if semver.Major(sel.Version) != semver.Major(b.Version) || !c.siblings(b, sel, r.Version) {
				continue
			}
			if !c.canReach(b, sel.Version) {
				continue
			}
			if ahead == nil || semver.Compare(sel.Version, ahead.Version) > 0 {
				ahead = sel
			}
		}
		if ahead == nil {
			continue
		}
		f := c.newFinding("MH004", c.skewSeverity(Exact, b, ahead), b.Path,
			fmt.Sprintf("%s %s is behind %s %s: %s %s requires %s at its own version, so they are released together",
				b.Path, b.Version, ahead.Path, ahead.Version, b.Path, b.Version, ahead.Path))
		f.Detail = familyDetail(c, []*modgraph.Module{b, ahead})
		f.Fix = c.cmd(fmt.Sprintf("go get %s@%s", b.Path, ahead.Version))
		fs = append(fs, f)
	}
	return fs
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

// sharedPackages finds a module that still holds packages of a nested
// module of the same build list: importing such a package fails with
// "ambiguous import". The older of the two is the one to move: an old root
// module from before the split (google.golang.org/genproto before
// googleapis/api) is upgraded; an old nested module that was merged back
// into its root is dropped by upgrading whatever brings it in. It is an
// error when the nested module is linked (its other packages are imported,
// so the shared one is one import away) and a warning otherwise.
func sharedPackages(c *modCtx) []finding.Finding {
	var fs []finding.Finding
	deps := c.g.Deps()
	for _, outer := range deps {
		var dir string
		for _, inner := range deps {
			if !strings.HasPrefix(inner.Path, outer.Path+"/") {
				continue
			}
			if dir == "" {
				if dir = c.g.SourceDir(outer); dir == "" {
					break
				}
			}
			pkg := goPackageBelow(dir, inner.Path[len(outer.Path)+1:])
			if pkg == "" {
				continue
			}
			sev := finding.Warning
			if c.g.IsLinked(inner.Path) {
				sev = finding.Error
			}
			ip := outer.Path + "/" + pkg
			var f finding.Finding
			if mergedBack(outer, inner) {
				f = c.newFinding("MH004", sev, inner.Path,
					fmt.Sprintf("%s %s provides package %s, which %s %s provides again since the module was merged back: importing it fails with \"ambiguous import\"; drop %s",
						inner.Path, inner.Version, ip, outer.Path, outer.Version, inner.Path))
				if c.bringer(inner.Path) != "" {
					f.Fix = c.upgradeFix(inner.Path)
				} else {
					f.Fix = c.cmd(fmt.Sprintf("go get %s@none && go mod tidy", inner.Path))
				}
			} else {
				f = c.newFinding("MH004", sev, outer.Path,
					fmt.Sprintf("%s %s still contains package %s, which %s %s now provides: importing it fails with \"ambiguous import\"; upgrade %s past the split",
						outer.Path, outer.Version, ip, inner.Path, inner.Version, outer.Path))
				f.Fix = c.cmd(fmt.Sprintf("go get %s@latest", outer.Path))
			}
			f.Detail = familyDetail(c, []*modgraph.Module{outer, inner})
			fs = append(fs, f)
			break
		}
	}
	return fs
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

// goPackageBelow returns the slash-separated path, below the module root
// root, of the first directory at or below root/rel that holds .go files,
// without crossing into nested modules (a go.mod); "" when there is none.
func goPackageBelow(root, rel string) string {
	dir := filepath.Join(root, filepath.FromSlash(rel))
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return ""
	}
	found := ""
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return filepath.SkipAll
		}
		if d.IsDir() {
			if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(d.Name(), ".go") {
			found = filepath.Dir(p)
			return filepath.SkipAll
		}
		return nil
	})
	if found == "" {
		return ""
	}
	r, err := filepath.Rel(root, found)
	if err != nil {
		return ""
	}
	return filepath.ToSlash(r)
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
// linked into the module's packages or tests, and a warning when only the
// patch level (or a pre-release) differs or a member is only in the module
// graph.
func (c *modCtx) skewSeverity(m Match, a, b *modgraph.Module) finding.Severity {
	if semver.MajorMinor(norm(m, a.Version)) != semver.MajorMinor(norm(m, b.Version)) &&
		c.g.IsLinked(a.Path) && c.g.IsLinked(b.Path) {
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
