package modgraph

import (
	"os"
	"path/filepath"
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

func TestLinked(t *testing.T) {
	out := []byte(`{"ImportPath":"example.com/app","Module":{"Path":"example.com/app"}}
{"ImportPath":"fmt"}
{"ImportPath":"gopkg.in/yaml.v3","Module":{"Path":"gopkg.in/yaml.v3"}}
{"ImportPath":"example.com/missing","Error":{"Err":"missing go.sum entry"}}
`)
	set, first, err := linked(out)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]bool{"example.com/app": true, "gopkg.in/yaml.v3": true}, set); diff != "" {
		t.Errorf("linked (-want +got):\n%s", diff)
	}
	if first == nil || first.Error() != "example.com/missing: missing go.sum entry" {
		t.Errorf("first package error = %v", first)
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
