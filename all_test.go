// Repository hygiene and the doors tested as users meet them: gofmt, go
// vet, go mod tidy, banned dependencies and hosts, the action's node shim
// under `node --test`, the real pre-commit against this checkout, and the
// SARIF output under the official multitool.
package modhygiene_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func run(t *testing.T, env []string, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func TestGofmt(t *testing.T) {
	out, err := run(t, nil, "gofmt", "-l", "cmd", "internal", "testdata/ghjob")
	if err != nil || strings.TrimSpace(out) != "" {
		t.Fatalf("gofmt -l: %v\n%s", err, out)
	}
}

func TestGoVet(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	if out, err := run(t, nil, "go", "vet", "./..."); err != nil {
		t.Fatalf("go vet ./...: %v\n%s", err, out)
	}
}

// TestGoModTidy checks our own go.mod and go.sum. Without network and with
// an incomplete module cache tidy cannot decide; that is a skip, not a pass.
func TestGoModTidy(t *testing.T) {
	env := []string{"GOFLAGS=-mod=mod"}
	if os.Getenv("MODHYGIENE_ONLINE") == "" {
		env = append(env, "GOPROXY=off")
	}
	out, err := run(t, env, "go", "mod", "tidy", "-diff")
	if err == nil {
		return
	}
	if strings.HasPrefix(out, "diff ") {
		t.Fatalf("go.mod or go.sum is not tidy:\n%s", out)
	}
	t.Skipf("go mod tidy could not run (offline?): %s", firstLine(out))
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// TestBanned keeps frozen or unserved libraries out of our graph and the
// hosts of the package registries out of our files: the tool reads the go
// command's defaults from `go env`.
func TestBanned(t *testing.T) {
	gomod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	for _, dep := range []string{"github.com/xanzy/go-gitlab ", "github.com/sethvargo/go-githubactions "} {
		if bytes.Contains(gomod, []byte(dep)) {
			t.Errorf("go.mod requires banned %s", dep)
		}
	}
	hosts := []string{"proxy." + "golang.org", "sum." + "golang.org", "registry." + "npmjs.org", "deb." + "debian.org"}
	out, err := run(t, nil, "git", "ls-files")
	if err != nil {
		t.Skipf("git ls-files: %v", err)
	}
	for _, f := range strings.Fields(out) {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, h := range hosts {
			if bytes.Contains(data, []byte(h)) {
				t.Errorf("%s names %s; read it from the go command or the tool's own configuration", f, h)
			}
		}
	}
}

// TestActionShim runs the action's own tests under node's test runner.
func TestActionShim(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	files, _ := filepath.Glob("action/*.test.js")
	out, err := run(t, nil, "node", append([]string{"--test"}, files...)...)
	t.Log(out)
	if err != nil {
		t.Fatalf("node --test action: %v", err)
	}
}

// TestPreCommit runs the real pre-commit against this checkout; opt-in with
// MODHYGIENE_PRECOMMIT=1 because installing the hook fetches our
// dependencies through the module proxy.
func TestPreCommit(t *testing.T) {
	if os.Getenv("MODHYGIENE_PRECOMMIT") == "" {
		t.Skip("set MODHYGIENE_PRECOMMIT=1 to run pre-commit try-repo against this checkout")
	}
	out, err := run(t, nil, "bash", "scripts/ci/precommit.sh")
	t.Log(out)
	if err != nil {
		t.Fatalf("scripts/ci/precommit.sh: %v", err)
	}
}

// TestSARIFMultitool validates our SARIF with the official multitool; opt-in
// with MODHYGIENE_SARIF_MULTITOOL=1 because it installs from the npm registry.
func TestSARIFMultitool(t *testing.T) {
	if os.Getenv("MODHYGIENE_SARIF_MULTITOOL") == "" {
		t.Skip("set MODHYGIENE_SARIF_MULTITOOL=1 to validate SARIF with @microsoft/sarif-multitool")
	}
	out, err := run(t, nil, "bash", "scripts/ci/sarif.sh")
	t.Log(out)
	if err != nil {
		t.Fatalf("scripts/ci/sarif.sh: %v", err)
	}
}
