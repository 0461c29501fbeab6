package tidy

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"golang.org/x/mod/module"

	"github.com/modhygiene/modhygiene/internal/gocmd"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

// prefetchProcs is how many go commands the prefetch runs at once. Each
// resolves its arguments one after another, waiting on the network, so
// splitting the list is what makes a cold prefetch fast.
const prefetchProcs = 32

// prefetch fetches, once, what the parallel tidy runs are about to read:
// the zip of every module a go.mod requires or a go.sum holds a zip
// checksum for (`go mod download`), and the go.mod of every module a go.sum
// names only by its go.mod checksum (`go list -m`). Entries already in the
// module cache are skipped, so a warm run starts no go command at all.
//
// The commands run in a throwaway module in a temporary directory: `go mod
// download m@v` records checksums in the go.sum of the module it runs in,
// and a temporary directory inside the repository would find the
// repository's go.mod above it. The throwaway go.sum is the union of the
// modules' own, so downloads are verified against the checksums the
// repository already trusts; anything else goes to the checksum database as
// it would in tidy. Errors are ignored: a module that cannot be fetched is
// reported by the tidy run of the module that needs it.
func (t *tidier) prefetch(ctx context.Context, mods []*workspace.Module) {
	zips, gomods := t.missing(mods)
	if len(zips)+len(gomods) == 0 {
		return
	}
	tmp, err := os.MkdirTemp("", "modhygiene-prefetch-")
	if err != nil {
		return
	}
	defer os.RemoveAll(tmp)
	if os.WriteFile(filepath.Join(tmp, "go.mod"), []byte("module modhygiene.invalid/prefetch\n"), 0o644) != nil ||
		os.WriteFile(filepath.Join(tmp, "go.sum"), unionSums(mods), 0o644) != nil {
		return
	}
	var calls [][]string
	for _, c := range split(zips, prefetchProcs) {
		calls = append(calls, append([]string{"mod", "download", "-json"}, c...))
	}
	for _, c := range split(gomods, prefetchProcs) {
		calls = append(calls, append([]string{"list", "-m", "-json"}, c...))
	}
	sem := make(chan struct{}, prefetchProcs)
	var wg sync.WaitGroup
	for _, args := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			t.r.Do(ctx, gocmd.Call{Dir: tmp, Args: args, Env: t.env})
		}()
	}
	wg.Wait()
}

// split deals list into at most n chunks of similar size.
func split(list []string, n int) [][]string {
	chunks := make([][]string, min(n, len(list)))
	for i, s := range list {
		chunks[i%len(chunks)] = append(chunks[i%len(chunks)], s)
	}
	return chunks
}

// missing lists the path@version entries whose zip, or whose go.mod alone,
// is not yet in the module cache.
func (t *tidier) missing(mods []*workspace.Module) (zips, gomods []string) {
	own := map[string]bool{}
	for _, m := range mods {
		own[m.Path] = true
	}
	zipSet, modSet := map[module.Version]bool{}, map[module.Version]bool{}
	for _, m := range mods {
		needZip, needMod := moduleVersions(m)
		for _, v := range needZip {
			zipSet[v] = true
		}
		for _, v := range needMod {
			modSet[v] = true
		}
	}
	for v := range zipSet {
		if !own[v.Path] && !t.cached(v, ".zip") {
			zips = append(zips, v.Path+"@"+v.Version)
		}
	}
	for v := range modSet {
		if !own[v.Path] && !zipSet[v] && !t.cached(v, ".mod") {
			gomods = append(gomods, v.Path+"@"+v.Version)
		}
	}
	sort.Strings(zips)
	sort.Strings(gomods)
	return zips, gomods
}

// cached reports whether the module cache holds v's file with suffix
// (.zip or .mod). An invalid version counts as cached: there is nothing to
// fetch for it.
func (t *tidier) cached(v module.Version, suffix string) bool {
	if module.Check(v.Path, v.Version) != nil {
		return true
	}
	if t.modCache == "" {
		return false
	}
	ep, err1 := module.EscapePath(v.Path)
	ev, err2 := module.EscapeVersion(v.Version)
	if err1 != nil || err2 != nil {
		return true
	}
	_, err := os.Stat(filepath.Join(t.modCache, "cache", "download", filepath.FromSlash(ep), "@v", ev+suffix))
	return err == nil
}

// moduleVersions returns the versions whose zips m needs (its go.mod
// requirements and go.sum zip checksums) and those it needs only the go.mod
// of (go.sum go.mod checksums), with non-local replacements applied.
func moduleVersions(m *workspace.Module) (zips, gomods []module.Version) {
	if m.File == nil {
		return nil, nil
	}
	repl := map[string]module.Version{}
	for _, r := range m.File.Replace {
		repl[r.Old.Path] = r.New
	}
	replaced := func(v module.Version) (module.Version, bool) {
		if r, ok := repl[v.Path]; ok {
			return r, r.Version != "" // a local directory has nothing to fetch
		}
		return v, true
	}
	for _, r := range m.File.Require {
		if v, ok := replaced(r.Mod); ok {
			zips = append(zips, v)
		}
	}
	sum, err := os.ReadFile(filepath.Join(m.Dir, "go.sum"))
	if err != nil {
		return zips, nil
	}
	sc := bufio.NewScanner(bytes.NewReader(sum))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 {
			continue
		}
		ver, modOnly := strings.CutSuffix(f[1], "/go.mod")
		v, ok := replaced(module.Version{Path: f[0], Version: ver})
		switch {
		case !ok:
		case modOnly:
			gomods = append(gomods, v)
		default:
			zips = append(zips, v)
		}
	}
	return zips, gomods
}

// unionSums concatenates the go.sum files of mods, without duplicate lines.
func unionSums(mods []*workspace.Module) []byte {
	seen := map[string]bool{}
	var b bytes.Buffer
	for _, m := range mods {
		data, _ := os.ReadFile(filepath.Join(m.Dir, "go.sum"))
		for _, l := range strings.Split(string(data), "\n") {
			if l = strings.TrimSpace(l); l != "" && !seen[l] {
				seen[l] = true
				b.WriteString(l + "\n")
			}
		}
	}
	return b.Bytes()
}
