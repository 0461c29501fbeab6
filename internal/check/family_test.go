package check

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"

	"github.com/google/go-cmp/cmp"

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
// module merged back into its root, each reported only when the go
// command found the package ambiguous; a root module that holds a nested
// module's packages without the go command tripping (graph pruning keeps
// them apart) is not reported.
func TestSharedPackages(t *testing.T) {
	older := mustTime(t, "2023-01-01T00:00:00Z")
	newer := mustTime(t, "2025-01-01T00:00:00Z")
	mods := []*modgraph.Module{
		{Path: "example.com/app", Main: true},
		{Path: "google.golang.org/genproto", Version: "v0.1.0", Time: &older, Update: &modgraph.Module{Version: "v0.3.0"}},
		{Path: "google.golang.org/genproto/googleapis/api", Version: "v0.2.0", Time: &newer},
		{Path: "google.golang.org/grpc", Version: "v1.79.0", Time: &newer},
		{Path: "google.golang.org/grpc/stats/opentelemetry", Version: "v0.0.0-20240907200651-3ffb98b2c93a"},
		{Path: "example.com/clean", Version: "v1.0.0"},
		{Path: "example.com/clean/sub", Version: "v1.0.0"},
	}
	gomod := "module example.com/app\n\ngo 1.21\n\nrequire google.golang.org/grpc/stats/opentelemetry v0.0.0-20240907200651-3ffb98b2c93a\n"
	mf, err := modfile.Parse("go.mod", []byte(gomod), nil)
	if err != nil {
		t.Fatal(err)
	}
	ws := &workspace.Workspace{Root: "/x", RepoRoot: "/x", Modules: []*workspace.Module{{Path: "example.com/app", Dir: "/x", Rel: ".", File: mf}}}
	reqs := map[string][]modgraph.Requirement{"example.com/app": {
		{Path: "google.golang.org/grpc/stats/opentelemetry", Version: "v0.0.0-20240907200651-3ffb98b2c93a"},
	}}
	g := modgraph.New("/x", mods, reqs, nil)
	g.Ambiguous = map[string][]string{
		"google.golang.org/genproto/googleapis/api/annotations": {"google.golang.org/genproto", "google.golang.org/genproto/googleapis/api"},
		"google.golang.org/genproto/googleapis/api/httpbody":    {"google.golang.org/genproto", "google.golang.org/genproto/googleapis/api"},
		"google.golang.org/grpc/stats/opentelemetry":            {"google.golang.org/grpc", "google.golang.org/grpc/stats/opentelemetry"},
	}
	c := &modCtx{ws: ws, mod: ws.Modules[0], g: g, an: &analysis{in: &Input{Workspace: ws}, wants: map[string]bool{}}}
	var got []string
	for _, f := range sharedPackages(c) {
		got = append(got, f.Severity.String()+" "+f.Subject+" "+f.Fix)
	}
	want := []string{
		"error google.golang.org/genproto go get google.golang.org/genproto@v0.3.0 && go mod tidy",
		"error google.golang.org/grpc/stats/opentelemetry go get google.golang.org/grpc/stats/opentelemetry@none && go mod tidy",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("shared packages (-want +got):\n%s", diff)
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
