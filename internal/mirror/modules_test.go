package mirror

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/mod/module"

	"github.com/modhygiene/modhygiene/internal/workspace"
)

func TestProbeModules(t *testing.T) {
	root := t.TempDir()
	write := func(rel, data string) {
		p := filepath.Join(root, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", `module example.com/app

go 1.22

require (
	github.com/corp/secret v1.0.0
	example.com/app/sub v0.0.0
	golang.org/x/text v0.3.0 // indirect
	example.com/zed v1.0.0
	example.com/local v1.0.0
	example.com/alpha v1.1.0
)

replace example.com/local => ../local
`)
	write("sub/go.mod", "module example.com/app/sub\n\ngo 1.22\n\nrequire example.com/alpha v1.2.0\n")
	ws, err := workspace.Discover(root)
	if err != nil {
		t.Fatal(err)
	}
	got := ProbeModules(ws, "github.com/corp", 3)
	want := []module.Version{{Path: "example.com/alpha", Version: "v1.1.0"}, {Path: "example.com/zed", Version: "v1.0.0"}, {Path: "golang.org/x/text", Version: "v0.3.0"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Error(diff)
	}
	if got := ProbeModules(ws, "*", 3); got != nil {
		t.Errorf("everything private: got %v", got)
	}
}
