package check

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/gocmd"
	"github.com/modhygiene/modhygiene/internal/modgraph"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

// etcd356 are the modules of etcd v3.5.6 published to the proxy and their
// directories in the repository (tools/mod was never published).
var etcd356 = []struct{ path, version, dir string }{
	{"go.etcd.io/etcd/v3", "v3.5.6", "."},
	{"go.etcd.io/etcd/api/v3", "v3.5.6", "api"},
	{"go.etcd.io/etcd/client/pkg/v3", "v3.5.6", "client/pkg"},
	{"go.etcd.io/etcd/client/v2", "v2.305.6", "client/v2"},
	{"go.etcd.io/etcd/client/v3", "v3.5.6", "client/v3"},
	{"go.etcd.io/etcd/etcdctl/v3", "v3.5.6", "etcdctl"},
	{"go.etcd.io/etcd/etcdutl/v3", "v3.5.6", "etcdutl"},
	{"go.etcd.io/etcd/pkg/v3", "v3.5.6", "pkg"},
	{"go.etcd.io/etcd/raft/v3", "v3.5.6", "raft"},
	{"go.etcd.io/etcd/server/v3", "v3.5.6", "server"},
	{"go.etcd.io/etcd/tests/v3", "v3.5.6", "tests"},
}

// TestOnlineEtcd rebuilds etcd v3.5.6 from its released module zips (each
// zip holds its module's directory without the nested modules, so laid
// side by side they are the repository) and checks it against the real
// module proxy (MODHYGIENE_ONLINE=1):
//
//   - of its FORBIDDEN_DEPENDENCY guards only the typo go.etcd.io/tests/v3
//     is reported, in the four modules that carry it;
//   - no local replace is reported: every module carries its siblings'
//     replaces;
//   - the count of warnings and errors per rule is the one measured (the
//     deprecations and newest releases the proxy reports can change it);
//   - a second run reuses every module's package listing and finds the
//     same;
//   - the chain of every linked module, in the second run's graphs, is the
//     one `go mod why -m` prints (364 of 364 when written).
func TestOnlineEtcd(t *testing.T) {
	if os.Getenv("MODHYGIENE_ONLINE") == "" {
		t.Skip("set MODHYGIENE_ONLINE=1 to check etcd v3.5.6 against the real module proxy")
	}
	ctx := context.Background()
	env := append(os.Environ(), "GOWORK=off", "GOTELEMETRY=off", "GOFLAGS=-mod=readonly")
	r := &gocmd.Runner{Env: env}
	dir := filepath.Join(t.TempDir(), "etcd")
	rebuildEtcd(ctx, t, r, dir)
	ws, err := workspace.Discover(dir)
	if err != nil {
		t.Fatal(err)
	}
	opt := Options{Concurrency: 2, ListingDir: t.TempDir()}
	res, err := Run(ctx, r, ws, opt)
	if err != nil {
		t.Fatal(err)
	}
	// A second run reuses every module's package listing, with the same
	// findings and the same chains (compareWhy below).
	again, err := Run(ctx, r, ws, opt)
	if err != nil {
		t.Fatal(err)
	}
	if again.Reused != len(ws.Modules) {
		t.Errorf("second run reused %d listings, want %d", again.Reused, len(ws.Modules))
	}
	if diff := cmp.Diff(res.Findings, again.Findings); diff != "" {
		t.Errorf("second run, listings reused: findings differ (-first +second):\n%s", diff)
	}
	counts := map[string]int{}
	for _, f := range res.Findings {
		if f.Severity >= finding.Warning {
			counts[f.Rule]++
		}
		if f.Rule == "MH008" && f.Severity >= finding.Warning && f.Subject != "replace go.etcd.io/tests/v3" {
			t.Errorf("%s:%d: %s", f.File, f.Line, f.Message)
		}
	}
	t.Logf("warnings and errors per rule: %v", counts)
	want := map[string]int{"MH002": 5, "MH005": 17, "MH006": 4, "MH008": 4}
	for _, rule := range sortedKeys(mergeKeys(counts, want)) {
		if counts[rule] != want[rule] {
			t.Errorf("%s: %d warnings or errors, want %d", rule, counts[rule], want[rule])
		}
	}
	compareWhy(ctx, t, r, again.Graphs, ws)
}

func mergeKeys(a, b map[string]int) map[string]int {
	m := map[string]int{}
	for k := range a {
		m[k] = 0
	}
	for k := range b {
		m[k] = 0
	}
	return m
}

// rebuildEtcd downloads the module zips of etcd v3.5.6 and lays them out
// in dir as the repository.
func rebuildEtcd(ctx context.Context, t *testing.T, r *gocmd.Runner, dir string) {
	args := []string{"mod", "download", "-json"}
	for _, m := range etcd356 {
		args = append(args, m.path+"@"+m.version)
	}
	res, err := r.Do(ctx, gocmd.Call{Dir: t.TempDir(), Args: args})
	if err != nil {
		t.Fatalf("go mod download: %v", err)
	}
	dirs := map[string]string{}
	dec := json.NewDecoder(strings.NewReader(string(res.Stdout)))
	for dec.More() {
		var m struct{ Path, Dir string }
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		dirs[m.Path] = m.Dir
	}
	for _, m := range etcd356 {
		if dirs[m.path] == "" {
			t.Fatalf("%s@%s: not downloaded", m.path, m.version)
		}
		if err := os.CopyFS(filepath.Join(dir, filepath.FromSlash(m.dir)), os.DirFS(dirs[m.path])); err != nil {
			t.Fatal(err)
		}
	}
}

// compareWhy runs `go mod why -m` for every module linked into each
// module's build and compares its path, mapped to modules, with Chain.
func compareWhy(ctx context.Context, t *testing.T, r *gocmd.Runner, graphs []*modgraph.Graph, ws *workspace.Workspace) {
	same, total := 0, 0
	for i, g := range graphs {
		if g == nil {
			continue
		}
		var linked []string
		for p := range g.Linked {
			if p != g.Main {
				linked = append(linked, p)
			}
		}
		sort.Strings(linked)
		why := goModWhy(ctx, t, r, ws.Modules[i].Dir, g, linked)
		for _, p := range linked {
			total++
			if strings.Join(why[p], " ") == strings.Join(g.Chain(p), " ") {
				same++
			} else {
				t.Errorf("%s: %s: chain %v, go mod why -m %v", ws.Modules[i].Rel, p, g.Chain(p), why[p])
			}
		}
	}
	t.Logf("chains equal to go mod why -m: %d of %d", same, total)
}

// goModWhy returns, per module, the path `go mod why -m` prints, mapped to
// the modules of g's build list.
func goModWhy(ctx context.Context, t *testing.T, r *gocmd.Runner, dir string, g *modgraph.Graph, mods []string) map[string][]string {
	res, err := r.Do(ctx, gocmd.Call{Dir: dir, Args: append([]string{"mod", "why", "-m"}, mods...)})
	if err != nil {
		t.Fatalf("go mod why in %s: %v", dir, err)
	}
	out := map[string][]string{}
	cur := ""
	for _, l := range strings.Split(string(res.Stdout), "\n") {
		switch {
		case strings.HasPrefix(l, "# "):
			cur = strings.TrimPrefix(l, "# ")
		case l == "" || strings.HasPrefix(l, "("):
		default:
			m := moduleOfPackage(g, strings.TrimSuffix(l, ".test"))
			if p := out[cur]; m != "" && (len(p) == 0 || p[len(p)-1] != m) {
				out[cur] = append(p, m)
			}
		}
	}
	return out
}

// moduleOfPackage returns the module of g's build list whose path is the
// longest prefix of the import path ip.
func moduleOfPackage(g *modgraph.Graph, ip string) string {
	best := ""
	for _, m := range g.Modules {
		if (ip == m.Path || strings.HasPrefix(ip, m.Path+"/")) && len(m.Path) > len(best) {
			best = m.Path
		}
	}
	return best
}

// TestOnlineWhy compares Chain with `go mod why -m` for every linked
// module of every module of the repositories named in MODHYGIENE_WHY_DIRS
// (a list of directories, separated like PATH), such as checkouts of
// kratos or opentelemetry-go-contrib (MODHYGIENE_ONLINE=1).
func TestOnlineWhy(t *testing.T) {
	dirs := os.Getenv("MODHYGIENE_WHY_DIRS")
	if os.Getenv("MODHYGIENE_ONLINE") == "" || dirs == "" {
		t.Skip("set MODHYGIENE_ONLINE=1 and MODHYGIENE_WHY_DIRS to compare chains with go mod why -m on real repositories")
	}
	ctx := context.Background()
	r := &gocmd.Runner{Env: append(os.Environ(), "GOWORK=off", "GOTELEMETRY=off", "GOFLAGS=-mod=readonly")}
	for _, dir := range filepath.SplitList(dirs) {
		ws, err := workspace.Discover(dir)
		if err != nil {
			t.Fatal(err)
		}
		graphs, _ := modgraph.LoadAll(ctx, r, moduleDirsOf(ws), modgraph.Options{Env: []string{"GOWORK=off"}, Concurrency: 2})
		compareWhy(ctx, t, r, graphs, ws)
	}
}

func moduleDirsOf(ws *workspace.Workspace) []string {
	var dirs []string
	for _, m := range ws.Modules {
		dirs = append(dirs, m.Dir)
	}
	return dirs
}
