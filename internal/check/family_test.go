package check

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/mod/module"

	"github.com/modhygiene/modhygiene/internal/modgraph"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

// TestSiblings covers the evidence for a family that lives in the module
// cache: the origin recorded in .info files and release times on a vanity
// host.
func TestSiblings(t *testing.T) {
	cache := t.TempDir()
	info := func(path, version, body string) string {
		esc, err := module.EscapePath(path)
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(cache, "cache", "download", filepath.FromSlash(esc), "@v")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, version+".info"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		mod := filepath.Join(dir, version+".mod")
		if err := os.WriteFile(mod, []byte("module "+path+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return mod
	}
	mods := []*modgraph.Module{{Path: "example.com/app", Main: true}}
	add := func(path, version, body string) *modgraph.Module {
		m := &modgraph.Module{Path: path, Version: version, GoMod: info(path, version, body)}
		mods = append(mods, m)
		return m
	}
	// Same origin repository, unrelated paths.
	oa := add("go.example.dev/alpha", "v1.2.0", `{"Version":"v1.2.0","Time":"2024-01-01T00:00:00Z","Origin":{"VCS":"git","URL":"https://git.example.dev/mono.git"}}`)
	ob := add("go.example.dev/beta", "v1.2.0", `{"Version":"v1.2.0","Time":"2024-03-01T00:00:00Z","Origin":{"VCS":"git","URL":"https://git.example.dev/mono"}}`)
	// Different origins on one vanity host, released the same hour: the
	// origins decide.
	oc := add("go.example.dev/gamma", "v1.2.0", `{"Version":"v1.2.0","Time":"2024-01-01T00:30:00Z","Origin":{"VCS":"git","URL":"https://git.example.dev/gamma"}}`)
	// No origin, one vanity host, released within a day: siblings.
	ta := add("k8s.example.io/api", "v0.31.0", `{"Version":"v0.31.0","Time":"2024-08-13T10:00:00Z"}`)
	tb := add("k8s.example.io/client", "v0.31.0", `{"Version":"v0.31.0","Time":"2024-08-13T14:00:00Z"}`)
	// No origin, one vanity host, a month apart: not siblings.
	tc := add("k8s.example.io/far", "v0.31.0", `{"Version":"v0.31.0","Time":"2024-09-20T00:00:00Z"}`)
	// Two repositories of one owner on a public host, released together:
	// a coincidence (go-logr/logr and go-logr/stdr).
	la := add("github.com/go-logr/logr", "v1.2.2", `{"Version":"v1.2.2","Time":"2021-12-07T00:00:00Z"}`)
	lb := add("github.com/go-logr/stdr", "v1.2.2", `{"Version":"v1.2.2","Time":"2021-12-07T01:00:00Z"}`)
	// One repository on a known host.
	ra := add("github.com/acme/kit", "v1.0.0", `{"Version":"v1.0.0"}`)
	rb := add("github.com/acme/kit/otherpkg", "v1.0.0", `{"Version":"v1.0.0"}`)
	rc := add("github.com/acme/kit/v2", "v2.0.0", `{"Version":"v2.0.0"}`)

	ws := &workspace.Workspace{Root: "/x", RepoRoot: "/x", Modules: []*workspace.Module{{Path: "example.com/app", Dir: "/x", Rel: "."}}}
	c := &modCtx{ws: ws, mod: ws.Modules[0], g: modgraph.New("/x", mods, nil, nil)}
	tests := []struct {
		a, b *modgraph.Module
		v    string
		want bool
	}{
		{oa, ob, "v1.2.0", true},
		{oa, oc, "v1.2.0", false},
		{ta, tb, "v0.31.0", true},
		{ta, tc, "v0.31.0", false},
		{la, lb, "v1.2.2", false},
		{ra, rb, "v1.0.0", true},
		{ra, rc, "v1.0.0", false},
	}
	for _, tt := range tests {
		if got := c.siblings(tt.a, tt.b, tt.v); got != tt.want {
			t.Errorf("siblings(%s, %s) = %v, want %v", tt.a.Path, tt.b.Path, got, tt.want)
		}
	}
}

// TestSharedPackages covers the genproto split (the old root module still
// holds the packages of the nested module) and the reverse, a nested
// module merged back into its root.
func TestSharedPackages(t *testing.T) {
	cache := t.TempDir()
	write := func(rel, body string) {
		p := filepath.Join(cache, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("cache/download/example.com/marker/@v/v1.0.0.mod", "module example.com/marker\n")
	write("google.golang.org/genproto@v0.1.0/googleapis/api/annotations/a.go", "package annotations\n")
	write("google.golang.org/grpc@v1.79.0/stats/opentelemetry/o.go", "package opentelemetry\n")
	write("example.com/clean@v1.0.0/clean.go", "package clean\n")
	older := mustTime(t, "2023-01-01T00:00:00Z")
	newer := mustTime(t, "2025-01-01T00:00:00Z")
	mods := []*modgraph.Module{
		{Path: "example.com/app", Main: true},
		{Path: "example.com/marker", Version: "v1.0.0", GoMod: filepath.Join(cache, "cache/download/example.com/marker/@v/v1.0.0.mod")},
		{Path: "google.golang.org/genproto", Version: "v0.1.0", Time: &older},
		{Path: "google.golang.org/genproto/googleapis/api", Version: "v0.2.0", Time: &newer},
		{Path: "google.golang.org/grpc", Version: "v1.79.0", Time: &newer},
		{Path: "google.golang.org/grpc/stats/opentelemetry", Version: "v0.0.0-20240907200651-3ffb98b2c93a"},
		{Path: "example.com/clean", Version: "v1.0.0"},
		{Path: "example.com/clean/sub", Version: "v1.0.0"},
	}
	ws := &workspace.Workspace{Root: "/x", RepoRoot: "/x", Modules: []*workspace.Module{{Path: "example.com/app", Dir: "/x", Rel: "."}}}
	linked := map[string]bool{"google.golang.org/genproto/googleapis/api": true}
	c := &modCtx{ws: ws, mod: ws.Modules[0], g: modgraph.New("/x", mods, nil, linked)}
	var got []string
	for _, f := range sharedPackages(c) {
		got = append(got, f.Severity.String()+" "+f.Subject+" "+f.Fix)
	}
	want := []string{
		"error google.golang.org/genproto go get google.golang.org/genproto@latest",
		"warning google.golang.org/grpc/stats/opentelemetry go get google.golang.org/grpc/stats/opentelemetry@none && go mod tidy",
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("shared packages:\n got %q\nwant %q", got, want)
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}
