package tidy

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/modhygiene/modhygiene/internal/gocmd"
	"github.com/modhygiene/modhygiene/internal/workspace"
	"golang.org/x/mod/module"
)

// prefetchChunk bounds the number of modules named in one command line.
const prefetchChunk = 400

// prefetch downloads the union of every module's requirements and go.sum
// entries once, from a throwaway module of its own in a temporary directory:
// `go mod download m@v` records checksums in the go.sum of the module it
// runs in, and a temporary directory inside the repository would otherwise
// find the repository's go.mod above it. The parallel tidy runs then find their
// modules in the cache instead of fetching the same ones side by side.
// Errors are ignored: a module that cannot be fetched is reported by the
// tidy run of the module that needs it.
func (t *tidier) prefetch(ctx context.Context, mods []*workspace.Module) {
	list := unionRequirements(mods)
	if len(list) == 0 {
		return
	}
	tmp, err := os.MkdirTemp("", "modhygiene-prefetch-")
	if err != nil {
		return
	}
	defer os.RemoveAll(tmp)
	if err := os.WriteFile(filepath.Join(tmp, "go.mod"), []byte("module modhygiene.invalid/prefetch\n"), 0o644); err != nil {
		return
	}
	env := append([]string{"GO111MODULE=on"}, t.env...)
	for len(list) > 0 {
		n := min(len(list), prefetchChunk)
		args := append([]string{"mod", "download", "-json"}, list[:n]...)
		t.r.Do(ctx, gocmd.Call{Dir: tmp, Args: args, Env: env})
		list = list[n:]
	}
}

// unionRequirements lists path@version for every requirement and go.sum
// module line of mods, minus the repository's own modules and modules
// replaced by local directories.
func unionRequirements(mods []*workspace.Module) []string {
	own := map[string]bool{}
	for _, m := range mods {
		own[m.Path] = true
	}
	set := map[string]bool{}
	for _, m := range mods {
		for _, v := range moduleVersions(m) {
			if !own[v.Path] && module.Check(v.Path, v.Version) == nil {
				set[v.Path+"@"+v.Version] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// moduleVersions returns the versions m's go.mod requires and its go.sum
// holds zip checksums for, with non-local replacements applied.
func moduleVersions(m *workspace.Module) []module.Version {
	if m.File == nil {
		return nil
	}
	repl := map[string]module.Version{}
	for _, r := range m.File.Replace {
		repl[r.Old.Path] = r.New
	}
	var vs []module.Version
	add := func(v module.Version) {
		if r, ok := repl[v.Path]; ok {
			if r.Version == "" {
				return // local directory
			}
			v = r
		}
		vs = append(vs, v)
	}
	for _, r := range m.File.Require {
		add(r.Mod)
	}
	sum, err := os.ReadFile(filepath.Join(m.Dir, "go.sum"))
	if err != nil {
		return vs
	}
	sc := bufio.NewScanner(bytes.NewReader(sum))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 3 && !strings.HasSuffix(f[1], "/go.mod") {
			add(module.Version{Path: f[0], Version: f[1]})
		}
	}
	return vs
}
