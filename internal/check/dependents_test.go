package check

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"

	"github.com/modhygiene/modhygiene/internal/modgraph"
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

// TestSplitPins: kratos v2.9.2's contrib/polaris replaces the root module,
// whose go.mod alone holds google.golang.org/genproto at a version after
// the googleapis split (its go.mod requires .../googleapis/rpc); polaris's
// other dependencies require a version from before it (whose go.mod does
// not). A root fix whose tidy drops that line would leave polaris with
// "ambiguous import", so its step pins the version first, although
// googleapis/rpc requires the same version: the root requires rpc, and a
// fix can move it to a version that requires genproto no longer. A module whose
// older go.mod also requires modules below it (go.opentelemetry.io/otel)
// is not pinned.
func TestSplitPins(t *testing.T) {
	const (
		genproto = "google.golang.org/genproto"
		rpc      = "google.golang.org/genproto/googleapis/rpc"
		after    = "v0.0.0-20231212172506-995d672761c0"
		before   = "v0.0.0-20220504150022-98cd25cafc72"
	)
	root := t.TempDir()
	ws := &workspace.Workspace{Root: root, Modules: []*workspace.Module{
		testModule(t, root, ".", "module example.com/r\n"),
		testModule(t, root, "p", "module example.com/r/p\nreplace example.com/r => ../\n"),
	}}
	mc := t.TempDir()
	writeMod := func(path, version, text string) string {
		p := filepath.Join(mc, "cache", "download", filepath.FromSlash(path), "@v", version+".mod")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	graph := func(others, oldMod string) *modgraph.Graph {
		writeMod(genproto, before, oldMod)
		mods := []*modgraph.Module{
			{Path: "example.com/r/p", Main: true},
			{Path: "example.com/r", Version: "v0.0.0", Replace: &modgraph.Module{Path: "../"}},
			{Path: "example.com/x", Version: "v1.0.0", GoMod: writeMod("example.com/x", "v1.0.0", "module example.com/x\n")},
			{Path: genproto, Version: after},
			{Path: rpc, Version: "v0.0.0-20240102182953-50ed04b92917"},
		}
		reqs := map[string][]modgraph.Requirement{
			"example.com/r/p": {{Path: "example.com/r", Version: "v0.0.0"}, {Path: "example.com/x", Version: "v1.0.0"}},
			"example.com/r":   {{Path: genproto, Version: after, Indirect: true}, {Path: rpc, Version: mods[4].Version}},
			"example.com/x":   {{Path: genproto, Version: others}},
			genproto:          {{Path: rpc, Version: mods[4].Version}},
			// rpc moves with any fix of the root (the root requires it).
			rpc: {{Path: genproto, Version: after}},
		}
		return modgraph.New(ws.Modules[1].Dir, mods, reqs, nil)
	}
	preSplit := "module " + genproto + "\nrequire google.golang.org/grpc v1.46.0\n"
	if got := splitPins(graph(before, preSplit), "example.com/r", nil); strings.Join(got, " ") != genproto+"@"+after {
		t.Errorf("pins %q, want %s@%s only", got, genproto, after)
	}
	if got := splitPins(graph(after, preSplit), "example.com/r", nil); len(got) != 0 {
		t.Errorf("pins %q, want none: a module the fix does not move holds the version too", got)
	}
	if got := splitPins(graph(before, preSplit+"require "+rpc+" v0.0.0-20220101000000-aaaaaaaaaaaa\n"), "example.com/r", nil); len(got) != 0 {
		t.Errorf("pins %q, want none: the older version is split too", got)
	}
	// A fix that moves genproto itself pins nothing; one that moves rpc
	// to a version whose go.mod requires a later genproto pins that one,
	// never a downgrade.
	if got := splitPins(graph(before, preSplit), "example.com/r", []string{genproto + "@v0.0.0-20250101000000-aaaaaaaaaaaa"}); len(got) != 0 {
		t.Errorf("pins %q, want none: the fix moves genproto itself", got)
	}
	const later = "v0.0.0-20240104000000-bbbbbbbbbbbb"
	writeMod(rpc, "v0.0.0-20240105000000-cccccccccccc", "module "+rpc+"\nrequire "+genproto+" "+later+"\n")
	if got := splitPins(graph(before, preSplit), "example.com/r", []string{rpc + "@v0.0.0-20240105000000-cccccccccccc"}); strings.Join(got, " ") != genproto+"@"+later {
		t.Errorf("pins %q, want %s@%s: what the moved rpc requires", got, genproto, later)
	}
	an := &analysis{in: &Input{Workspace: ws, Graphs: []*modgraph.Graph{nil, graph(before, preSplit)}}}
	fix := &modCtx{ws: ws, mod: ws.Modules[0], an: an}
	want := "(go get " + rpc + "@v0.0.0-20250101000000-aaaaaaaaaaaa && go mod tidy) && (cd p && go get " + genproto + "@" + after + " && go mod tidy)"
	if got := fix.goGetTidy(rpc + "@v0.0.0-20250101000000-aaaaaaaaaaaa"); got != want {
		t.Errorf("fix:\n%s\nwant\n%s", got, want)
	}
}
