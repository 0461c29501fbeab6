package dist_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/goproxytest"

	"github.com/modhygiene/modhygiene/internal/testenv"
)

// TestGitLabMergeRequestJob runs the component's job script, with its default
// inputs, as a GitLab runner would in a merge-request pipeline: the
// project's image is stood in for by the binary built from this checkout on
// PATH, the project is the fixture monorepo (testdata/ghjob/monorepo), its
// modules come from a loopback proxy, and .modhygiene.yaml limits the
// mirrors stage to that proxy (nothing reaches the network). The job must
// fail on the untidy module and leave the Code Quality report, the dotenv
// file and the module cache where the runner collects them.
func TestGitLabMergeRequestJob(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	if runtime.GOOS == "windows" {
		t.Skip("GitLab's shell executor here is sh")
	}
	bin := buildBinary(t)
	job := defaultJob(t)
	script := job["script"].([]any)[0].(string)
	project := mergeRequestProject(t)
	cmd := exec.Command("sh", "-c", script)
	cmd.Dir = project
	cmd.Env = jobEnv(t, bin, project, job["variables"].(map[string]any))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("job script: %v, want exit status 1 (the untidy module fails the job)\n$ %s\n%s", err, script, out.String())
	}
	t.Logf("job log:\n%s", out.String())
	checkCodeQuality(t, filepath.Join(project, get(t, job, "artifacts", "reports", "codequality").(string)))
	checkDotenv(t, filepath.Join(project, get(t, job, "artifacts", "reports", "dotenv").(string)))
	// The module cache is inside the project, where the runner's cache: archives it.
	if _, err := os.Stat(filepath.Join(project, ".cache", "go-mod", "cache", "download", "example.com", "greet", "@v", "v1.1.0.zip")); err != nil {
		t.Errorf("module cache not under the project directory: %v", err)
	}
}

// mergeRequestProject is a checkout of the sample monorepo whose
// configuration limits the mirrors stage to the fixture proxy.
func mergeRequestProject(t *testing.T) string {
	project := filepath.Join(t.TempDir(), "builds", "acme", "monorepo")
	if err := os.CopyFS(project, os.DirFS(filepath.Join(root, "testdata", "ghjob", "monorepo"))); err != nil {
		t.Fatal(err)
	}
	config := "run:\n  mirrors: current\n  vuln: \"false\"\n"
	if err := os.WriteFile(filepath.Join(project, ".modhygiene.yaml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	return project
}

// jobEnv is the environment of a merge-request job as the runner sets it,
// with the job's variables expanded as the runner does, modules from the
// fixture proxy and the binary in bin on PATH.
func jobEnv(t *testing.T, bin, project string, variables map[string]any) []string {
	srv := goproxytest.NewTestServer(t, filepath.Join(root, "testdata", "mod"), "")
	home := t.TempDir()
	homeVars, err := testenv.HomeVars(home)
	if err != nil {
		t.Fatal(err)
	}
	gocache, _ := exec.Command("go", "env", "GOCACHE").Output()
	env := append(homeVars,
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"), "GOCACHE="+strings.TrimSpace(string(gocache)),
		"GOPROXY="+srv.URL, "GONOSUMDB=example.com", "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local",
		"CI=true", "GITLAB_CI=true", "CI_SERVER_URL=http://127.0.0.1:9", "CI_API_V4_URL=http://127.0.0.1:9/api/v4",
		"CI_PROJECT_DIR="+project, "CI_PROJECT_ID=42", "CI_PROJECT_PATH=acme/monorepo",
		"CI_PIPELINE_SOURCE=merge_request_event", "CI_MERGE_REQUEST_IID=7",
		"CI_MERGE_REQUEST_DIFF_BASE_SHA=0000000000000000000000000000000000000000",
		"CI_MERGE_REQUEST_TARGET_BRANCH_NAME=main", "CI_COMMIT_SHA=1111111111111111111111111111111111111111",
		"CI_COMMIT_REF_NAME=feature", "CI_COMMIT_REF_SLUG=feature", "CI_DEFAULT_BRANCH=main", "CI_JOB_NAME=modhygiene",
	)
	lookup := func(name string) string {
		for _, kv := range env {
			if k, v, _ := strings.Cut(kv, "="); k == name {
				return v
			}
		}
		return ""
	}
	for k, v := range variables {
		env = append(env, k+"="+os.Expand(v.(string), lookup))
	}
	return env
}

// codeQualityIssue is one entry of a GitLab Code Quality report.
type codeQualityIssue struct {
	Description string `json:"description"`
	CheckName   string `json:"check_name"`
	Fingerprint string `json:"fingerprint"`
	Severity    string `json:"severity"`
	Location    struct {
		Path  string `json:"path"`
		Lines struct {
			Begin int `json:"begin"`
		} `json:"lines"`
	} `json:"location"`
}

// checkCodeQuality checks the report where artifacts:reports:codequality
// finds it: unique fingerprints, GitLab's severities, the untidy module.
func checkCodeQuality(t *testing.T, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var issues []codeQualityIssue
	if err := json.Unmarshal(data, &issues); err != nil {
		t.Fatalf("code quality report: %v\n%s", err, data)
	}
	seen := map[string]bool{}
	untidy := false
	for _, is := range issues {
		if seen[is.Fingerprint] || is.Fingerprint == "" {
			t.Errorf("fingerprint %q empty or repeated", is.Fingerprint)
		}
		seen[is.Fingerprint] = true
		switch is.Severity {
		case "info", "minor", "major", "critical", "blocker":
		default:
			t.Errorf("severity %q", is.Severity)
		}
		if is.Location.Path == "services/worker/go.mod" && strings.Contains(is.CheckName, "MH001") {
			untidy = is.Location.Lines.Begin > 0
		}
	}
	if !untidy {
		t.Errorf("no MH001 issue on services/worker/go.mod with a line in %s", data)
	}
}

// checkDotenv checks the dotenv report: GOPROXY and friends for later jobs.
func checkDotenv(t *testing.T, path string) {
	dotenv, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^GOPROXY=\S+$`).Match(dotenv) {
		t.Errorf("dotenv has no GOPROXY line:\n%s", dotenv)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(dotenv)), "\n") {
		if !regexp.MustCompile(`^[A-Z_][A-Z0-9_]*=`).MatchString(line) {
			t.Errorf("dotenv line %q is not NAME=value", line)
		}
	}
}

// defaultJob returns the component's job with its inputs at their defaults.
func defaultJob(t *testing.T) map[string]any {
	t.Helper()
	_, job := expandJob(t, nil)
	return job
}
