package dist_test

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// action is action.yml as the runner reads it.
type action struct {
	Name    string
	Inputs  map[string]map[string]any
	Outputs map[string]map[string]any
	Runs    map[string]string
}

func readAction(t *testing.T) action {
	t.Helper()
	var a action
	if err := yaml.Unmarshal(read(t, "action.yml"), &a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	return a
}

// shimInputs are the inputs the node shim acts on itself; the binary reads
// every other input as INPUT_<NAME>.
var shimInputs = []string{"version", "install-only", "args", "skip-save-cache", "token"}

// binaryInputs are the inputs that reach `modhygiene run` as INPUT_*.
var binaryInputs = []string{"working-directory", "mirrors", "cache", "build-cache", "tidy", "checks", "vuln",
	"fail-on", "sarif", "config", "only-new-issues", "proxy"}

func TestAction(t *testing.T) {
	a := readAction(t)
	if a.Runs["using"] != "node24" {
		t.Errorf("runs.using = %q, want node24 (a composite action gets neither its inputs as INPUT_* nor the cache service's token)", a.Runs["using"])
	}
	for _, k := range []string{"main", "post"} {
		f := a.Runs[k]
		if f == "" {
			t.Errorf("runs.%s is missing", k)
			continue
		}
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Errorf("runs.%s: %v", k, err)
		}
	}
	if a.Runs["post-if"] != "always()" {
		t.Errorf("runs.post-if = %q, want always(): the caches are saved even when findings fail the step", a.Runs["post-if"])
	}
	want := append(slices.Clone(shimInputs), binaryInputs...)
	for _, in := range want {
		m, ok := a.Inputs[in]
		if !ok {
			t.Errorf("no input %s", in)
			continue
		}
		if s, _ := m["description"].(string); len(s) < 20 {
			t.Errorf("input %s: description %q is too short", in, s)
		}
		if _, ok := m["default"]; !ok {
			t.Errorf("input %s has no default", in)
		}
	}
	for in := range a.Inputs {
		if !slices.Contains(want, in) {
			t.Errorf("unexpected input %s: add it to shimInputs or binaryInputs", in)
		}
	}
	for in, def := range map[string]string{
		"tidy":            "check",
		"fail-on":         "warning", // as the command's --fail-on
		"build-cache":     "true",    // the README advises turning setup-go's cache off
		"cache":           "auto",
		"version":         "",
		"install-only":    "false",
		"skip-save-cache": "false",
		"only-new-issues": "false",
		"args":            "",
	} {
		if got := a.Inputs[in]["default"]; got != def {
			t.Errorf("input %s: default %v, want %q", in, got, def)
		}
	}
	if tok, _ := a.Inputs["token"]["default"].(string); !strings.Contains(tok, "github.token") {
		t.Errorf("token default %q, want the job's token", tok)
	}
	for name, out := range a.Outputs {
		if s, _ := out["description"].(string); len(s) < 20 {
			t.Errorf("output %s: description %q is too short", name, s)
		}
	}
}

// writtenOutputs finds, in the Go sources below internal/, the step outputs
// the binary writes: stage outputs (Outputs["k"], Outputs: map[string]string{"k": ...})
// and the GitHub reporter's counts ({"k", strconv.Itoa(...)}). It is a scan
// of the source, kept honest by wantFound; the simulated job in
// action/job.test.js checks the outputs of a real run as well.
func writtenOutputs(t *testing.T) map[string][]string {
	t.Helper()
	patterns := []*regexp.Regexp{
		regexp.MustCompile(`(?:Outputs|out|add)\["([a-z][a-z0-9-]*)"\]\s*=`),
		regexp.MustCompile(`(?:Outputs:|out :=)\s*map\[string\]string\{(.*)`),
		regexp.MustCompile(`\{"([a-z][a-z0-9-]*)",\s*(?:strconv|fmt)\.`),
	}
	key := regexp.MustCompile(`"([a-z][a-z0-9-]*)":`)
	found := map[string][]string{}
	err := filepath.WalkDir(filepath.Join(root, "internal"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return err
		}
		if strings.HasSuffix(filepath.Base(filepath.Dir(p)), "test") {
			return nil // a fake for tests (githubtest), not the binary
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		for i, re := range patterns {
			for _, m := range re.FindAllSubmatch(data, -1) {
				names := []string{string(m[1])}
				if i == 1 {
					names = nil
					for _, k := range key.FindAllSubmatch(m[1], -1) {
						names = append(names, string(k[1]))
					}
				}
				for _, n := range names {
					found[n] = append(found[n], filepath.ToSlash(rel))
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func TestActionDeclaresEveryOutput(t *testing.T) {
	a := readAction(t)
	found := writtenOutputs(t)
	// The scan must see what we know is written; when it does not, the
	// code moved and the patterns need updating.
	for _, k := range []string{"findings", "errors", "cache-hit", "cache-status", "goproxy", "untidy-modules"} {
		if _, ok := found[k]; !ok {
			t.Errorf("the scan of internal/ no longer finds output %q: update writtenOutputs", k)
		}
	}
	var names []string
	for k := range found {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if _, ok := a.Outputs[k]; !ok {
			t.Errorf("output %s is written (%s) but not declared in action.yml", k, strings.Join(slices.Compact(found[k]), ", "))
		}
	}
	t.Logf("outputs written: %s", strings.Join(names, " "))
}

// lintWorkflow is a workflow that passes every input of the local action and
// reads every output, as a user's would.
func lintWorkflow(a action, extraOutput string) string {
	var ins, outs []string
	for k := range a.Inputs {
		ins = append(ins, k)
	}
	for k := range a.Outputs {
		outs = append(outs, k)
	}
	if extraOutput != "" {
		outs = append(outs, extraOutput)
	}
	sort.Strings(ins)
	sort.Strings(outs)
	var b strings.Builder
	b.WriteString("name: lint\non: [push, pull_request]\npermissions:\n  contents: read\njobs:\n  deps:\n    runs-on: ubuntu-latest\n    steps:\n")
	b.WriteString("      - uses: actions/checkout@v5\n      - id: m\n        uses: ./\n        with:\n")
	for _, k := range ins {
		v := fmt.Sprint(a.Inputs[k]["default"])
		if k == "token" {
			v = "${{ secrets.GITHUB_TOKEN }}"
		}
		fmt.Fprintf(&b, "          %s: %q\n", k, v)
	}
	b.WriteString("      - name: outputs\n        if: always()\n        env:\n")
	for i, k := range outs {
		fmt.Fprintf(&b, "          OUT_%d: ${{ steps.m.outputs.%s }}\n", i, k)
	}
	b.WriteString("        run: env | grep '^OUT_'\n")
	return b.String()
}

// actionlint returns the actionlint binary: MODHYGIENE_ACTIONLINT, or
// actionlint on PATH (.ci/run installs it).
func actionlint(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("MODHYGIENE_ACTIONLINT"); p != "" {
		return p
	}
	p, err := exec.LookPath("actionlint")
	if err != nil {
		t.Skip("actionlint is not installed (go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12, or bash .ci/run)")
	}
	return p
}

// runActionlint lints the workflows in dir/.github/workflows with dir as
// the repository (so that uses: ./ reads dir/action.yml).
func runActionlint(t *testing.T, bin, dir string, files ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-no-color", "-shellcheck=", "-pyflakes="}, files...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestActionlint(t *testing.T) {
	bin := actionlint(t)
	a := readAction(t)
	// A repository (actionlint looks for .git) with the action's metadata
	// and the files it names.
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return name
	}
	write(".git/HEAD", []byte("ref: refs/heads/main\n"))
	write("action.yml", read(t, "action.yml"))
	write(a.Runs["main"], read(t, a.Runs["main"]))
	write(a.Runs["post"], read(t, a.Runs["post"]))

	good := write(".github/workflows/outputs.yml", []byte(lintWorkflow(a, "")))
	if out, err := runActionlint(t, bin, dir, good); err != nil {
		t.Errorf("actionlint rejects a workflow that passes every input and reads every output: %v\n%s", err, out)
	}
	// The check can fail: an undeclared output is an error.
	bad := write(".github/workflows/undeclared.yml", []byte(lintWorkflow(a, "no-such-output")))
	out, err := runActionlint(t, bin, dir, bad)
	if err == nil || !strings.Contains(out, `"no-such-output"`) {
		t.Errorf("actionlint accepts an undeclared output (%v):\n%s", err, out)
	}

	// The project's own workflows.
	files, _ := filepath.Glob(filepath.Join(root, ".github", "workflows", "*.yml"))
	for _, f := range files {
		rel, _ := filepath.Rel(root, f)
		if out, err := runActionlint(t, bin, root, filepath.ToSlash(rel)); err != nil {
			t.Errorf("actionlint %s: %v\n%s", rel, err, out)
		}
	}

	// The workflows in docs/doors.md.
	for i, y := range docWorkflows(t) {
		name := write(fmt.Sprintf(".github/workflows/doc%d.yml", i), []byte(y))
		if out, err := runActionlint(t, bin, dir, name); err != nil {
			t.Errorf("actionlint: the workflow example %d in docs/doors.md: %v\n%s\n%s", i, err, out, y)
		}
	}
}

// docWorkflows returns the YAML blocks of docs/doors.md that are whole
// GitHub workflows (they have jobs: and on:).
func docWorkflows(t *testing.T) []string {
	t.Helper()
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(read(t, "docs/doors.md")), -1)
	var out []string
	for _, b := range blocks {
		if regexp.MustCompile(`(?m)^jobs:`).MatchString(b[1]) && regexp.MustCompile(`(?m)^on:`).MatchString(b[1]) {
			out = append(out, b[1])
		}
	}
	if len(out) == 0 {
		t.Error("docs/doors.md has no workflow example")
	}
	return out
}

// TestActionShimNode runs the shim's own tests under MODHYGIENE_NODE (.ci/run
// sets it to node 24 from npm, the version the runner uses for node24
// actions); all_test.go runs them under the node on PATH.
func TestActionShimNode(t *testing.T) {
	node := os.Getenv("MODHYGIENE_NODE")
	if node == "" {
		t.Skip("set MODHYGIENE_NODE to a node binary (bash .ci/run installs node 24) to run the shim's tests under it")
	}
	version, err := exec.Command(node, "--version").Output()
	if err != nil {
		t.Fatalf("%s --version: %v", node, err)
	}
	out, err := exec.Command(node, "--test", filepath.Join(root, "action", "shim.test.js")).CombinedOutput()
	t.Logf("node %s:\n%s", strings.TrimSpace(string(version)), out)
	if err != nil {
		t.Fatalf("node --test action/shim.test.js under node %s: %v", strings.TrimSpace(string(version)), err)
	}
}
