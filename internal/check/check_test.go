package check

import (
	"flag"
	"fmt"
	"os"

	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/mod/modfile"
	"golang.org/x/tools/txtar"

	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/modgraph"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

// The rule fixtures, actionlint style: every testdata/ok/*.txtar must
// produce no finding of MH002-MH011, and every testdata/err/*.txtar must
// produce exactly the findings in its "want" file, one per line, with the
// fix command when there is one:
//
//	RULE SEVERITY FILE:LINE SUBJECT[ | FIX]
//
// A fixture holds the repository's go.mod files (DIR/go.mod) and, beside
// each, DIR/graph: the module's build list and the requirements of each
// selected dependency, one directive per line:
//
//	online                          deprecations and retractions were looked up
//	mod PATH VERSION [linked]       a module of the build list (linked: a package of it is linked)
//	req PATH DEP@VERSION [indirect] a requirement of PATH's selected version
//	deprecated PATH MESSAGE...      PATH's latest go.mod is deprecated
//	retracted PATH MESSAGE...       PATH's selected version is retracted
//	update PATH VERSION             the newest version of PATH
//	pkg PATH MODULE [IMPORT...]     a package and its imports (a test's imports after "test:")
//	ambiguous PKG MODULE...         the go command found PKG in each MODULE
//
// A fixture with a .gomodproxy/ directory is a repository cut down from a
// real one instead: TestCorpus loads it with the go command.
// The main module's own requirements come from its go.mod. A "config" file
// adds twins (twin OLD NEW) and families (family NAME MATCH MEMBER...).
func TestFixtures(t *testing.T) {
	for _, kind := range []string{"ok", "err"} {
		files, err := filepath.Glob(filepath.Join("testdata", kind, "*.txtar"))
		if err != nil {
			t.Fatal(err)
		}
		if len(files) == 0 {
			t.Fatalf("no fixtures in testdata/%s", kind)
		}
		for _, file := range files {
			if isCorpus(t, file) {
				continue
			}
			t.Run(kind+"/"+strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
				in, want := loadFixture(t, file)
				got := wantLines(t, Analyze(in))
				if *update && kind == "err" {
					writeWant(t, file, got)
					return
				}
				sort.Strings(got)
				sort.Strings(want)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("findings (-want +got):\n%s", diff)
				}
			})
		}
	}
}

var update = flag.Bool("update", false, "rewrite the want files of testdata/err from the findings")

// writeWant replaces the "want" file of a fixture with got.
func writeWant(t *testing.T, file string, got []string) {
	t.Helper()
	ar, err := txtar.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	data := []byte(strings.Join(got, "\n") + "\n")
	found := false
	for i := range ar.Files {
		if ar.Files[i].Name == "want" {
			ar.Files[i].Data, found = data, true
		}
	}
	if !found {
		ar.Files = append(ar.Files, txtar.File{Name: "want", Data: data})
	}
	if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
		t.Fatal(err)
	}
}

// isCorpus reports whether the fixture is a cut-down real repository
// (it has a .gomodproxy directory), which TestCorpus runs.
func isCorpus(t *testing.T, file string) bool {
	t.Helper()
	ar, err := txtar.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range ar.Files {
		if strings.HasPrefix(f.Name, ".gomodproxy/") {
			return true
		}
	}
	return false
}

// wantLines renders findings as the lines of a "want" file, checking
// that each is normalized.
func wantLines(t *testing.T, fs []finding.Finding) []string {
	t.Helper()
	var got []string
	for _, f := range fs {
		if f.Fingerprint == "" || f.Message == "" || f.Name == "" {
			t.Errorf("finding not normalized: %+v", f)
		}
		l := fmt.Sprintf("%s %s %s:%d %s", f.Rule, f.Severity, f.File, f.Line, f.Subject)
		if f.Fix != "" {
			l += " | " + f.Fix
		}
		got = append(got, l)
	}
	return got
}

func loadFixture(t *testing.T, file string) (*Input, []string) {
	t.Helper()
	ar, err := txtar.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	ws := &workspace.Workspace{Root: root, RepoRoot: root}
	graphs := map[string]string{}
	var want []string
	in := &Input{Workspace: ws}
	for _, f := range ar.Files {
		switch {
		case f.Name == "want":
			for _, l := range strings.Split(strings.TrimSpace(string(f.Data)), "\n") {
				if l = strings.TrimSpace(l); l != "" {
					want = append(want, l)
				}
			}
		case f.Name == "config":
			for _, l := range strings.Split(string(f.Data), "\n") {
				w := strings.Fields(l)
				switch {
				case len(w) == 3 && w[0] == "twin":
					in.Twins = append(in.Twins, Twin{Old: w[1], New: w[2]})
				case len(w) >= 4 && w[0] == "family":
					in.Families = append(in.Families, Family{Name: w[1], Match: Match(w[2]), Modules: w[3:]})
				}
			}
		case f.Name == "go.work":
			ws.WorkFile = filepath.Join(root, "go.work")
		case path.Base(f.Name) == "go.mod":
			rel := path.Dir(f.Name)
			mf, err := modfile.Parse(f.Name, f.Data, nil)
			if err != nil {
				t.Fatal(err)
			}
			ws.Modules = append(ws.Modules, &workspace.Module{Path: mf.Module.Mod.Path, Dir: filepath.Join(root, rel), Rel: rel, Data: f.Data, File: mf})
		case path.Base(f.Name) == "graph":
			graphs[path.Dir(f.Name)] = string(f.Data)
		}
		// Every file lands on disk too: replace directives name
		// directories, and a directory that does not exist is a guard.
		p := filepath.Join(root, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sort.Slice(ws.Modules, func(i, j int) bool { return ws.Modules[i].Rel < ws.Modules[j].Rel })
	for _, m := range ws.Modules {
		in.Graphs = append(in.Graphs, parseGraph(t, m, graphs[m.Rel]))
	}
	return in, want
}

// graphText is a module's build list as a fixture's graph file gives it.
type graphText struct {
	m      *workspace.Module
	mods   []*modgraph.Module
	byPath map[string]*modgraph.Module
	reqs   map[string][]modgraph.Requirement
	linked map[string]bool
	pkgs   []modgraph.Package
	amb    map[string][]string
	online bool
}

func parseGraph(t *testing.T, m *workspace.Module, text string) *modgraph.Graph {
	t.Helper()
	gt := &graphText{m: m, mods: []*modgraph.Module{{Path: m.Path, Main: true, Dir: m.Dir}},
		byPath: map[string]*modgraph.Module{}, reqs: map[string][]modgraph.Requirement{}, linked: map[string]bool{}}
	for _, r := range m.File.Require {
		gt.reqs[m.Path] = append(gt.reqs[m.Path], modgraph.Requirement{Path: r.Mod.Path, Version: r.Mod.Version, Indirect: r.Indirect})
	}
	for n, l := range strings.Split(text, "\n") {
		w := strings.Fields(l)
		if len(w) == 0 || strings.HasPrefix(w[0], "#") {
			continue
		}
		if !gt.directive(w) {
			t.Fatalf("%s/graph:%d: bad line %q", m.Rel, n+1, l)
		}
	}
	g := modgraph.New(m.Dir, gt.mods, gt.reqs, gt.linked)
	g.Online = gt.online
	g.Ambiguous = gt.amb
	if gt.pkgs != nil {
		g.SetPackages(gt.pkgs)
	}
	return g
}

// directive applies one line of a graph file; false when it is malformed.
func (gt *graphText) directive(w []string) bool {
	switch {
	case w[0] == "online":
		gt.online = true
	case w[0] == "mod" && len(w) >= 3:
		mod := &modgraph.Module{Path: w[1], Version: w[2]}
		gt.linked[w[1]] = gt.linked[w[1]] || len(w) > 3 && w[3] == "linked"
		for _, r := range gt.m.File.Require {
			if r.Mod.Path == w[1] {
				mod.Indirect = r.Indirect
			}
		}
		gt.mods = append(gt.mods, mod)
		gt.byPath[w[1]] = mod
	case w[0] == "req" && len(w) >= 3 && strings.Contains(w[2], "@"):
		p, v, _ := strings.Cut(w[2], "@")
		gt.reqs[w[1]] = append(gt.reqs[w[1]], modgraph.Requirement{Path: p, Version: v, Indirect: len(w) > 3 && w[3] == "indirect"})
	case w[0] == "pkg" && len(w) >= 3:
		p := modgraph.Package{ImportPath: w[1], Module: w[2]}
		test := false
		for _, imp := range w[3:] {
			switch {
			case imp == "test:":
				test = true
			case test:
				p.TestImports = append(p.TestImports, imp)
			default:
				p.Imports = append(p.Imports, imp)
			}
		}
		gt.pkgs = append(gt.pkgs, p)
	case w[0] == "ambiguous" && len(w) >= 4:
		if gt.amb == nil {
			gt.amb = map[string][]string{}
		}
		gt.amb[w[1]] = w[2:]
	case (w[0] == "deprecated" || w[0] == "retracted" || w[0] == "update") && len(w) >= 3 && gt.byPath[w[1]] != nil:
		mod, msg := gt.byPath[w[1]], strings.Join(w[2:], " ")
		switch w[0] {
		case "deprecated":
			mod.Deprecated = msg
		case "retracted":
			mod.Retracted = []string{msg}
		default:
			mod.Update = &modgraph.Module{Path: mod.Path, Version: msg}
		}
	default:
		return false
	}
	return true
}

func TestMajorOf(t *testing.T) {
	tests := []struct {
		path, version, base string
		major               int
	}{
		{"gopkg.in/yaml.v2", "v2.4.0", "gopkg.in/yaml", 2},
		{"gopkg.in/yaml.v3", "v3.0.1", "gopkg.in/yaml", 3},
		{"github.com/x/y", "v1.2.0", "github.com/x/y", 1},
		{"github.com/x/y", "v0.2.0", "github.com/x/y", 1},
		{"github.com/x/y", "v4.12.0+incompatible", "github.com/x/y", 4},
		{"github.com/x/y/v5", "v5.9.0", "github.com/x/y", 5},
		{"go.etcd.io/etcd/client/v3", "v3.5.14", "go.etcd.io/etcd/client", 3},
	}
	for _, tt := range tests {
		base, major := majorOf(tt.path, tt.version)
		if base != tt.base || major != tt.major {
			t.Errorf("majorOf(%q, %q) = %q, %d; want %q, %d", tt.path, tt.version, base, major, tt.base, tt.major)
		}
	}
}

func TestSuccessor(t *testing.T) {
	tests := []struct{ self, msg, want string }{
		{"github.com/xanzy/go-gitlab", "This module has been migrated to gitlab.com/gitlab-org/api/client-go. See https://gitlab.com/gitlab-org/api/client-go", "gitlab.com/gitlab-org/api/client-go"},
		{"github.com/golang/protobuf", `Use the "google.golang.org/protobuf" module instead.`, "google.golang.org/protobuf"},
		{"example.com/old", "use example.com/new instead.", "example.com/new"},
		{"example.com/old", "no longer maintained", ""},
		{"github.com/a/b", "see github.com/a/b/issues/12 for details", ""},
		// A new major of the module is its successor; text of a URL never is.
		{"cloud.google.com/go/pubsub", "use cloud.google.com/go/pubsub/v2 instead. This version will be supported with bug fixes and security patches until December 31st, 2026. For migration, see https://github.com/googleapis/google-cloud-go/blob/main/pubsub/MIGRATING.md", "cloud.google.com/go/pubsub/v2"},
		{"go.mongodb.org/mongo-driver", "Use go.mongodb.org/mongo-driver/v2 instead.", "go.mongodb.org/mongo-driver/v2"},
		{"go.opentelemetry.io/otel/exporters/zipkin", "Zipkin exporters are deprecated, see https://opentelemetry.io/blog/2025/deprecating-zipkin-exporters", ""},
		{"github.com/GoogleCloudPlatform/opentelemetry-operations-go/detectors/gcp", "Use go.opentelemetry.io/contrib/detectors/gcp instead.", "go.opentelemetry.io/contrib/detectors/gcp"},
	}
	for _, tt := range tests {
		if got := successor(tt.self, tt.msg); got != tt.want {
			t.Errorf("successor(%q, %q) = %q, want %q", tt.self, tt.msg, got, tt.want)
		}
	}
}

func TestCmpGo(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.21", "1.22.0", -1},
		{"1.22.0", "1.22.0", 0},
		{"go1.25.1", "go1.25.0", 1},
		{"1.23rc1", "1.23.0", -1},
		{"1.21", "1.21.0", -1},
	}
	for _, tt := range tests {
		if got := cmpGo(tt.a, tt.b); got != tt.want {
			t.Errorf("cmpGo(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

// TestLikelyIntended names the module of the repository a guard's path
// most likely misspells, and nothing when no module is close.
func TestLikelyIntended(t *testing.T) {
	ws := &workspace.Workspace{}
	for _, p := range []string{"go.etcd.io/etcd/v3", "go.etcd.io/etcd/api/v3", "go.etcd.io/etcd/tests/v3", "github.com/acme/widget"} {
		ws.Modules = append(ws.Modules, &workspace.Module{Path: p})
	}
	for _, tt := range []struct{ guard, want string }{
		{"go.etcd.io/tests/v3", "go.etcd.io/etcd/tests/v3"},
		{"github.com/acme/wdiget", "github.com/acme/widget"},
		{"go.etcd.io/etcd/pkg/v3", ""},
		{"example.com/unrelated", ""},
	} {
		if got := likelyIntended(ws, tt.guard); got != tt.want {
			t.Errorf("likelyIntended(%q) = %q, want %q", tt.guard, got, tt.want)
		}
	}
}
