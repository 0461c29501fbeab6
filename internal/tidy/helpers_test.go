package tidy

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"

	"github.com/modhygiene/modhygiene/internal/gocmd"
	"github.com/modhygiene/modhygiene/internal/testenv"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

// proxyModules are the modules the fixture proxy serves.
var proxyModules = map[string]map[string]string{
	"example.com/dep@v1.0.0":    {"go.mod": "module example.com/dep\n\ngo 1.21\n", "dep.go": "package dep\n\nconst D = 1\n"},
	"example.com/dep2@v1.0.0":   {"go.mod": "module example.com/dep2\n\ngo 1.21\n", "dep2.go": "package dep2\n\nconst D = 2\n"},
	"example.com/unused@v1.0.0": {"go.mod": "module example.com/unused\n\ngo 1.21\n", "u.go": "package unused\n"},
}

// fixtureProxy writes proxyModules as a module proxy directory and returns
// its file:// URL.
func fixtureProxy(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for mv, files := range proxyModules {
		path, version, _ := strings.Cut(mv, "@")
		src := filepath.Join(t.TempDir(), "src")
		writeTree(t, src, files)
		at := filepath.Join(dir, path, "@v")
		if err := os.MkdirAll(at, 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(filepath.Join(at, version+".zip"))
		if err != nil {
			t.Fatal(err)
		}
		if err := modzip.CreateFromDir(f, module.Version{Path: path, Version: version}, src); err != nil {
			t.Fatal(err)
		}
		f.Close()
		os.WriteFile(filepath.Join(at, version+".mod"), []byte(files["go.mod"]), 0o644)
		os.WriteFile(filepath.Join(at, version+".info"), []byte(`{"Version":"`+version+`","Time":"2024-01-01T00:00:00Z"}`), 0o644)
		os.WriteFile(filepath.Join(at, "list"), []byte(version+"\n"), 0o644)
	}
	return "file://" + filepath.ToSlash(dir)
}

// goRunner returns a Runner of the real go command that fetches modules
// from proxy only, with its own module cache. goBin, if not empty, is the
// go binary to run (a gocmdtest wrapper).
func goRunner(t *testing.T, proxy, goBin string) *gocmd.Runner {
	t.Helper()
	goPath, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	home, err := testenv.HomeVars(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cache, err := exec.Command(goPath, "env", "GOCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	env := append(home,
		"PATH="+filepath.Dir(goPath)+string(os.PathListSeparator)+"/usr/bin:/bin",
		"GOPATH="+filepath.Join(tmp, "gopath"),
		"GOMODCACHE="+filepath.Join(tmp, "modcache"),
		"GOCACHE="+strings.TrimSpace(string(cache)),
		"GOPROXY="+proxy,
		"GONOSUMDB=example.com",
		"GOFLAGS=-mod=mod -modcacherw",
		"GOTOOLCHAIN=local",
		"GOWORK=off",
		"TMPDIR="+os.TempDir(),
	)
	return &gocmd.Runner{Go: goBin, Env: env}
}

// repoTree is a monorepo in the crosslink layout: a root module that three
// modules replace with a relative path.
var repoTree = map[string]string{
	"go.mod":   "module example.com/root\n\ngo 1.21\n\nrequire example.com/dep v1.0.0\n",
	"root.go":  "package root\n\nimport _ \"example.com/dep\"\n",
	"a/go.mod": "module example.com/root/a\n\ngo 1.21\n\nrequire example.com/root v0.0.0\n\nreplace example.com/root => ../\n",
	"a/a.go":   "package a\n\nimport _ \"example.com/root\"\n",
	"b/go.mod": "module example.com/root/b\n\ngo 1.21\n\nrequire example.com/root v0.0.0\n\nreplace example.com/root => ../\n",
	"b/b.go":   "package b\n\nimport _ \"example.com/root\"\n",
	"c/go.mod": "module example.com/root/c\n\ngo 1.21\n\nrequire example.com/root v0.0.0\n\nreplace example.com/root => ../\n",
	"c/c.go":   "package c\n\nimport _ \"example.com/root\"\n",
}

// tidyRepo writes files into root, runs go mod tidy in every module and
// returns the workspace.
func tidyRepo(t *testing.T, r *gocmd.Runner, root string, files map[string]string) *workspace.Workspace {
	t.Helper()
	writeTree(t, root, files)
	ws, err := workspace.Discover(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ws.Modules {
		if _, err := r.Run(context.Background(), m.Dir, "mod", "tidy"); err != nil {
			t.Fatal(err)
		}
	}
	return ws
}

// copyTree copies the regular files below src to dst (new inodes and
// times, as in a fresh checkout).
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil || !fi.Mode().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out := filepath.Join(dst, rel)
		os.MkdirAll(filepath.Dir(out), 0o755)
		return os.WriteFile(out, data, fi.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

func discover(t *testing.T, root string) *workspace.Workspace {
	t.Helper()
	ws, err := workspace.Discover(root)
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

func statuses(results []Result) map[string]string {
	out := map[string]string{}
	for _, r := range results {
		s := r.Status.String()
		if r.Memo {
			s += " (memo"
			if r.MemoFrom != "" {
				s += " from " + r.MemoFrom
			}
			s += ")"
		}
		out[r.Module.Rel] = s
	}
	return out
}
