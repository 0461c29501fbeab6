package dist_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/goproxytest"

	"github.com/modhygiene/modhygiene/internal/testenv"
)

// gitlabCILocal returns the command that starts gitlab-ci-local (the npm
// package, which needs node 22 or newer): MODHYGIENE_GITLAB_CI_LOCAL names
// its script and MODHYGIENE_NODE the node to run it with (.ci/run sets
// both), else gitlab-ci-local and node are looked up on PATH.
func gitlabCILocal(t *testing.T) []string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the shell executor here is bash")
	}
	script := os.Getenv("MODHYGIENE_GITLAB_CI_LOCAL")
	if script == "" {
		p, err := exec.LookPath("gitlab-ci-local")
		if err != nil {
			t.Skip("gitlab-ci-local is not installed (npm install gitlab-ci-local, with node 22 or newer; or bash .ci/run)")
		}
		script = p
	}
	node := os.Getenv("MODHYGIENE_NODE")
	if node == "" {
		node = "node"
	}
	out, err := exec.Command(node, "--version").Output()
	m := regexp.MustCompile(`^v(\d+)\.`).FindSubmatch(out)
	if err != nil || m == nil {
		t.Skipf("%s --version: %v", node, err)
	}
	if major, _ := strconv.Atoi(string(m[1])); major < 22 {
		t.Skipf("gitlab-ci-local needs node 22 or newer; %s is %s (set MODHYGIENE_NODE)", node, bytes.TrimSpace(out))
	}
	if _, err := exec.LookPath("rsync"); err != nil {
		t.Skip("gitlab-ci-local needs rsync (apt-get install rsync)")
	}
	return []string{node, script}
}

// buildBinary builds this checkout's modhygiene into a new directory and
// returns that directory (for PATH).
func buildBinary(t *testing.T) string {
	t.Helper()
	absRoot, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "bin")
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "modhygiene"), "./cmd/modhygiene")
	build.Dir = absRoot
	build.Env = append(os.Environ(), "GOTELEMETRY=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=ci", "-c", "user.email=ci@example.com", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// componentProject lays out a GitLab project that is both the component's
// project (templates/modhygiene.yml from this checkout) and the Go
// repository the job checks (the fixture monorepo, plus extra files), and
// commits it. GitLab, and gitlab-ci-local, read a component of the
// project's own commit from its working tree.
func componentProject(t *testing.T, extra map[string]string) (dir, sha string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "monorepo")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(root, "testdata", "ghjob", "monorepo"))); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		component: string(read(t, component)),
		// Only the loopback proxy is a candidate mirror: nothing leaves the machine.
		".modhygiene.yaml": "run:\n  mirrors: current\n  vuln: \"false\"\n",
	}
	for k, v := range extra {
		files[k] = v
	}
	for name, text := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gitIn(t, dir, "init", "-q", "-b", "feature")
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", "fixture")
	gitIn(t, dir, "remote", "add", "origin", "git@gitlab.example.com:acme/monorepo.git")
	return dir, gitIn(t, dir, "rev-parse", "HEAD")
}

// gclResult is one gitlab-ci-local run of the modhygiene job.
type gclResult struct {
	log        string
	jobExit    int // the job's exit status, from the log ("FAIL 3"), 0 for PASS
	codeq      []codeQualityIssue
	dotenv     []byte
	dotenvSeen bool // the dotenv report reached the artifacts
}

// gclEnv is the environment of a gitlab-ci-local run: the test's own home,
// the binary and the go command on PATH, modules from the fixture proxy.
func gclEnv(t *testing.T, bin, proxy string) []string {
	t.Helper()
	home := t.TempDir()
	env, err := testenv.HomeVars(home)
	if err != nil {
		t.Fatal(err)
	}
	gocache, _ := exec.Command("go", "env", "GOCACHE").Output()
	env = append(env,
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"),
		"GOCACHE="+strings.TrimSpace(string(gocache)),
		"GOPROXY="+proxy, "GONOSUMDB=example.com", "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local",
		"GIT_CONFIG_COUNT=2", "GIT_CONFIG_KEY_0=user.name", "GIT_CONFIG_VALUE_0=ci",
		"GIT_CONFIG_KEY_1=user.email", "GIT_CONFIG_VALUE_1=ci@example.com",
		// The predefined variables a merge-request pipeline on a GitLab
		// runner has and gitlab-ci-local does not give (it sets
		// GITLAB_CI=false and a /builds path for jobs with an image).
		"GCL_IGNORE_PREDEFINED_VARS=CI_PIPELINE_SOURCE,CI_MERGE_REQUEST_IID,GITLAB_CI,CI_PROJECT_DIR,CI_API_V4_URL",
	)
	return env
}

// runComponent includes the component with inputs into the project's
// .gitlab-ci.yml and runs its job with gitlab-ci-local's shell executor, as
// a merge-request pipeline of a GitLab runner would.
func runComponent(t *testing.T, gcl []string, dir, sha, bin, proxy string, inputs map[string]string) gclResult {
	t.Helper()
	var ci strings.Builder
	fmt.Fprintf(&ci, "include:\n  - component: gitlab.example.com/acme/monorepo/modhygiene@%s\n", sha)
	if len(inputs) > 0 {
		ci.WriteString("    inputs:\n")
		for k, v := range inputs {
			fmt.Fprintf(&ci, "      %s: %q\n", k, v)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, ".gitlab-ci.yml"), []byte(ci.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{".gitlab-ci-local", "gl-code-quality-report.json", "modhygiene-mirrors.env"} {
		os.RemoveAll(filepath.Join(dir, f))
	}
	env := gclEnv(t, bin, proxy)
	args := append(gcl[1:], "--force-shell-executor", "--no-color",
		"--variable", "GITLAB_CI=true",
		"--variable", "CI_PROJECT_DIR="+dir,
		"--variable", "CI_PIPELINE_SOURCE=merge_request_event",
		"--variable", "CI_MERGE_REQUEST_IID=7",
		"--variable", "CI_API_V4_URL=http://127.0.0.1:9/api/v4",
		"modhygiene")
	cmd := exec.Command(gcl[0], args...)
	cmd.Dir, cmd.Env = dir, env
	out, _ := cmd.CombinedOutput()
	r := gclResult{log: string(out), jobExit: -1}
	if m := regexp.MustCompile(`(?m)^modhygiene finished in .* FAIL (\d+)`).FindStringSubmatch(r.log); m != nil {
		r.jobExit, _ = strconv.Atoi(m[1])
	} else if regexp.MustCompile(`(?m)^ PASS  modhygiene$`).MatchString(r.log) {
		r.jobExit = 0
	}
	if data, err := os.ReadFile(filepath.Join(dir, "gl-code-quality-report.json")); err == nil {
		if err := json.Unmarshal(data, &r.codeq); err != nil {
			t.Errorf("code quality report: %v\n%s", err, data)
		}
	}
	r.dotenv, _ = os.ReadFile(filepath.Join(dir, "modhygiene-mirrors.env"))
	_, err := os.Stat(filepath.Join(dir, ".gitlab-ci-local", "artifacts", "modhygiene", ".gitlab-ci-reports", "dotenv", "modhygiene-mirrors.env"))
	r.dotenvSeen = err == nil && !strings.Contains(r.log, "could not be found")
	return r
}

func (r gclResult) has(check, path, severity string) bool {
	for _, is := range r.codeq {
		if strings.HasPrefix(is.CheckName, check) && is.Location.Path == path && (severity == "" || is.Severity == severity) {
			return true
		}
	}
	return false
}

// TestGitLabCILocal runs the catalog component, included by component:
// from its own project, with gitlab-ci-local's shell executor in a
// merge-request pipeline: the job as GitLab generates it from the
// component, the binary built from this checkout standing in for the
// image.
func TestGitLabCILocal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs pipelines")
	}
	gcl := gitlabCILocal(t)
	bin := buildBinary(t)
	srv := goproxytest.NewTestServer(t, filepath.Join(root, "testdata", "mod"), "")
	broken := map[string]string{
		"services/broken/go.mod": "module example.com/acme/broken\n\ngo 1.21\n\nrequire example.com/missing v1.0.0\n",
		"services/broken/b.go":   "package broken\n\nimport _ \"example.com/missing\"\n",
	}
	dir, sha := componentProject(t, nil)

	t.Run("findings", func(t *testing.T) {
		r := runComponent(t, gcl, dir, sha, bin, srv.URL, nil)
		if r.jobExit != 1 {
			t.Fatalf("job exit %d, want 1 (the untidy module fails the job)\n%s", r.jobExit, r.log)
		}
		if !r.has("MH001", "services/worker/go.mod", "") {
			t.Errorf("no MH001 issue on services/worker/go.mod in the Code Quality report: %+v", r.codeq)
		}
		if !regexp.MustCompile(`(?m)^GOPROXY=\S+$`).Match(r.dotenv) || !r.dotenvSeen {
			t.Errorf("the dotenv report has no GOPROXY line (reached the artifacts: %v):\n%s", r.dotenvSeen, r.dotenv)
		}
	})

	t.Run("mirrors off", func(t *testing.T) {
		r := runComponent(t, gcl, dir, sha, bin, srv.URL, map[string]string{"args": "--mirrors=off", "fail-on": "never"})
		if r.jobExit != 0 {
			t.Fatalf("job exit %d, want 0 with fail-on never\n%s", r.jobExit, r.log)
		}
		if !r.dotenvSeen || len(bytes.TrimSpace(r.dotenv)) != 0 {
			t.Errorf("with --mirrors=off the dotenv report must exist and be empty (reached the artifacts: %v): %q\n%s", r.dotenvSeen, r.dotenv, r.log)
		}
	})

	t.Run("catalog release pipeline", func(t *testing.T) {
		for _, c := range []struct {
			tag  string
			pass bool
		}{{releaseVersion(t), true}, {"v9.9.9", false}} {
			cmd := exec.Command(gcl[0], append(gcl[1:], "--force-shell-executor", "--no-color",
				"--file", ".gitlab/release.gitlab-ci.yml", "--variable", "CI_COMMIT_TAG="+c.tag, "catalog-version")...)
			cmd.Dir, cmd.Env = dir, gclEnv(t, bin, srv.URL)
			if err := os.MkdirAll(filepath.Join(dir, ".gitlab"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, ".gitlab", "release.gitlab-ci.yml"), read(t, ".gitlab/release.gitlab-ci.yml"), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := cmd.CombinedOutput()
			if (err == nil) != c.pass || !strings.Contains(string(out), "catalog-version") {
				t.Errorf("catalog-version at tag %s: %v, want pass %v\n%s", c.tag, err, c.pass, out)
			}
			if c.pass {
				env, _ := os.ReadFile(filepath.Join(dir, "catalog.env"))
				if want := "CATALOG_VERSION=" + strings.TrimPrefix(c.tag, "v") + "\n"; string(env) != want {
					t.Errorf("catalog-version at tag %s wrote catalog.env %q, want %q", c.tag, env, want)
				}
			}
		}
	})

	t.Run("a module that cannot be tidied", func(t *testing.T) {
		dir, sha := componentProject(t, broken)
		r := runComponent(t, gcl, dir, sha, bin, srv.URL, nil)
		if r.jobExit != 3 {
			t.Fatalf("job exit %d, want 3 (tidy could not run)\n%s", r.jobExit, r.log)
		}
		if !r.has("MH001", "services/worker/go.mod", "") {
			t.Errorf("the other modules' findings are lost: %+v", r.codeq)
		}
		if !r.has("", "services/broken/go.mod", "blocker") {
			t.Errorf("no blocker issue on services/broken/go.mod in the Code Quality report: %+v", r.codeq)
		}
	})
}

// releaseVersion is the version input's default of the component: the
// release the file belongs to.
func releaseVersion(t *testing.T) string {
	t.Helper()
	inputs, _ := specInputs(t)
	return inputs["version"]["default"].(string)
}
