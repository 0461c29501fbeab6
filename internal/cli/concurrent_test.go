package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/modhygiene/modhygiene/internal/testenv"
)

// TestConcurrentMain runs invocations with different commands, flags,
// directories and environments at once in one process: each must see only
// its own flags and settings (run it with -race).
func TestConcurrentMain(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	base := t.TempDir()
	home, err := testenv.HomeVars(filepath.Join(base, "home"))
	if err != nil {
		t.Fatal(err)
	}
	env := append(home, "PATH="+os.Getenv("PATH"), "GOPROXY=off", "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local",
		"GOCACHE="+goEnvValue(t, "GOCACHE"), "GOMODCACHE="+filepath.Join(base, "mod"), "NO_COLOR=1")
	tidyDir, untidyDir, brokenDir := filepath.Join(base, "tidy"), filepath.Join(base, "untidy"), filepath.Join(base, "broken")
	writeModule(t, tidyDir, "module example.com/clean\n\ngo 1.21\n", "")
	// An unused requirement makes a module untidy; an import no module
	// provides (with GOPROXY=off) makes tidy fail.
	writeModule(t, untidyDir, "module example.com/dirty\n\ngo 1.21\n\nrequire example.com/gone v1.0.0\n", "")
	writeModule(t, brokenDir, "module example.com/broken\n\ngo 1.21\n", `import _ "example.com/gone/pkg"`)

	type call struct {
		args []string
		code int
		want string
	}
	calls := []call{
		{[]string{"tidy", "--dir", tidyDir, "--no-memo", "--format", "json", "--ci-report", "off"}, 0, `"command":"tidy"`},
		{[]string{"tidy", "--dir", untidyDir, "--no-memo", "--fail-on", "never", "--ci-report", "off"}, 0, "MH001"},
		{[]string{"tidy", "--dir", brokenDir, "--no-memo", "--fail-on", "never", "--ci-report", "off"}, 3, "MH000"},
		{[]string{"tidy", "--dir", untidyDir, "--no-memo", "--ci-report", "off"}, 1, "MH001"},
		{[]string{"version"}, 0, "modhygiene "},
		{[]string{"tidy", "--dir", tidyDir, "--no-memo", "--format", "text", "--ci-report", "off"}, 0, "0 findings"},
	}
	var wg sync.WaitGroup
	for round := 0; round < 3; round++ {
		for i, c := range calls {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var stdout, stderr bytes.Buffer
				inv := Invocation{Args: c.args, Stdout: &stdout, Stderr: &stderr, Env: env, Dir: base}
				if code := Main(context.Background(), inv); code != c.code {
					t.Errorf("call %d %v: exit %d, want %d\n%s%s", i, c.args, code, c.code, stdout.String(), stderr.String())
				}
				if out := stdout.String() + stderr.String(); !strings.Contains(out, c.want) {
					t.Errorf("call %d %v: output lacks %q:\n%s", i, c.args, c.want, out)
				}
			}()
		}
	}
	wg.Wait()
}

func writeModule(t *testing.T, dir, gomod, imports string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	src := fmt.Sprintf("package %s\n\n%s\n", filepath.Base(dir), imports)
	if err := os.WriteFile(filepath.Join(dir, "a.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}
