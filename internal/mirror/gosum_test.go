package mirror

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/modhygiene/modhygiene/internal/workspace"
)

func TestSumDBProbe(t *testing.T) {
	root := t.TempDir()
	mustWrite(t, filepath.Join(root, "go.mod"), `module example.com/app

go 1.22

require (
	git.corp.example/secret v1.0.0
	example.com/nosum v1.0.0
	example.com/replaced v1.0.0
	example.com/direct v1.1.0
	example.com/indirect v1.0.0 // indirect
)

replace example.com/replaced => ../replaced
`)
	mustWrite(t, filepath.Join(root, "go.sum"), `git.corp.example/secret v1.0.0 h1:aaaa=
git.corp.example/secret v1.0.0/go.mod h1:bbbb=
example.com/nosum v1.0.0 h1:cccc=
example.com/nosum v1.0.0/go.mod h1:dddd=
example.com/replaced v1.0.0 h1:eeee=
example.com/replaced v1.0.0/go.mod h1:ffff=
example.com/aaa v0.1.0/go.mod h1:gggg=
example.com/indirect v1.0.0 h1:hhhh=
example.com/indirect v1.0.0/go.mod h1:iiii=
example.com/direct v1.1.0 h1:jjjj=
example.com/direct v1.1.0/go.mod h1:kkkk=
not a go.sum line
`)
	ws, err := workspace.Discover(root)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		private, nosumdb string
		want             *SumProbe
	}{
		// The direct requirement with both lines wins over the indirect
		// and over a path that sorts first.
		{"git.corp.example", "example.com/nosum", &SumProbe{Path: "example.com/direct", Version: "v1.1.0",
			Lines: []string{"example.com/direct v1.1.0 h1:jjjj=", "example.com/direct v1.1.0/go.mod h1:kkkk="}}},
		{"git.corp.example", "example.com/nosum,example.com/direct", &SumProbe{Path: "example.com/indirect", Version: "v1.0.0",
			Lines: []string{"example.com/indirect v1.0.0 h1:hhhh=", "example.com/indirect v1.0.0/go.mod h1:iiii="}}},
		// Only a go.mod line left.
		{"git.corp.example", "example.com/nosum,example.com/direct,example.com/indirect", &SumProbe{Path: "example.com/aaa", Version: "v0.1.0",
			Lines: []string{"example.com/aaa v0.1.0/go.mod h1:gggg="}}},
		// Nothing in go.sum: a requirement, without lines.
		{"git.corp.example", "example.com", nil},
		{"*.corp.example,example.com", "", nil},
	}
	for _, tt := range tests {
		got, err := SumDBProbe(ws, tt.private, tt.nosumdb)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("private %q nosumdb %q (-want +got):\n%s", tt.private, tt.nosumdb, diff)
		}
	}
	// No go.sum line left, but a requirement the database may know.
	os.Remove(filepath.Join(root, "go.sum"))
	got, _ := SumDBProbe(ws, "git.corp.example", "example.com/nosum")
	if diff := cmp.Diff(&SumProbe{Path: "example.com/direct", Version: "v1.1.0"}, got); diff != "" {
		t.Errorf("without go.sum (-want +got):\n%s", diff)
	}
	// Never a private module, even as a requirement.
	if got, _ := SumDBProbe(ws, "example.com,git.corp.example", ""); got != nil {
		t.Errorf("private module probed: %+v", got)
	}
	if got, err := SumDBProbe(nil, "", ""); got != nil || err != nil {
		t.Errorf("nil workspace: %v, %v", got, err)
	}
}

func TestSumDBProbeUnreadable(t *testing.T) {
	if os.Getuid() == 0 {
		t.Skip("root reads anything")
	}
	root := t.TempDir()
	mustWrite(t, filepath.Join(root, "go.mod"), "module example.com/app\n\ngo 1.22\n\nrequire example.com/direct v1.1.0\n")
	mustWrite(t, filepath.Join(root, "go.sum"), "example.com/direct v1.1.0 h1:jjjj=\n")
	os.Chmod(filepath.Join(root, "go.sum"), 0)
	ws, err := workspace.Discover(root)
	if err != nil {
		t.Fatal(err)
	}
	got, err := SumDBProbe(ws, "", "")
	if err == nil || !strings.Contains(err.Error(), "go.sum") {
		t.Errorf("error %v, want one naming go.sum", err)
	}
	if got == nil || got.Path != "example.com/direct" {
		t.Errorf("probe %+v, want the requirement", got)
	}
}
