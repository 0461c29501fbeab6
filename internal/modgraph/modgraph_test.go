package modgraph

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestChainPrefersDirectRequirements(t *testing.T) {
	mods := []*Module{
		{Path: "example.com/app", Main: true},
		{Path: "example.com/a", Version: "v1.0.0"},
		{Path: "example.com/b", Version: "v1.0.0"},
		{Path: "gopkg.in/yaml.v2", Version: "v2.4.0", Indirect: true},
		{Path: "example.com/unreached", Version: "v1.0.0"},
	}
	reqs := map[string][]Requirement{
		// The main module lists yaml.v2 as indirect: that line records it
		// for pruning, it is not why yaml.v2 is needed.
		"example.com/app": {{Path: "gopkg.in/yaml.v2", Version: "v2.4.0", Indirect: true}, {Path: "example.com/a", Version: "v1.0.0"}},
		"example.com/a":   {{Path: "example.com/b", Version: "v1.0.0"}},
		"example.com/b":   {{Path: "gopkg.in/yaml.v2", Version: "v2.4.0"}},
	}
	g := New("/x", mods, reqs, nil)
	if diff := cmp.Diff([]string{"example.com/app", "example.com/a", "example.com/b", "gopkg.in/yaml.v2"}, g.Chain("gopkg.in/yaml.v2")); diff != "" {
		t.Errorf("chain (-want +got):\n%s", diff)
	}
	if c := g.Chain("example.com/unreached"); c != nil {
		t.Errorf("chain of an unreachable module = %v, want nil", c)
	}
	if g.IsLinked("example.com/a") {
		t.Error("IsLinked with no package list = true, want false")
	}
	if len(g.Deps()) != 4 || g.Selected("example.com/b").Version != "v1.0.0" || g.Main != "example.com/app" {
		t.Errorf("index: deps %d, main %q", len(g.Deps()), g.Main)
	}
}

func TestCacheLookups(t *testing.T) {
	cache := t.TempDir()
	dl := filepath.Join(cache, "cache", "download", "github.com", "!acme", "lib", "@v")
	must(t, os.MkdirAll(dl, 0o755))
	must(t, os.WriteFile(filepath.Join(dl, "v1.2.0.mod"), []byte("module github.com/Acme/lib\n\nrequire example.com/dep v1.0.0 // indirect\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(dl, "v1.2.0.info"), []byte(`{"Version":"v1.2.0","Time":"2024-01-02T03:04:05Z","Origin":{"VCS":"git","URL":"https://github.com/Acme/lib","Hash":"abc"}}`), 0o644))
	src := filepath.Join(cache, "github.com", "!acme", "lib@v1.2.0")
	must(t, os.MkdirAll(src, 0o755))

	mods := []*Module{
		{Path: "example.com/app", Main: true, Dir: "/x"},
		{Path: "github.com/Acme/lib", Version: "v1.2.0", GoMod: filepath.Join(dl, "v1.2.0.mod")},
		{Path: "example.com/dep", Version: "v1.0.0"},
	}
	g := New("/x", mods, readRequires(mods), nil)
	if diff := cmp.Diff([]Requirement{{Path: "example.com/dep", Version: "v1.0.0", Indirect: true}}, g.Requires["github.com/Acme/lib"]); diff != "" {
		t.Errorf("requires (-want +got):\n%s", diff)
	}
	info := g.Info("github.com/Acme/lib", "v1.2.0")
	if info == nil || info.Origin == nil || info.Origin.URL != "https://github.com/Acme/lib" || info.Time.Year() != 2024 {
		t.Errorf("Info = %+v", info)
	}
	if g.Info("github.com/Acme/lib", "v9.9.9") != nil {
		t.Error("Info of a version not in the cache is not nil")
	}
	if got := g.SourceDir(mods[1]); got != src {
		t.Errorf("SourceDir = %q, want %q", got, src)
	}
	if got := g.SourceDir(mods[2]); got != "" {
		t.Errorf("SourceDir of a module not extracted = %q, want empty", got)
	}
}

func TestParsePackages(t *testing.T) {
	out := []byte(`{"ImportPath":"example.com/app","Module":{"Path":"example.com/app"},"Imports":["fmt","gopkg.in/yaml.v3"],"TestImports":["example.com/check"],"XTestImports":["example.com/app","example.com/assert"]}
{"ImportPath":"fmt"}
{"ImportPath":"gopkg.in/yaml.v3","Module":{"Path":"gopkg.in/yaml.v3"}}
{"ImportPath":"example.com/app [example.com/app.test]","ForTest":"example.com/app","Module":{"Path":"example.com/app"},"Imports":["example.com/check"]}
{"ImportPath":"example.com/app_test [example.com/app.test]","ForTest":"example.com/app","Module":{"Path":"example.com/app"},"Imports":["example.com/assert"]}
{"ImportPath":"example.com/app.test","Module":{"Path":"example.com/app"}}
{"ImportPath":"example.com/missing","Error":{"Err":"missing go.sum entry"}}
{"ImportPath":"example.com/x/y","Error":{"Err":"ambiguous import: found package example.com/x/y in multiple modules:\n\texample.com/x v1.0.0 (/m/x)\n\texample.com/x/y v1.1.0 (/m/y)"}}
`)
	pkgs, _, first, amb, err := parsePackages(out)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, p := range pkgs {
		paths = append(paths, p.ImportPath)
	}
	if diff := cmp.Diff([]string{"example.com/app", "fmt", "gopkg.in/yaml.v3", "example.com/missing", "example.com/x/y"}, paths); diff != "" {
		t.Errorf("packages (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"example.com/app", "example.com/assert", "example.com/check"}, pkgs[0].TestImports); diff != "" {
		t.Errorf("test imports (-want +got):\n%s", diff)
	}
	if first == nil || first.Error() != "example.com/missing: missing go.sum entry" {
		t.Errorf("first package error = %v", first)
	}
	if diff := cmp.Diff(map[string][]string{"example.com/x/y": {"example.com/x", "example.com/x/y"}}, amb); diff != "" {
		t.Errorf("ambiguous (-want +got):\n%s", diff)
	}
}

// TestWhy follows imports the way `go mod why -m` does: breadth first
// from the main module's packages in walk order, each package's imports
// in order and then its test; the package of the module nearest the roots
// wins, ties broken by package path. The module graph would blame
// example.com/grpc for example.com/old (the cheapest requirement path);
// the import graph reaches it through example.com/gw first.
func TestWhy(t *testing.T) {
	mods := []*Module{
		{Path: "example.com/app", Main: true},
		{Path: "example.com/grpc", Version: "v1.0.0"},
		{Path: "example.com/gw", Version: "v1.0.0"},
		{Path: "example.com/old", Version: "v1.0.0"},
		{Path: "example.com/testdep", Version: "v1.0.0"},
		{Path: "example.com/graphonly", Version: "v1.0.0"},
		{Path: "example.com/testonly", Version: "v1.0.0"},
	}
	reqs := map[string][]Requirement{
		"example.com/app":  {{Path: "example.com/grpc", Version: "v1.0.0"}, {Path: "example.com/gw", Version: "v1.0.0"}, {Path: "example.com/testdep", Version: "v1.0.0"}},
		"example.com/grpc": {{Path: "example.com/old", Version: "v1.0.0"}, {Path: "example.com/graphonly", Version: "v1.0.0"}},
		"example.com/gw":   {{Path: "example.com/old", Version: "v1.0.0"}},
	}
	g := New("/x", mods, reqs, nil)
	g.SetPackages([]Package{
		{ImportPath: "example.com/app", Module: "example.com/app", Imports: []string{"example.com/app/z", "example.com/grpc"}, TestImports: []string{"example.com/testdep"}},
		{ImportPath: "example.com/app/z", Module: "example.com/app", Imports: []string{"example.com/gw/runtime"}},
		{ImportPath: "example.com/grpc", Module: "example.com/grpc", Imports: []string{"example.com/grpc/internal"}},
		{ImportPath: "example.com/grpc/internal", Module: "example.com/grpc", Imports: []string{"example.com/old/proto"}},
		{ImportPath: "example.com/gw/runtime", Module: "example.com/gw", Imports: []string{"example.com/old/jsonpb"}, TestImports: []string{"example.com/testonly/check"}},
		{ImportPath: "example.com/old/jsonpb", Module: "example.com/old"},
		{ImportPath: "example.com/old/proto", Module: "example.com/old"},
		{ImportPath: "example.com/testdep", Module: "example.com/testdep"},
	})
	// Depth 3 both ways (app -> grpc -> grpc/internal -> old/proto is 4;
	// app/z is a root: app/z -> gw/runtime -> old/jsonpb is 3).
	if diff := cmp.Diff([]string{"example.com/app/z", "example.com/gw/runtime", "example.com/old/jsonpb"}, g.Why("example.com/old")); diff != "" {
		t.Errorf("why old (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"example.com/app", "example.com/gw", "example.com/old"}, g.Chain("example.com/old")); diff != "" {
		t.Errorf("chain old (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"example.com/app", "example.com/app.test", "example.com/testdep"}, g.Why("example.com/testdep")); diff != "" {
		t.Errorf("why testdep (-want +got):\n%s", diff)
	}
	// Not linked: the module graph's path.
	if diff := cmp.Diff([]string{"example.com/app", "example.com/grpc", "example.com/graphonly"}, g.Chain("example.com/graphonly")); diff != "" {
		t.Errorf("chain graphonly (-want +got):\n%s", diff)
	}
	// A package below testdata is no root: only the test that imports it
	// reaches it (kratos's contrib/middleware/validate).
	g2 := New("/x", mods, reqs, nil)
	g2.SetPackages([]Package{
		{ImportPath: "example.com/app", Module: "example.com/app", Imports: []string{"example.com/grpc"}, TestImports: []string{"example.com/app/internal/testdata"}},
		{ImportPath: "example.com/app/internal/testdata", Module: "example.com/app", Imports: []string{"example.com/old/proto"}},
		{ImportPath: "example.com/grpc", Module: "example.com/grpc", Imports: []string{"example.com/old/jsonpb"}},
		{ImportPath: "example.com/old/jsonpb", Module: "example.com/old"},
		{ImportPath: "example.com/old/proto", Module: "example.com/old"},
	})
	if diff := cmp.Diff([]string{"example.com/app", "example.com/grpc", "example.com/old/jsonpb"}, g2.Why("example.com/old")); diff != "" {
		t.Errorf("why old with a testdata package (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"example.com/grpc", "example.com/gw"}, g.Importers("example.com/old")); diff != "" {
		t.Errorf("importers (-want +got):\n%s", diff)
	}
	// A dependency's test, which `go mod why` follows too: the package it
	// imports is not in the listing, its module comes from the build list.
	if diff := cmp.Diff([]string{"example.com/app/z", "example.com/gw/runtime", "example.com/gw/runtime.test", "example.com/testonly/check"}, g.Why("example.com/testonly")); diff != "" {
		t.Errorf("why testonly (-want +got):\n%s", diff)
	}
	if imp := g.Importers("example.com/testonly"); len(imp) != 0 {
		t.Errorf("importers of a module only a dependency's test imports = %v, want none", imp)
	}
	if !g.IsLinked("example.com/testdep") || g.IsLinked("example.com/graphonly") || g.IsLinked("example.com/testonly") {
		t.Errorf("linked = %v", g.Linked)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestChainThroughUnselectedVersion(t *testing.T) {
	// example.com/old is in the build list only because example.com/libb
	// requires example.com/liba v1.0.0, an older release than the selected
	// v1.1.0: the chain goes through liba@v1.0.0, read from the cache.
	cache := t.TempDir()
	dl := filepath.Join(cache, "cache", "download", "example.com", "liba", "@v")
	must(t, os.MkdirAll(dl, 0o755))
	must(t, os.WriteFile(filepath.Join(dl, "v1.0.0.mod"), []byte("module example.com/liba\n\nrequire example.com/old v1.0.0\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(dl, "v1.1.0.mod"), []byte("module example.com/liba\n"), 0o644))
	mods := []*Module{
		{Path: "example.com/app", Main: true},
		{Path: "example.com/liba", Version: "v1.1.0", GoMod: filepath.Join(dl, "v1.1.0.mod")},
		{Path: "example.com/libb", Version: "v1.0.0"},
		{Path: "example.com/old", Version: "v1.0.0"},
	}
	reqs := map[string][]Requirement{
		"example.com/app":  {{Path: "example.com/liba", Version: "v1.1.0"}, {Path: "example.com/libb", Version: "v1.0.0"}},
		"example.com/libb": {{Path: "example.com/liba", Version: "v1.0.0"}},
		"example.com/liba": {},
	}
	g := New("/x", mods, reqs, nil)
	want := []string{"example.com/app", "example.com/libb", "example.com/liba@v1.0.0", "example.com/old"}
	if diff := cmp.Diff(want, g.Chain("example.com/old")); diff != "" {
		t.Errorf("chain (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"example.com/app", "example.com/liba"}, g.Chain("example.com/liba")); diff != "" {
		t.Errorf("chain of liba (-want +got):\n%s", diff)
	}
}

// TestScanAllTags reads imports the way `go mod why` does: every file
// whatever its build tags, except those built only with the "ignore" tag.
func TestScanAllTags(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"a.go":         "package p\n\nimport \"example.com/a\"\n",
		"win.go":       "//go:build windows\n\npackage p\n\nimport \"example.com/windows\"\n",
		"notlinux.go":  "//go:build !linux && !darwin\n\npackage p\n\nimport \"example.com/other\"\n",
		"gen.go":       "//go:build ignore\n\npackage main\n\nimport \"example.com/generator\"\n",
		"old.go":       "// +build ignore\n\npackage main\n\nimport \"example.com/oldgen\"\n",
		"licensed.go":  "/*\nCopyright\n*/\n\n//go:build ignore\n\npackage main\n\nimport \"example.com/licensed\"\n",
		"cgo.go":       "package p\n\nimport \"C\"\nimport \"example.com/cgo\"\n",
		"_skip.go":     "package p\n\nimport \"example.com/skipped\"\n",
		"p_test.go":    "package p\n\nimport \"example.com/check\"\n",
		"x_test.go":    "package p_test\n\nimport \"example.com/assert\"\n",
		"p_windows.go": "package p\n\nimport \"example.com/byname\"\n",
		"notgo.txt":    "import \"example.com/text\"\n",
		"broken.go":    "package p\n\nimport (\n",
		"a_plus_b.go":  "// +build linux\n// +build arm64\n\npackage p\n\nimport \"example.com/linuxarm\"\n",
		"ignorenot.go": "//go:build !ignore\n\npackage p\n\nimport \"example.com/notignored\"\n",
	}
	// Generated files run to megabytes: the imports come first.
	files["big.go"] = "package p\n\nimport \"example.com/big\"\n\nvar x = 1\n\n// " + strings.Repeat("x", 40000) + "\n"
	// Imports on both sides of the end of what is read first.
	files["straddle.go"] = "package p\n\n// " + strings.Repeat("z", headSize-60) + "\nimport \"example.com/before\"\n\nimport \"example.com/after\"\n"
	// A header longer than what is read first.
	files["longhead.go"] = "// " + strings.Repeat("y", 20000) + "\n\npackage p\n\nimport \"example.com/late\"\n"
	for name, body := range files {
		must(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
	}
	imports, tests, ok := scanAllTags(dir)
	if !ok {
		t.Fatal("scanAllTags: not ok")
	}
	want := []string{"example.com/a", "example.com/after", "example.com/before", "example.com/big", "example.com/byname", "example.com/cgo", "example.com/late", "example.com/linuxarm", "example.com/notignored", "example.com/other", "example.com/windows"}
	if diff := cmp.Diff(want, imports); diff != "" {
		t.Errorf("imports (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"example.com/assert", "example.com/check"}, tests); diff != "" {
		t.Errorf("test imports (-want +got):\n%s", diff)
	}
}

// TestChainConcurrent calls Chain from several goroutines on a graph built
// with New (whose chains are computed on first use): run with -race.
func TestChainConcurrent(t *testing.T) {
	mods := []*Module{{Path: "example.com/app", Main: true}, {Path: "example.com/a", Version: "v1.0.0"}}
	g := New("/x", mods, map[string][]Requirement{"example.com/app": {{Path: "example.com/a", Version: "v1.0.0"}}}, nil)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if c := g.Chain("example.com/a"); len(c) != 2 {
				t.Errorf("chain = %v", c)
			}
		}()
	}
	wg.Wait()
}

// TestWhyThroughUnlisted follows a package that only a dependency's test
// imports (so the package listing does not hold it) into its imports, read
// from its directory in the module cache, as go mod why does (in
// opentelemetry-go-contrib, k8s.io/client-go/rest's test imports
// client-go/util/testing, which imports kube-openapi).
func TestWhyThroughUnlisted(t *testing.T) {
	cache := t.TempDir()
	dl := filepath.Join(cache, "cache", "download", "example.com", "testonly", "@v")
	must(t, os.MkdirAll(dl, 0o755))
	must(t, os.WriteFile(filepath.Join(dl, "v1.0.0.mod"), []byte("module example.com/testonly\n"), 0o644))
	src := filepath.Join(cache, "example.com", "testonly@v1.0.0", "check")
	must(t, os.MkdirAll(src, 0o755))
	must(t, os.WriteFile(filepath.Join(src, "check.go"), []byte("package check\n\nimport \"example.com/deep/pkg\"\n"), 0o644))
	mods := []*Module{
		{Path: "example.com/app", Main: true},
		{Path: "example.com/dep", Version: "v1.0.0"},
		{Path: "example.com/testonly", Version: "v1.0.0", GoMod: filepath.Join(dl, "v1.0.0.mod")},
		{Path: "example.com/deep", Version: "v1.0.0"},
	}
	g := New("/x", mods, nil, nil)
	g.SetPackages([]Package{
		{ImportPath: "example.com/app", Module: "example.com/app", Imports: []string{"example.com/dep"}},
		{ImportPath: "example.com/dep", Module: "example.com/dep", TestImports: []string{"example.com/testonly/check"}},
	})
	want := []string{"example.com/app", "example.com/dep", "example.com/dep.test", "example.com/testonly/check", "example.com/deep/pkg"}
	if diff := cmp.Diff(want, g.Why("example.com/deep")); diff != "" {
		t.Errorf("why deep (-want +got):\n%s", diff)
	}
	if g.IsLinked("example.com/deep") || g.IsLinked("example.com/testonly") {
		t.Error("a module only a dependency's test reaches is linked")
	}

	// What a listing store keeps: the listing and the unlisted packages
	// whose imports were read (not example.com/deep/pkg: not extracted).
	// From it, another graph is the same without the module cache.
	kept := append([]Package{
		{ImportPath: "example.com/app", Module: "example.com/app", Imports: []string{"example.com/dep"}},
		{ImportPath: "example.com/dep", Module: "example.com/dep", TestImports: []string{"example.com/testonly/check"}},
	}, g.scannedUnlisted()...)
	if len(kept) != 3 || kept[2].ImportPath != "example.com/testonly/check" || !kept[2].Unlisted {
		t.Fatalf("kept %+v, want the listing and example.com/testonly/check", kept)
	}
	must(t, os.RemoveAll(filepath.Join(cache, "example.com")))
	again := New("/x", mods, nil, nil)
	again.SetPackages(kept)
	if diff := cmp.Diff(want, again.Why("example.com/deep")); diff != "" {
		t.Errorf("why deep, from the kept packages without the module cache (-want +got):\n%s", diff)
	}
	if again.IsLinked("example.com/deep") || again.IsLinked("example.com/testonly") {
		t.Error("a kept unlisted package links its module")
	}
}
