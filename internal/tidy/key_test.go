package tidy

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modhygiene/modhygiene/internal/workspace"
)

// keyTree is a repository with every kind of input tidy reads. A value
// starting with "-> " makes a symlink.
var keyTree = map[string]string{
	"app/go.mod":        "module example.com/app\n\ngo 1.21\n\nrequire example.com/lib v0.0.0\n\nreplace example.com/lib => ../lib\n",
	"app/go.sum":        "example.com/x v1.0.0/go.mod h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
	"app/main.go":       "//go:build linux\n\n// Command app does.\npackage main\n\nimport (\n\t\"example.com/lib\"\n\t\"fmt\"\n)\n\n// main prints.\nfunc main() { fmt.Println(lib.X) }\n",
	"app/main_test.go":  "package main\n\nimport \"testing\"\n\nfunc TestX(t *testing.T) {}\n",
	"app/sub/s.go":      "package sub\n\nimport \"strings\"\n\nvar _ = strings.ToUpper\n",
	"app/link.go":       "-> ../shared/l.go",
	"app/testdata/t.go": "package t\n\nimport \"example.com/testdata\"\n",
	"app/vendor/v.go":   "package v\n\nimport \"example.com/vendored\"\n",
	"app/_skip/u.go":    "package u\n\nimport \"example.com/underscore\"\n",
	"app/.dot/d.go":     "package d\n\nimport \"example.com/dot\"\n",
	"app/README.md":     "# app\n",
	"app/assets.go":     "package main\n\nimport _ \"embed\"\n\n//go:embed README.md\nvar readme string\n",
	"app/inner/go.mod":  "module example.com/app/inner\n\ngo 1.21\n",
	"app/inner/i.go":    "package inner\n\nimport \"os\"\n\nvar _ = os.Args\n",
	"lib/go.mod":        "module example.com/lib\n\ngo 1.21\n",
	"lib/go.sum":        "",
	"lib/lib.go":        "package lib\n\nconst X = 1\n",
	"shared/l.go":       "package main\n\nimport \"os\"\n\nvar _ = os.Args\n",
}

var keyEnv = map[string]string{"GOFLAGS": "-mod=mod", "GOEXPERIMENT": "", "GOTOOLCHAIN": "local", "GO111MODULE": "", "GOVERSION": "go1.26.0"}

func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		if target, ok := strings.CutPrefix(content, "-> "); ok {
			err = os.Symlink(target, p)
		} else {
			err = os.WriteFile(p, []byte(content), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// appKey returns the memo key of the module in root/rel.
func appKey(t *testing.T, root, rel string, env map[string]string, stats *statCache) string {
	t.Helper()
	return moduleKey(newHasher(stats), renderEnv(env), findModule(t, root, rel))
}

// findModule returns the module in root/rel.
func findModule(t *testing.T, root, rel string) *workspace.Module {
	t.Helper()
	ws, err := workspace.Discover(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ws.Modules {
		if m.Rel == rel {
			return m
		}
	}
	t.Fatalf("no module %s under %s", rel, root)
	return nil
}

func edit(name, content string) func(*testing.T, string) {
	return func(t *testing.T, root string) {
		writeTree(t, root, map[string]string{name: content})
	}
}

func remove(name string) func(*testing.T, string) {
	return func(t *testing.T, root string) {
		if err := os.RemoveAll(filepath.Join(root, filepath.FromSlash(name))); err != nil {
			t.Fatal(err)
		}
	}
}

func rename(from, to string) func(*testing.T, string) {
	return func(t *testing.T, root string) {
		if err := os.Rename(filepath.Join(root, filepath.FromSlash(from)), filepath.Join(root, filepath.FromSlash(to))); err != nil {
			t.Fatal(err)
		}
	}
}

// inputChanges change one input of tidy each.
var inputChanges = map[string]func(*testing.T, string){
	"go.mod":                    edit("app/go.mod", keyTree["app/go.mod"]+"\nrequire example.com/y v1.0.0\n"),
	"go.sum":                    edit("app/go.sum", keyTree["app/go.sum"]+"example.com/y v1.0.0/go.mod h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"),
	"go.sum removed":            remove("app/go.sum"),
	"go:build line":             edit("app/main.go", strings.Replace(keyTree["app/main.go"], "linux", "linux && cgo", 1)),
	"+build line":               edit("app/sub/s.go", "// +build ignore\n\n"+keyTree["app/sub/s.go"]),
	"package clause":            edit("app/sub/s.go", strings.Replace(keyTree["app/sub/s.go"], "package sub", "package other", 1)),
	"import added":              edit("app/sub/s.go", strings.Replace(keyTree["app/sub/s.go"], `import "strings"`, "import (\n\t\"bytes\"\n\t\"strings\"\n)", 1)),
	"import changed":            edit("app/sub/s.go", strings.Replace(keyTree["app/sub/s.go"], `"strings"`, `"example.com/strings"`, 1)),
	"test import":               edit("app/main_test.go", strings.Replace(keyTree["app/main_test.go"], `import "testing"`, "import (\n\t\"testing\"\n\n\t\"example.com/testonly\"\n)", 1)),
	"file added":                edit("app/sub/new.go", "package sub\n"),
	"file removed":              remove("app/sub/s.go"),
	"file renamed (GOOS tag)":   rename("app/sub/s.go", "app/sub/s_windows.go"),
	"package moved":             rename("app/sub", "app/sub2"),
	"nested module dissolved":   remove("app/inner/go.mod"),
	"nested module created":     edit("app/sub/go.mod", "module example.com/app/sub\n\ngo 1.21\n"),
	"symlinked file's target":   edit("shared/l.go", strings.Replace(keyTree["shared/l.go"], `"os"`, `"example.com/os"`, 1)),
	"replace target go.mod":     edit("lib/go.mod", keyTree["lib/go.mod"]+"\nrequire example.com/z v1.0.0\n"),
	"replace target import":     edit("lib/lib.go", "package lib\n\nimport _ \"example.com/z\"\n\nconst X = 1\n"),
	"replace target file added": edit("lib/more/m.go", "package more\n"),
	"module directory":          rename("app", "app2"),
}

// nonInputChanges change something tidy does not read.
var nonInputChanges = map[string]func(*testing.T, string){
	"nothing (another checkout path)": func(*testing.T, string) {},
	"function body":                   edit("app/main.go", strings.Replace(keyTree["app/main.go"], "lib.X", "lib.X + 1", 1)),
	"doc comment":                     edit("app/main.go", strings.Replace(keyTree["app/main.go"], "// Command app does.", "// Command app does more.", 1)),
	"comment in imports":              edit("app/sub/s.go", strings.Replace(keyTree["app/sub/s.go"], `import "strings"`, `import "strings" // for ToUpper`, 1)),
	"testdata":                        edit("app/testdata/t.go", "package t\n\nimport \"example.com/changed\"\n"),
	"vendor":                          edit("app/vendor/v.go", "package v\n\nimport \"example.com/changed\"\n"),
	"underscore directory":            edit("app/_skip/u.go", "package u\n\nimport \"example.com/changed\"\n"),
	"dot directory":                   edit("app/.dot/d.go", "package d\n\nimport \"example.com/changed\"\n"),
	"non-Go file":                     edit("app/README.md", "# changed\n"),
	"nested module's files":           edit("app/inner/i.go", "package inner\n\nimport \"example.com/changed\"\n"),
	"replace target go.sum":           edit("lib/go.sum", "example.com/y v1.0.0/go.mod h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"),
	"modification times": func(t *testing.T, root string) {
		old := time.Now().Add(-time.Hour)
		filepath.Walk(root, func(p string, _ os.FileInfo, _ error) error { return os.Chtimes(p, old, old) })
	},
}

// TestKeyCoversEveryInput changes one input of tidy at a time, in a copy
// of the repository at another path, and checks that the key changes; and
// that it does not change for what tidy does not read (which includes the
// checkout's location and the files' times).
func TestKeyCoversEveryInput(t *testing.T) {
	key := func(t *testing.T, root, rel string, env map[string]string) string {
		return appKey(t, root, rel, env, openStatCache(""))
	}
	coversEveryInput(t, key, keyEnv, memoEnv, inputChanges)
}

// listingOnlyInputs are read by a package listing and not by tidy.
var listingOnlyInputs = map[string]func(*testing.T, string){
	"embed pattern":         edit("app/assets.go", strings.Replace(keyTree["app/assets.go"], "README.md", "*.md", 1)),
	"non-Go file added":     edit("app/sub/s.c", "int x;\n"),
	"non-Go file removed":   remove("app/README.md"),
	"target non-Go file":    edit("lib/lib.s", "\n"),
	"embedding file's body": edit("app/assets.go", keyTree["app/assets.go"]+"\nvar x = 1\n"),
}

// TestListingKeyCoversEveryInput is TestKeyCoversEveryInput for the keys
// of package listings: every input of tidy, the platform, and what only a
// listing reads, each changes the key; what neither reads does not.
func TestListingKeyCoversEveryInput(t *testing.T) {
	env := map[string]string{"GOOS": "linux", "GOARCH": "amd64", "CGO_ENABLED": "1"}
	maps.Copy(env, keyEnv)
	key := func(t *testing.T, root, rel string, env map[string]string) string {
		t.Helper()
		return NewListingKeys("", env).Key(findModule(t, root, rel))
	}
	base := t.TempDir()
	writeTree(t, base, keyTree)
	if got := key(t, base, "app", env); got == appKey(t, base, "app", keyEnv, openStatCache("")) {
		t.Fatalf("listing key %q is tidy's", got)
	}
	changes := maps.Clone(inputChanges)
	maps.Copy(changes, listingOnlyInputs)
	coversEveryInput(t, key, env, ListingEnv, changes)
}

// coversEveryInput checks key (of the module rel in the tree root, with
// the go command's settings env) against keyTree: each of changes, and
// each setting of envNames changed, changes the key; nonInputChanges do
// not.
func coversEveryInput(t *testing.T, key func(t *testing.T, root, rel string, env map[string]string) string,
	env map[string]string, envNames []string, changes map[string]func(*testing.T, string)) {
	base := t.TempDir()
	writeTree(t, base, keyTree)
	want := key(t, base, "app", env)
	if want == "" {
		t.Fatal("no key for the base tree")
	}
	for name, change := range changes {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, keyTree)
			change(t, root)
			rel := "app"
			if name == "module directory" {
				rel = "app2"
			}
			if got := key(t, root, rel, env); got == want {
				t.Errorf("key unchanged after changing the %s", name)
			}
		})
	}
	for _, name := range envNames {
		t.Run("env "+name, func(t *testing.T) {
			changed := maps.Clone(env)
			changed[name] += "x"
			if got := key(t, base, "app", changed); got == want {
				t.Errorf("key unchanged after changing %s", name)
			}
		})
	}
	for name, change := range nonInputChanges {
		t.Run("same "+name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, keyTree)
			change(t, root)
			if got := key(t, root, "app", env); got != want {
				t.Errorf("key changed after changing the %s", name)
			}
		})
	}
}

// TestListingOnlyInputsAreNotTidys checks that what only a package
// listing reads leaves tidy's memo key alone.
func TestListingOnlyInputsAreNotTidys(t *testing.T) {
	base := t.TempDir()
	writeTree(t, base, keyTree)
	want := appKey(t, base, "app", keyEnv, openStatCache(""))
	for name, change := range listingOnlyInputs {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, keyTree)
			change(t, root)
			if got := appKey(t, root, "app", keyEnv, openStatCache("")); got != want {
				t.Errorf("tidy's key changed after changing the %s", name)
			}
		})
	}
}

// TestKeyAbsentTarget checks that a replace target that is missing or is
// a file (etcd's "=> ./FORBIDDEN_DEPENDENCY" guards) is an input like any
// other: the module keeps a key, and the key changes when the target
// appears.
func TestKeyAbsentTarget(t *testing.T) {
	base := t.TempDir()
	writeTree(t, base, keyTree)
	present := appKey(t, base, "app", keyEnv, openStatCache(""))
	keys := map[string]string{}
	for name, change := range map[string]func(*testing.T, string){
		"target is a file": func(t *testing.T, root string) {
			remove("lib")(t, root)
			edit("lib", "not a directory")(t, root)
		},
		"target is missing": remove("lib"),
	} {
		root := t.TempDir()
		writeTree(t, root, keyTree)
		change(t, root)
		got := appKey(t, root, "app", keyEnv, openStatCache(""))
		if got == "" || got == present {
			t.Errorf("%s: key %q, want one differing from the present target's", name, got)
		}
		keys[name] = got
	}
	if keys["target is a file"] != keys["target is missing"] {
		t.Errorf("a missing target and a file differ in key; the go command treats both as absent")
	}
}

// TestKeyUnreadable checks that a module whose inputs cannot be read gets
// no key (it is then always checked): here a replace target that is a
// symlink to itself.
func TestKeyUnreadable(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, keyTree)
	remove("lib")(t, root)
	if err := os.Symlink("lib", filepath.Join(root, "lib")); err != nil {
		t.Fatal(err)
	}
	if got := appKey(t, root, "app", keyEnv, openStatCache("")); got != "" {
		t.Errorf("key = %q, want none", got)
	}
}
