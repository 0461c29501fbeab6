package check

import (
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"

	"github.com/modhygiene/modhygiene/internal/workspace"
)

func testModule(t *testing.T, root, rel, gomod string) *workspace.Module {
	t.Helper()
	f, err := modfile.Parse(rel+"/go.mod", []byte(gomod), nil)
	if err != nil {
		t.Fatal(err)
	}
	return &workspace.Module{Path: f.Module.Mod.Path, Dir: filepath.Join(root, filepath.FromSlash(rel)), Rel: rel, File: f}
}

// TestDependents: a fix that changes a module's go.mod is followed by
// `go mod tidy` in every module that replaces it with its directory,
// directly or through another, each after the modules it replaces.
func TestDependents(t *testing.T) {
	root := t.TempDir()
	ws := &workspace.Workspace{Root: root, Modules: []*workspace.Module{
		testModule(t, root, ".", "module example.com/r\n"),
		// b comes first in discovery but replaces a: it must be tidied after a.
		testModule(t, root, "b", "module example.com/r/b\nreplace example.com/r => ../\nreplace example.com/r/a => ../a\n"),
		testModule(t, root, "a", "module example.com/r/a\nreplace example.com/r => ../\n"),
		testModule(t, root, "c", "module example.com/r/c\nreplace example.com/x => ../x\n"),
		// d reaches the root only through b.
		testModule(t, root, "d", "module example.com/r/d\nreplace example.com/r/b => ../b\n"),
		testModule(t, root, "v", "module example.com/r/v\nreplace example.com/r => example.com/fork v1.0.0\n"),
	}}
	rels := func(mods []*workspace.Module) string {
		var s []string
		for _, m := range mods {
			s = append(s, m.Rel)
		}
		return strings.Join(s, " ")
	}
	if got := rels(dependents(ws, root)); got != "a b d" {
		t.Errorf("dependents of the root: %q, want \"a b d\"", got)
	}
	if got := rels(dependents(ws, filepath.Join(root, "a"))); got != "b d" {
		t.Errorf("dependents of a: %q, want \"b d\"", got)
	}
	if got := rels(dependents(ws, filepath.Join(root, "c"))); got != "" {
		t.Errorf("dependents of c: %q, want none", got)
	}
	mc := &modCtx{ws: ws, mod: ws.Modules[2], an: &analysis{}}
	want := `(cd a && go get example.com/y@v1.2.0 && go mod tidy) && (cd b && go mod tidy) && (cd d && go mod tidy)`
	if got := mc.goGetTidy("example.com/y@v1.2.0"); got != want {
		t.Errorf("fix:\n%s\nwant\n%s", got, want)
	}
	mc = &modCtx{ws: ws, mod: ws.Modules[3]}
	if got, want := mc.goGetTidy("example.com/y@v1.2.0"), "cd c && go get example.com/y@v1.2.0 && go mod tidy"; got != want {
		t.Errorf("fix without dependents: %q, want %q", got, want)
	}
	ws.WorkFile = filepath.Join(root, "go.work")
	if got := dependents(ws, root); len(got) != 0 {
		t.Errorf("with go.work: %q, want none", rels(got))
	}
}
