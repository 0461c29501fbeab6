package mirror

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/mod/module"

	"github.com/modhygiene/modhygiene/internal/workspace"
)

// SumProbe is the module version looked up through every mirror that
// serves the checksum database, to verify what it serves (see
// Prober.SumDBProbe).
type SumProbe struct {
	// Path and Version name the module version.
	Path    string `json:"path"`
	Version string `json:"version"`
	// Lines are the repository's go.sum lines for it ("path version h1:..."
	// and "path version/go.mod h1:..."), compared with the database's
	// record.
	Lines []string `json:"-"`
}

// SumDBProbe picks the module version to look up in the checksum database
// through each mirror: one the workspace's go.sum files hold both lines
// for, preferring a requirement ProbeModules would measure with; failing
// that, a go.mod requirement (looked up without the go.sum comparison). It
// skips
// modules matching private (GONOPROXY or GOPRIVATE: their paths must never
// reach a public mirror) or nosumdb (GONOSUMDB: the database does not know
// them), replaced modules and the workspace's own. The choice is
// deterministic; it is nil when nothing qualifies. The error names a
// go.sum that exists but could not be read; the probe is then chosen from
// the others. Malformed lines are skipped: the go command reports them.
func SumDBProbe(ws *workspace.Workspace, private, nosumdb string) (*SumProbe, error) {
	if ws == nil {
		return nil, nil
	}
	own, replaced := map[string]bool{}, map[string]bool{}
	for _, m := range ws.Modules {
		own[m.Path] = true
		if m.File != nil {
			for _, r := range m.File.Replace {
				replaced[r.Old.Path] = true
			}
		}
	}
	lines := map[module.Version][]string{}
	var errs []error
	for _, m := range ws.Modules {
		data, err := os.ReadFile(filepath.Join(m.Dir, "go.sum"))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("reading %s: %w", m.GoSumFile(), err))
			continue
		}
		for _, l := range strings.Split(string(data), "\n") {
			f := strings.Fields(l)
			if len(f) != 3 {
				continue
			}
			mv := module.Version{Path: f[0], Version: strings.TrimSuffix(f[1], "/go.mod")}
			if own[mv.Path] || replaced[mv.Path] || module.Check(mv.Path, mv.Version) != nil ||
				module.MatchPrefixPatterns(private, mv.Path) || module.MatchPrefixPatterns(nosumdb, mv.Path) {
				continue
			}
			line := strings.Join(f, " ")
			if !containsString(lines[mv], line) {
				lines[mv] = append(lines[mv], line)
			}
		}
	}
	if pr := pickSumProbe(lines, ProbeModules(ws, private, len(lines))); pr != nil {
		return pr, errors.Join(errs...)
	}
	// No go.sum line qualifies: a requirement still proves the mirror
	// serves records of the signed tree, without the comparison.
	for _, mv := range ProbeModules(ws, private, 1<<20) {
		if !module.MatchPrefixPatterns(nosumdb, mv.Path) && module.Check(mv.Path, mv.Version) == nil {
			return &SumProbe{Path: mv.Path, Version: mv.Version}, errors.Join(errs...)
		}
	}
	return nil, errors.Join(errs...)
}

// pickSumProbe prefers the requirements in order, then the smallest module
// version by path, among those with both go.sum lines; then any with one.
func pickSumProbe(lines map[module.Version][]string, prefer []module.Version) *SumProbe {
	both := func(mv module.Version) bool {
		var zip, mod bool
		for _, l := range lines[mv] {
			f := strings.Fields(l)
			zip = zip || f[1] == mv.Version
			mod = mod || f[1] == mv.Version+"/go.mod"
		}
		return zip && mod
	}
	all := make([]module.Version, 0, len(lines))
	for mv := range lines {
		all = append(all, mv)
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].Path != all[j].Path {
			return all[i].Path < all[j].Path
		}
		return all[i].Version < all[j].Version
	})
	for _, pass := range []func(module.Version) bool{both, func(mv module.Version) bool { return len(lines[mv]) > 0 }} {
		for _, list := range [][]module.Version{prefer, all} {
			for _, mv := range list {
				if pass(mv) {
					return &SumProbe{Path: mv.Path, Version: mv.Version, Lines: lines[mv]}
				}
			}
		}
	}
	return nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
