package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/modhygiene/modhygiene/internal/gocmd"
	"github.com/modhygiene/modhygiene/internal/testenv"
)

// TestREADMEExample runs the report example of the README on the sample
// repository and compares its output, so the example cannot rot. Only the
// timing line, whose figures change from run to run, is compared by shape.
func TestREADMEExample(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	cmdLine, want := readmeExample(t, string(data))
	home := t.TempDir()
	homeVars, err := testenv.HomeVars(home)
	if err != nil {
		t.Fatal(err)
	}
	env := append(homeVars,
		"PATH="+os.Getenv("PATH"), "XDG_CACHE_HOME="+filepath.Join(home, "cache"),
		"GOCACHE="+goEnvValue(t, "GOCACHE"), "GOMODCACHE="+filepath.Join(home, "mod"),
		"GOFLAGS=-mod=mod", "GOTOOLCHAIN=local", "GOPROXY=http://127.0.0.1:9/unreachable", "NO_COLOR=1",
	)
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), Invocation{Args: strings.Fields(cmdLine)[1:], Stdout: &stdout, Stderr: &stderr, Env: env, Dir: root})
	if code != 1 {
		t.Errorf("exit code %d, want 1 (findings)\nstderr:\n%s", code, stderr.String())
	}
	timing := regexp.MustCompile(`(?m)^timing: .*$`)
	got := timing.ReplaceAllString(stdout.String(), "timing: ...")
	if want = timing.ReplaceAllString(want, "timing: ..."); got != want {
		t.Errorf("README example is out of date; its output is now:\n%s", stdout.String())
	}
}

// readmeExample returns the command and output of the block after the
// "What a report looks like" heading.
func readmeExample(t *testing.T, readme string) (cmd, output string) {
	_, after, ok := strings.Cut(readme, "## What a report looks like")
	if !ok {
		t.Fatal("README has no \"What a report looks like\" section")
	}
	_, block, _ := strings.Cut(after, "```\n")
	block, _, _ = strings.Cut(block, "```")
	first, rest, _ := strings.Cut(block, "\n")
	cmd, ok = strings.CutPrefix(first, "$ ")
	if !ok {
		t.Fatalf("the example block does not start with a $ command line: %q", first)
	}
	return cmd, rest
}

func goEnvValue(t *testing.T, name string) string {
	r := &gocmd.Runner{Env: os.Environ()}
	v, err := r.GoEnv(context.Background(), "", name)
	if err != nil {
		t.Fatal(err)
	}
	return v[name]
}
