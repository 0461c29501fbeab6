package vuln

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestHasPackages(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{"GOOS": "linux", "GOARCH": "amd64", "CGO_ENABLED": "0", "GOVERSION": "go1.22.3"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	for _, tc := range []struct {
		name  string
		files map[string]string
		env   func(string) string
		tests bool
		want  bool
	}{
		{"plain", map[string]string{"p/p.go": "package p\n"}, env(), false, true},
		{"no go files", map[string]string{"README": "x"}, env(), false, false},
		{"tools tag", map[string]string{"tools.go": "//go:build tools\n\npackage tools\n"}, env(), false, false},
		{"old build line", map[string]string{"libs.go": "// +build libs\n\npackage tools\n"}, env(), false, false},
		{"tag from GOFLAGS", map[string]string{"tools.go": "//go:build tools\n\npackage tools\n"}, env("GOFLAGS", "-mod=mod -tags=x,tools"), false, true},
		{"ignore tag", map[string]string{"gen.go": "//go:build ignore\n\npackage main\n"}, env(), false, false},
		{"other GOOS by name", map[string]string{"x_windows.go": "package x\n"}, env(), false, false},
		{"GOOS by name", map[string]string{"x_windows.go": "package x\n"}, env("GOOS", "windows"), false, true},
		{"cgo off", map[string]string{"c.go": "//go:build cgo\n\npackage c\n"}, env(), false, false},
		{"cgo on", map[string]string{"c.go": "//go:build cgo\n\npackage c\n"}, env("CGO_ENABLED", "1"), false, true},
		{"newer release", map[string]string{"n.go": "//go:build go1.23\n\npackage n\n"}, env(), false, false},
		{"older release", map[string]string{"n.go": "//go:build go1.21\n\npackage n\n"}, env(), false, true},
		{"tests only", map[string]string{"p_test.go": "package p\n"}, env(), false, false},
		{"tests only with tests", map[string]string{"p_test.go": "package p\n"}, env(), true, true},
		{"nested module", map[string]string{"sub/go.mod": "module x/sub\n", "sub/s.go": "package s\n"}, env(), false, false},
		{"testdata", map[string]string{"testdata/s.go": "package s\n"}, env(), false, false},
		{"unreadable constraint", map[string]string{"bad.go": "//go:build (\n\npackage bad\n"}, env(), false, true},
	} {
		dir := t.TempDir()
		for name, data := range tc.files {
			p := filepath.Join(dir, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if got := hasPackages(dir, buildContext(tc.env), tc.tests); got != tc.want {
			t.Errorf("%s: hasPackages = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestReleaseTags(t *testing.T) {
	if d := cmp.Diff([]string{"go1.1", "go1.2", "go1.3"}, releaseTags("go1.3.4")); d != "" {
		t.Errorf("releaseTags (-want +got):\n%s", d)
	}
	if got := releaseTags("devel go1.27-abc"); got != nil {
		t.Errorf("releaseTags of a devel version = %v, want nil", got)
	}
}

func TestFixCommand(t *testing.T) {
	m := testModule(t, "svc dir", `module example.com/app

go 1.22

require (
	example.com/a v1.0.0
	example.com/b v1.0.0
	example.com/c v1.0.0
	example.com/local v1.0.0
)

replace example.com/b => example.com/fork v1.0.5

replace example.com/c v1.0.0 => example.com/c v1.0.3

replace example.com/local => ../local
`)
	for _, tc := range []struct {
		vs   []*Vuln
		want string
	}{
		{[]*Vuln{{Module: "example.com/a", Version: "v1.0.0", Fixed: "v1.0.1"}}, "cd 'svc dir' && go get example.com/a@v1.0.1 && go mod tidy"},
		{[]*Vuln{{Module: "example.com/fork", Version: "v1.0.5", Fixed: "v1.0.6"}}, "cd 'svc dir' && go mod edit -replace=example.com/b=example.com/fork@v1.0.6 && go mod tidy"},
		{[]*Vuln{{Module: "example.com/c", Version: "v1.0.3", Fixed: "v1.0.4"}}, "cd 'svc dir' && go mod edit -replace=example.com/c@v1.0.0=example.com/c@v1.0.4 && go mod tidy"},
		{[]*Vuln{{Module: "example.com/local", Fixed: "v1.0.1"}}, ""},
		{[]*Vuln{{Module: "example.com/a", Version: "v1.0.0"}}, ""},
		{[]*Vuln{{Module: "stdlib", Version: "v1.22.1", Fixed: "v1.22.2"}}, "cd 'svc dir' && go get toolchain@go1.22.2"},
		{[]*Vuln{{Module: "example.com/a", Version: "v1.0.0", Fixed: "v1.0.1;rm"}}, "cd 'svc dir' && go get 'example.com/a@v1.0.1;rm' && go mod tidy"},
	} {
		if got := fixCommand(m, tc.vs); got != tc.want {
			t.Errorf("fixCommand(%s) = %q, want %q", tc.vs[0].Module, got, tc.want)
		}
	}
}

func TestRequirementsUnderReplacements(t *testing.T) {
	m := testModule(t, ".", `module example.com/app

go 1.22

require (
	example.com/a v1.0.0
	example.com/b v1.0.0
	example.com/local v1.0.0
)

replace example.com/b => example.com/fork v1.0.5

replace example.com/local => ../local
`)
	want := []ModuleInfo{{"example.com/a", "v1.0.0"}, {"example.com/fork", "v1.0.5"}, {"../local", ""}}
	if d := cmp.Diff(want, requirements(m)); d != "" {
		t.Errorf("requirements (-want +got):\n%s", d)
	}
}
