package vuln

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/goproxytest"
	"golang.org/x/mod/modfile"

	"github.com/modhygiene/modhygiene/internal/check"
	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/gocmd"
	"github.com/modhygiene/modhygiene/internal/modgraph"
	"github.com/modhygiene/modhygiene/internal/testenv"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

// fixtureDB is the database of the scan tests: GO-2099-0003 in
// example.com/vulnreq (fixed in 1.0.2) and GO-2099-0010 in Parse of
// example.com/dup, the first major of a module with two (fixed in 1.2.0).
var fixtureDB = map[string]string{
	"GO-2099-0003.json": `{"id":"GO-2099-0003","modified":"2026-02-01T00:00:00Z","summary":"Crash in Bad in example.com/vulnreq","affected":[{"package":{"name":"example.com/vulnreq","ecosystem":"Go"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.2"}]}],"ecosystem_specific":{"imports":[{"path":"example.com/vulnreq","symbols":["Bad"]}]}}]}`,
	"GO-2099-0010.json": `{"id":"GO-2099-0010","modified":"2026-02-01T00:00:00Z","summary":"Unbounded recursion in Parse in example.com/dup","affected":[{"package":{"name":"example.com/dup","ecosystem":"Go"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.2.0"}]}],"ecosystem_specific":{"imports":[{"path":"example.com/dup","symbols":["Parse"]}]}}]}`,
}

// scanEnv is a hermetic setting for scans that run the go command: modules
// from the fixture proxy in testdata/mod, a module cache of the test's own,
// the fixture database, and the repository root holding the test modules.
type scanEnv struct {
	root   string
	db     string
	runner *gocmd.Runner
}

func newScanEnv(t *testing.T) *scanEnv {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	srv := goproxytest.NewTestServer(t, filepath.Join("testdata", "mod"), "")
	home := t.TempDir()
	homeVars, err := testenv.HomeVars(home)
	if err != nil {
		t.Fatal(err)
	}
	gocache, err := exec.Command("go", "env", "GOCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	env := append(homeVars,
		"PATH="+os.Getenv("PATH"),
		"GOPROXY="+srv.URL,
		"GONOSUMDB=example.com",
		"GOFLAGS=-modcacherw",
		"GOMODCACHE="+filepath.Join(home, "modcache"),
		"GOCACHE="+strings.TrimSpace(string(gocache)),
		"GOTOOLCHAIN=local",
		"GOTELEMETRY=off",
		"GOWORK=off",
	)
	src := t.TempDir()
	for name, data := range fixtureDB {
		if err := os.WriteFile(filepath.Join(src, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db := filepath.Join(t.TempDir(), "db")
	if err := BuildLayout(src, db, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	return &scanEnv{root: t.TempDir(), db: FileURL(db), runner: &gocmd.Runner{Env: env}}
}

// module writes a module of the repository from txtar-like files, tidies
// it so that go.sum is complete, and returns it as workspace.Discover
// would.
func (e *scanEnv) module(t *testing.T, rel string, files map[string]string) *workspace.Module {
	t.Helper()
	m := e.untidyModule(t, rel, files)
	if _, err := e.runner.Run(context.Background(), m.Dir, "mod", "tidy"); err != nil {
		t.Fatal(err)
	}
	return e.reload(t, m)
}

// untidyModule is module without the tidying: go.sum is as files say.
func (e *scanEnv) untidyModule(t *testing.T, rel string, files map[string]string) *workspace.Module {
	t.Helper()
	dir := filepath.Join(e.root, filepath.FromSlash(rel))
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return e.reload(t, &workspace.Module{Dir: dir, Rel: rel})
}

// reload reads m's go.mod again.
func (e *scanEnv) reload(t *testing.T, m *workspace.Module) *workspace.Module {
	t.Helper()
	dir, rel := m.Dir, m.Rel
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := modfile.Parse("go.mod", data, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &workspace.Module{Path: f.Module.Mod.Path, Dir: dir, Rel: rel, Data: data, File: f}
}

func (e *scanEnv) scan(t *testing.T, m *workspace.Module, level string, graphs ...*modgraph.Graph) Result {
	t.Helper()
	rs, err := Scan(context.Background(), []*workspace.Module{m}, Options{
		DB: e.db, Level: level, Env: e.runner.Env, Runner: e.runner, Graphs: graphs})
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Err != nil {
		t.Fatalf("%s at %s level: %v", m.Rel, level, rs[0].Err)
	}
	return rs[0]
}

func byID(fs []finding.Finding) map[string]finding.Finding {
	out := map[string]finding.Finding{}
	for _, f := range fs {
		out[f.Subject] = f
	}
	return out
}

func ids(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Subject)
	}
	sort.Strings(out)
	return out
}

// A go 1.16 module's go.mod omits the requirements its dependencies
// imply: a module-level scan looks up the whole build list, so it finds
// what the symbol scan finds.
func TestModuleLevelUsesBuildList(t *testing.T) {
	e := newScanEnv(t)
	m := e.module(t, "legacy", map[string]string{
		"go.mod":  "module example.com/legacy\n\ngo 1.16\n\nrequire example.com/a v1.0.0\n",
		"main.go": "package main\n\nimport \"example.com/a\"\n\nfunc main() { a.A() }\n",
	})
	for _, r := range m.File.Require {
		if r.Mod.Path == "example.com/vulnreq" {
			t.Fatalf("go.mod requires example.com/vulnreq: the fixture must leave it to the build list\n%s", m.Data)
		}
	}
	mod := e.scan(t, m, LevelModule)
	sym := e.scan(t, m, LevelSymbol)
	if d := cmp.Diff(ids(sym.Findings), ids(mod.Findings)); d != "" || len(sym.Findings) == 0 {
		t.Errorf("module-level IDs (-symbol +module):\n%s", d)
	}
	f, ok := byID(mod.Findings)["GO-2099-0003"]
	if !ok {
		t.Fatalf("module level: no GO-2099-0003 in %v", ids(mod.Findings))
	}
	if f.Severity != finding.Info || f.Line != 1 || !strings.Contains(f.Message, "imports not checked at --scan module") {
		t.Errorf("module level finding = %+v", f)
	}
	if want := []string{"example.com/legacy", "example.com/a", "example.com/vulnreq"}; !cmp.Equal(want, f.Path) {
		t.Errorf("path = %v, want %v", f.Path, want)
	}
	if want := "cd legacy && go get example.com/vulnreq@v1.0.2 && go mod tidy"; f.Fix != want {
		t.Errorf("fix = %q, want %q", f.Fix, want)
	}
	if s := byID(sym.Findings)["GO-2099-0003"]; s.Severity != finding.Error {
		t.Errorf("symbol level: GO-2099-0003 severity %v, want error (a.A calls vulnreq.Bad)", s.Severity)
	}
}

// A module whose only Go file is behind a build tag has no package to
// load: its build list is looked up instead, at every level, and the scan
// does not fail.
func TestToolsOnlyModule(t *testing.T) {
	e := newScanEnv(t)
	m := e.module(t, "tools", map[string]string{
		"go.mod":   "module example.com/tools\n\ngo 1.16\n\nrequire example.com/a v1.0.0\n",
		"tools.go": "//go:build tools\n// +build tools\n\npackage tools\n\nimport _ \"example.com/a\"\n",
		"libs.go":  "// +build libs\n\npackage tools\n\nimport _ \"example.com/a\"\n",
	})
	for _, level := range []string{LevelSymbol, LevelPackage} {
		res := e.scan(t, m, level)
		if !res.NoPackages {
			t.Errorf("%s level: NoPackages = false", level)
		}
		f, ok := byID(res.Findings)["GO-2099-0003"]
		if !ok {
			t.Errorf("%s level: no GO-2099-0003 from the build list in %v", level, ids(res.Findings))
			continue
		}
		if f.Severity != finding.Info || !strings.Contains(f.Message, "the module has no package to scan") {
			t.Errorf("%s level: finding = %+v", level, f)
		}
	}
}

// MH002 (check) and MH010 (vuln) name the same path for the same module:
// example.com/dup is both the older of two majors and vulnerable. Both
// name the path go mod why -m gives (modgraph's Chain): the main package
// imports example.com/b, whose package imports dup.
func TestSamePathAsCheck(t *testing.T) {
	e := newScanEnv(t)
	m := e.module(t, ".", map[string]string{
		"go.mod": "module example.com/dupapp\n\ngo 1.21\n\nrequire (\n\texample.com/b v1.0.0\n\texample.com/dup/v2 v2.0.0\n\texample.com/z v1.0.0\n)\n",
		"main.go": `package main

import (
	"example.com/b"
	dup2 "example.com/dup/v2"
	"example.com/z"
)

func main() { z.Z(); println(b.B("x"), dup2.Parse("y")) }
`,
	})
	g, err := modgraph.Load(context.Background(), e.runner, m.Dir, modgraph.Options{Env: []string{"GOWORK=off"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"example.com/dupapp", "example.com/b", "example.com/dup"}
	if d := cmp.Diff(want, g.Chain("example.com/dup")); d != "" {
		t.Fatalf("fixture: chain (-want +got):\n%s", d)
	}
	ws := &workspace.Workspace{Root: e.root, RepoRoot: e.root, Modules: []*workspace.Module{m}}
	var mh002 *finding.Finding
	for _, f := range check.Analyze(&check.Input{Workspace: ws, Graphs: []*modgraph.Graph{g}}) {
		if f.Rule == "MH002" && f.Subject == "example.com/dup" {
			mh002 = &f
		}
	}
	if mh002 == nil {
		t.Fatal("check reports no MH002 for example.com/dup")
	}
	for _, graphs := range [][]*modgraph.Graph{nil, {g}} {
		res := e.scan(t, m, LevelSymbol, graphs...)
		f, ok := byID(res.Findings)["GO-2099-0010"]
		if !ok || f.Severity != finding.Error {
			t.Fatalf("graphs given %v: GO-2099-0010 = %+v, want an error (b.B calls dup.Parse)", graphs != nil, f)
		}
		if d := cmp.Diff(mh002.Path, f.Path); d != "" {
			t.Errorf("graphs given %v: MH010 path (-MH002 +MH010):\n%s", graphs != nil, d)
		}
		if !strings.Contains(f.Detail, "b.B calls dup.Parse") {
			t.Errorf("detail = %q, want the call trace through b", f.Detail)
		}
	}
}

// A graph passed in Options.Graphs is used as it is: its build list is
// looked up and its chains name the paths, with no graph loaded.
func TestGraphsOptionIsUsed(t *testing.T) {
	e := newScanEnv(t)
	m := e.module(t, "svc", map[string]string{
		"go.mod": "module example.com/svc\n\ngo 1.21\n",
	})
	mods := []*modgraph.Module{
		{Path: "example.com/svc", Main: true, Dir: m.Dir},
		{Path: "example.com/mid", Version: "v1.0.0"},
		{Path: "example.com/vulnreq", Version: "v1.0.0"},
	}
	reqs := map[string][]modgraph.Requirement{
		"example.com/svc": {{Path: "example.com/mid", Version: "v1.0.0"}},
		"example.com/mid": {{Path: "example.com/vulnreq", Version: "v1.0.0"}},
	}
	g := modgraph.New(m.Dir, mods, reqs, nil)
	opts := Options{DB: e.db, Level: LevelModule, Env: e.runner.Env, Graphs: []*modgraph.Graph{nil, g}}
	rs, err := Scan(context.Background(), []*workspace.Module{m}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Err != nil {
		t.Fatal(rs[0].Err)
	}
	f, ok := byID(rs[0].Findings)["GO-2099-0003"]
	if !ok {
		t.Fatalf("no GO-2099-0003 from the given build list: %v", ids(rs[0].Findings))
	}
	if want := []string{"example.com/svc", "example.com/mid", "example.com/vulnreq"}; !cmp.Equal(want, f.Path) {
		t.Errorf("path = %v, want %v", f.Path, want)
	}
}

// Without go.sum, a graph listed with -mod=readonly lacks the requirements
// of the modules whose go.mod it cannot verify, and a chain would go
// through the main module's "// indirect" line. With the user's -mod=mod,
// x/vuln's go command completes go.sum during the scan: the graph is then
// loaded again, and the path goes through the module that requires dup.
func TestGraphReloadedWhenScanCompletesGoSum(t *testing.T) {
	e := newScanEnv(t)
	e.runner.Env = gocmd.Merge(e.runner.Env, []string{"GOFLAGS=-modcacherw -mod=mod"})
	m := e.untidyModule(t, "app", map[string]string{
		"go.mod":  "module example.com/app\n\ngo 1.21\n\nrequire example.com/b v1.0.0\n\nrequire example.com/dup v1.0.0 // indirect\n",
		"main.go": "package main\n\nimport \"example.com/b\"\n\nfunc main() { println(b.B(\"x\")) }\n",
	})
	res := e.scan(t, m, LevelSymbol)
	if _, err := os.Stat(filepath.Join(m.Dir, "go.sum")); err != nil {
		t.Fatalf("the scan did not write go.sum (%v): the test needs it to", err)
	}
	f, ok := byID(res.Findings)["GO-2099-0010"]
	if !ok {
		t.Fatalf("no GO-2099-0010 in %v", ids(res.Findings))
	}
	if want := []string{"example.com/app", "example.com/b", "example.com/dup"}; !cmp.Equal(want, f.Path) {
		t.Errorf("path = %v, want %v", f.Path, want)
	}
}
