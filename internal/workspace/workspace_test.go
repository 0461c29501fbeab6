package workspace

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

// tree writes files (path -> content) under a new directory.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func rels(ws *Workspace) []string {
	var out []string
	for _, m := range ws.Modules {
		out = append(out, m.Rel+"="+m.Path)
	}
	return out
}

func TestDiscoverWalk(t *testing.T) {
	root := tree(t, map[string]string{
		".git/HEAD":           "ref: main",
		"go.mod":              "module example.com/root\n",
		"a/go.mod":            "module example.com/a\n",
		"a/b/go.mod":          "module example.com/a/b\n",
		"vendor/x/go.mod":     "module v\n",
		"testdata/go.mod":     "module td\n",
		"_skip/go.mod":        "module s\n",
		".hidden/go.mod":      "module h\n",
		"c/testdata/d/go.mod": "module td2\n",
		"broken/go.mod":       "module example.com/broken\n\ngo 1.21 junk\n",
	})
	ws, err := Discover(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{".=example.com/root", "a=example.com/a", "a/b=example.com/a/b", "broken=example.com/broken"}
	if diff := cmp.Diff(want, rels(ws)); diff != "" {
		t.Errorf("modules (-want +got):\n%s", diff)
	}
	for _, m := range ws.Modules {
		if m.Rel == "broken" && (m.ParseErr == nil || m.File != nil) {
			t.Errorf("broken: ParseErr=%v File=%v, want a parse error kept for the go command", m.ParseErr, m.File)
		}
	}
}

func TestDiscoverWork(t *testing.T) {
	root := tree(t, map[string]string{
		"go.work":      "go 1.21\n\nuse (\n\t./svc/a\n\t./lib\n)\n",
		"svc/a/go.mod": "module example.com/a\n",
		"lib/go.mod":   "module example.com/lib\n",
		"other/go.mod": "module example.com/other\n",
	})
	ws, err := Discover(root)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"lib=example.com/lib", "svc/a=example.com/a"}, rels(ws)); diff != "" {
		t.Errorf("modules (-want +got):\n%s", diff)
	}
	if ws.Work == nil || ws.WorkFile != filepath.Join(root, "go.work") {
		t.Errorf("go.work not recorded: %q", ws.WorkFile)
	}
}

func TestDiscoverErrors(t *testing.T) {
	if _, err := Discover(tree(t, map[string]string{"README": "x"})); !errors.Is(err, ErrNoModule) {
		t.Errorf("empty dir: err = %v, want ErrNoModule", err)
	}
	root := tree(t, map[string]string{"go.work": "go 1.21\nuse ./missing\n"})
	_, err := Discover(root)
	if want := "go.work:2: use ./missing"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("go.work using a missing dir: err = %v, want it to contain %q", err, want)
	}
}

func TestRequireLineAndSelect(t *testing.T) {
	root := tree(t, map[string]string{
		"go.mod":   "module example.com/m\n\ngo 1.21\n\nrequire (\n\texample.com/x v1.0.0\n\texample.com/y v1.0.0 // indirect\n)\n",
		"s/go.mod": "module example.com/s\n",
	})
	ws, err := Discover(root)
	if err != nil {
		t.Fatal(err)
	}
	m := ws.Modules[0]
	for path, want := range map[string]int{"example.com/x": 6, "example.com/y": 7, "example.com/absent": 1} {
		if got := m.RequireLine(path); got != want {
			t.Errorf("RequireLine(%s) = %d, want %d", path, got, want)
		}
	}
	if m.GoModFile() != "go.mod" || ws.Modules[1].GoSumFile() != "s/go.sum" {
		t.Errorf("file names: %s %s", m.GoModFile(), ws.Modules[1].GoSumFile())
	}
	if err := ws.Select(root, []string{"s", "./s"}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"s=example.com/s"}, rels(ws)); diff != "" {
		t.Errorf("after Select (-want +got):\n%s", diff)
	}
	if err := ws.Select(root, []string{"nope"}); !errors.Is(err, ErrNoModule) {
		t.Errorf("Select(nope) = %v, want ErrNoModule", err)
	}
}

// deniedFS fails to read one directory, as a service container's data
// directory does for a user who does not own it.
type deniedFS struct {
	fs.FS
	denied string
}

func (d deniedFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if name == d.denied {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return fs.ReadDir(d.FS, name)
}

func TestWalkSkipsUnreadable(t *testing.T) {
	fsys := fstest.MapFS{
		"go.mod":              {Data: []byte("module example.com/root\n")},
		"svc/go.mod":          {Data: []byte("module example.com/svc\n")},
		"data/pg/go.mod":      {Data: []byte("module example.com/hidden\n")},
		"tools/go.mod":        {Data: []byte("module example.com/tools\n")},
		"vendor/x/go.mod":     {Data: []byte("module example.com/x\n")},
		"data/pg/base/PG_VER": {Data: []byte("16\n")},
	}
	dirs, unreadable, err := walkModules(deniedFS{fsys, "data/pg"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{".", "svc", "tools"}, dirs); diff != "" {
		t.Errorf("modules (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"data/pg"}, unreadable); diff != "" {
		t.Errorf("unreadable (-want +got):\n%s", diff)
	}
	if _, _, err := walkModules(deniedFS{fsys, "."}); err == nil {
		t.Error("an unreadable root is no error")
	}
}
