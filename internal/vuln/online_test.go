package vuln

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/modhygiene/modhygiene/internal/gocmd"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

// etcdModules are the modules of etcd v3.5.6 published as module zips, by
// their directory in the repository (tools/mod is not published).
var etcdModules = map[string]string{
	".":          "go.etcd.io/etcd/v3@v3.5.6",
	"api":        "go.etcd.io/etcd/api/v3@v3.5.6",
	"client/pkg": "go.etcd.io/etcd/client/pkg/v3@v3.5.6",
	"client/v2":  "go.etcd.io/etcd/client/v2@v2.305.6",
	"client/v3":  "go.etcd.io/etcd/client/v3@v3.5.6",
	"etcdctl":    "go.etcd.io/etcd/etcdctl/v3@v3.5.6",
	"etcdutl":    "go.etcd.io/etcd/etcdutl/v3@v3.5.6",
	"pkg":        "go.etcd.io/etcd/pkg/v3@v3.5.6",
	"raft":       "go.etcd.io/etcd/raft/v3@v3.5.6",
	"server":     "go.etcd.io/etcd/server/v3@v3.5.6",
	"tests":      "go.etcd.io/etcd/tests/v3@v3.5.6",
}

// TestOnlineEtcdModuleLevel rebuilds etcd v3.5.6 from its released module
// zips (the go 1.16 modules whose go.mod omits indirect requirements),
// scans every module at module and at symbol level against the database
// built from golang.org/x/vulndb (--db module), all through the GOPROXY of
// the environment, and requires that no module fails and that the module
// level finds at least 90 % of the IDs the symbol level finds in every
// module. It takes about nine minutes on two cores, more than CI's budget
// for the whole suite: MODHYGIENE_ONLINE=1 with MODHYGIENE_ONLINE_SLOW=1
// runs it (by hand; docs/vuln.md has its figures).
func TestOnlineEtcdModuleLevel(t *testing.T) {
	if os.Getenv("MODHYGIENE_ONLINE") == "" || os.Getenv("MODHYGIENE_ONLINE_SLOW") == "" {
		t.Skip("MODHYGIENE_ONLINE=1 MODHYGIENE_ONLINE_SLOW=1 run it, through the real module proxy (minutes)")
	}
	ctx := context.Background()
	// The user's module cache and HOME (outside the test's temporary
	// directories); -mod=mod as a developer would scan a checkout.
	runner := &gocmd.Runner{Env: gocmd.Merge(os.Environ(), []string{"GOFLAGS=-mod=mod", "GOTELEMETRY=off", "GOWORK=off"})}
	root := t.TempDir()
	for rel, mv := range etcdModules {
		res, err := runner.Run(ctx, t.TempDir(), "mod", "download", "-json", mv)
		if err != nil {
			t.Fatalf("%s: %v", mv, err)
		}
		var dl struct{ Dir string }
		if err := json.Unmarshal(res.Stdout, &dl); err != nil || dl.Dir == "" {
			t.Fatalf("%s: go mod download: %v %s", mv, err, res.Stdout)
		}
		if err := copyWritable(filepath.Join(root, filepath.FromSlash(rel)), dl.Dir); err != nil {
			t.Fatal(err)
		}
	}
	ws, err := workspace.Discover(root)
	if err != nil {
		t.Fatal(err)
	}
	db, err := (&ModuleDB{Runner: runner, Dir: t.TempDir()}).Prepare(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]map[string][]string{}
	for _, level := range []string{LevelModule, LevelSymbol} {
		rs, err := Scan(ctx, ws.Modules, Options{DB: db.URL, Level: level, Env: runner.Env, Runner: runner})
		if err != nil {
			t.Fatal(err)
		}
		found[level] = map[string][]string{}
		for _, r := range rs {
			if r.Err != nil {
				t.Errorf("%s level: %v", level, r.Err)
			}
			t.Logf("%s %-10s %3d findings in %v", level, r.Module.Rel, len(r.Findings), r.Duration.Round(1e6))
			found[level][r.Module.Rel] = ids(r.Findings)
		}
	}
	rels := make([]string, 0, len(found[LevelSymbol]))
	for rel := range found[LevelSymbol] {
		rels = append(rels, rel)
	}
	sort.Strings(rels)
	for _, rel := range rels {
		sym := found[LevelSymbol][rel]
		share, missed := recall(found[LevelModule][rel], sym)
		t.Logf("%-10s module level %3d IDs, symbol level %3d, recall %.0f %%", rel, len(found[LevelModule][rel]), len(sym), 100*share)
		if share < 0.9 {
			t.Errorf("%s: module level finds %.0f %% of the symbol level's IDs, want at least 90 %%; missed %v", rel, 100*share, missed)
		}
	}
}

// recall returns the share of want in got and what got misses.
func recall(got, want []string) (float64, []string) {
	if len(want) == 0 {
		return 1, nil
	}
	in := map[string]bool{}
	for _, id := range got {
		in[id] = true
	}
	var missed []string
	for _, id := range want {
		if !in[id] {
			missed = append(missed, id)
		}
	}
	sort.Strings(missed)
	return float64(len(want)-len(missed)) / float64(len(want)), missed
}

// copyWritable copies the directory tree src (a read-only module in the
// module cache) to dst, writable.
func copyWritable(dst, src string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: not a regular file", p)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, data, 0o644)
	})
}
