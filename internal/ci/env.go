package ci

import (
	"errors"
	"strings"
)

// Env is everything modhygiene learns from the CI runner's variables, read
// once per process by Read. No other package reads runner variables
// (GITHUB_*, ACTIONS_*, RUNNER_*, CI_*, GITLAB_*, INPUT_*, CI, PRE_COMMIT):
// they take an *Env, or the value they need from it.
type Env struct {
	// Platform is where modhygiene runs.
	Platform Platform
	// CI is set when any CI system says so (CI is non-empty), which turns
	// off live progress lines.
	CI bool

	// GitHub holds the GitHub Actions runner's variables.
	GitHub GitHubEnv
	// GitLab holds the GitLab CI job's variables.
	GitLab GitLabEnv

	// inputs are the action's INPUT_* variables, by input name as
	// action.yml spells it (upper-cased, hyphens kept).
	inputs map[string]string
}

// GitHubEnv are the variables of a GitHub Actions step.
type GitHubEnv struct {
	// EnvFile, OutputFile, SummaryFile, StateFile and PathFile are the
	// step's environment files (GITHUB_ENV, GITHUB_OUTPUT,
	// GITHUB_STEP_SUMMARY, GITHUB_STATE, GITHUB_PATH).
	EnvFile, OutputFile, SummaryFile, StateFile, PathFile string
	// EventName and EventPath are GITHUB_EVENT_NAME and GITHUB_EVENT_PATH.
	EventName, EventPath string
	// Workspace, Repository, ServerURL, Ref, RefName and SHA are
	// GITHUB_WORKSPACE, GITHUB_REPOSITORY, GITHUB_SERVER_URL, GITHUB_REF,
	// GITHUB_REF_NAME and GITHUB_SHA.
	Workspace, Repository, ServerURL, Ref, RefName, SHA string
	// BaseRef and HeadRef are GITHUB_BASE_REF and GITHUB_HEAD_REF, the
	// target and source branches of a pull request.
	BaseRef, HeadRef string
	// RunnerTemp is RUNNER_TEMP; Debug is RUNNER_DEBUG=1.
	RunnerTemp string
	Debug      bool
	// ResultsURL and RuntimeToken reach the cache service (set only for
	// node and container actions); CacheMode is ACTIONS_CACHE_MODE.
	ResultsURL, RuntimeToken, CacheMode string
	// RefProtected is GITHUB_REF_PROTECTED=true: the ref has branch
	// protection rules.
	RefProtected bool
}

// GitLabEnv are the variables of a GitLab CI job.
type GitLabEnv struct {
	// ProjectDir is CI_PROJECT_DIR, the checkout (the runner's cache: only
	// archives paths inside it).
	ProjectDir string
	// APIURL and ProjectID are CI_API_V4_URL and CI_PROJECT_ID.
	APIURL, ProjectID string
	// MergeRequestIID, DiffBaseSHA and CommitSHA describe a merge request
	// pipeline (CI_MERGE_REQUEST_IID, CI_MERGE_REQUEST_DIFF_BASE_SHA,
	// CI_COMMIT_SHA).
	MergeRequestIID, DiffBaseSHA, CommitSHA string
	// RefName and DefaultBranch are CI_COMMIT_REF_NAME and CI_DEFAULT_BRANCH;
	// TargetBranch is CI_MERGE_REQUEST_TARGET_BRANCH_NAME.
	RefName, DefaultBranch, TargetBranch string
	// RefProtected is CI_COMMIT_REF_PROTECTED=true.
	RefProtected bool
	// JobName is CI_JOB_NAME.
	JobName string
	// Token is GITLAB_TOKEN, a token with api scope for the merge-request
	// note (CI_JOB_TOKEN cannot write notes).
	Token string
}

// Read reads the runner's variables through getenv. It is called once per
// process, by the command line.
func Read(getenv func(string) string) *Env {
	e := &Env{Platform: Detect(getenv), CI: getenv("CI") != "", inputs: map[string]string{}}
	e.GitHub = GitHubEnv{
		EnvFile: getenv("GITHUB_ENV"), OutputFile: getenv("GITHUB_OUTPUT"),
		SummaryFile: getenv("GITHUB_STEP_SUMMARY"), StateFile: getenv("GITHUB_STATE"), PathFile: getenv("GITHUB_PATH"),
		EventName: getenv("GITHUB_EVENT_NAME"), EventPath: getenv("GITHUB_EVENT_PATH"),
		Workspace: getenv("GITHUB_WORKSPACE"), Repository: getenv("GITHUB_REPOSITORY"),
		ServerURL: getenv("GITHUB_SERVER_URL"), Ref: getenv("GITHUB_REF"), RefName: getenv("GITHUB_REF_NAME"),
		SHA: getenv("GITHUB_SHA"), BaseRef: getenv("GITHUB_BASE_REF"), HeadRef: getenv("GITHUB_HEAD_REF"),
		RunnerTemp: getenv("RUNNER_TEMP"), Debug: getenv("RUNNER_DEBUG") == "1",
		ResultsURL: getenv("ACTIONS_RESULTS_URL"), RuntimeToken: getenv("ACTIONS_RUNTIME_TOKEN"),
		CacheMode: getenv("ACTIONS_CACHE_MODE"), RefProtected: getenv("GITHUB_REF_PROTECTED") == "true",
	}
	e.GitLab = GitLabEnv{
		ProjectDir: getenv("CI_PROJECT_DIR"), APIURL: getenv("CI_API_V4_URL"), ProjectID: getenv("CI_PROJECT_ID"),
		MergeRequestIID: getenv("CI_MERGE_REQUEST_IID"), DiffBaseSHA: getenv("CI_MERGE_REQUEST_DIFF_BASE_SHA"),
		CommitSHA: getenv("CI_COMMIT_SHA"), RefName: getenv("CI_COMMIT_REF_NAME"),
		DefaultBranch: getenv("CI_DEFAULT_BRANCH"), TargetBranch: getenv("CI_MERGE_REQUEST_TARGET_BRANCH_NAME"), RefProtected: getenv("CI_COMMIT_REF_PROTECTED") == "true",
		JobName: getenv("CI_JOB_NAME"), Token: getenv("GITLAB_TOKEN"),
	}
	return e
}

// ReadEnviron is Read over an environment slice (KEY=value), which also
// collects the action's inputs.
func ReadEnviron(env []string) *Env {
	m := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	e := Read(func(k string) string { return m[k] })
	for k, v := range m {
		if name, ok := strings.CutPrefix(k, "INPUT_"); ok {
			e.inputs[name] = v
		}
	}
	return e
}

// Input returns the action input name (as action.yml spells it, such as
// "fail-on"), trimmed, or "" when it is not set. The runner sets inputs
// for node and container actions; they are read wherever they are set, so
// that a job can be replayed outside the runner.
func (e *Env) Input(name string) string {
	return strings.TrimSpace(e.inputs[strings.ToUpper(strings.ReplaceAll(name, " ", "_"))])
}

// InputVar is the variable that carries the input name ("INPUT_FAIL-ON"),
// for messages.
func InputVar(name string) string {
	return "INPUT_" + strings.ToUpper(strings.ReplaceAll(name, " ", "_"))
}

// CacheService reports whether the GitHub Actions cache service can be
// reached from this step.
func (e *Env) CacheService() bool {
	return e.Platform == GitHub && e.GitHub.ResultsURL != "" && e.GitHub.RuntimeToken != ""
}

// RestoreAllowed says whether the Actions cache may be read in this run:
// ACTIONS_CACHE_MODE write-only and none forbid it. Other stores are always
// readable. The reason is for a person.
func (e *Env) RestoreAllowed() (bool, string) {
	if e.Platform != GitHub {
		return true, ""
	}
	switch m := e.GitHub.CacheMode; m {
	case "write-only", "none":
		return false, "ACTIONS_CACHE_MODE=" + m + " forbids restoring"
	}
	return true, ""
}

// SaveAllowed says whether the cache may be written in this run on GitHub
// Actions: ACTIONS_CACHE_MODE read and none forbid it, and only push,
// schedule and workflow_dispatch events save unless onPR also allows pull
// requests (whose entries serve only themselves and evict the default
// branch's). Elsewhere saving is always allowed. The reason is for a person.
func (e *Env) SaveAllowed(onPR bool) (bool, string) {
	if e.Platform != GitHub {
		return true, ""
	}
	switch m := e.GitHub.CacheMode; m {
	case "read", "none":
		return false, "ACTIONS_CACHE_MODE=" + m + " forbids saving"
	}
	switch ev := e.GitHub.EventName; ev {
	case "push", "schedule", "workflow_dispatch", "":
		return true, ""
	case "pull_request", "pull_request_target":
		if onPR {
			return true, ""
		}
		return false, "not saving on " + ev + " (its entries would serve only itself and evict the default branch's); pass --save-on-pr to save anyway"
	default:
		return false, "not saving on " + ev + " events (only push, schedule and workflow_dispatch save)"
	}
}

// BuildCacheSaveAllowed says whether the build cache may be saved from
// this run. A build cache entry cannot be verified on restore (unlike the
// module cache, against go.sum), so one saved from a ref anyone with a pull
// request or a topic branch can write would plant compiled code in the
// default branch's builds. On GitHub Actions only push, schedule and
// workflow_dispatch runs of a protected ref or of the default branch
// (defaultBranch, from the event's repository.default_branch; "" when
// unknown) save; on GitLab CI only pipelines of a protected ref. Elsewhere
// (a laptop, a store only its own jobs can write) it is allowed. The
// reason is for a person.
func (e *Env) BuildCacheSaveAllowed(defaultBranch string) (bool, string) {
	switch e.Platform {
	case GitHub:
		switch ev := e.GitHub.EventName; ev {
		case "push", "schedule", "workflow_dispatch":
		default:
			return false, "not saving the build cache on " + ev + " events: its entries cannot be verified on restore, so only protected branches save them"
		}
		ref := e.GitHub.Ref
		if e.GitHub.RefProtected || defaultBranch != "" && ref == "refs/heads/"+defaultBranch {
			return true, ""
		}
		return false, "not saving the build cache from " + ref + ", which is neither protected nor the default branch: its entries cannot be verified on restore"
	case GitLab:
		if e.GitLab.RefProtected {
			return true, ""
		}
		return false, "not saving the build cache from " + e.GitLab.RefName + ", which is not a protected ref: its entries cannot be verified on restore"
	}
	return true, ""
}

// Branch is the branch the run belongs to, for keys of small per-branch
// entries (timings, the tidy memo): the pull request's head branch on
// GitHub, the ref name on GitLab, "" when unknown.
func (e *Env) Branch() string {
	switch e.Platform {
	case GitHub:
		if e.GitHub.HeadRef != "" {
			return e.GitHub.HeadRef
		}
		if b := strings.TrimPrefix(e.GitHub.Ref, "refs/heads/"); b != e.GitHub.Ref {
			return b
		}
		return e.GitHub.RefName
	case GitLab:
		return e.GitLab.RefName
	}
	return ""
}

// BaseBranch is the branch a run's findings are compared against: the
// target branch of a pull or merge request (GitHub's GITHUB_BASE_REF,
// GitLab's CI_MERGE_REQUEST_TARGET_BRANCH_NAME), else the repository's
// default branch (CI_DEFAULT_BRANCH), else "".
func (e *Env) BaseBranch() string {
	if e.Platform == GitLab && e.GitLab.TargetBranch != "" {
		return e.GitLab.TargetBranch
	}
	return e.defaultBranch()
}

// defaultBranch is the repository's default branch when the runner says
// (GitLab's CI_DEFAULT_BRANCH; on GitHub the pull request's base branch),
// else "".
func (e *Env) defaultBranch() string {
	switch e.Platform {
	case GitHub:
		return e.GitHub.BaseRef
	case GitLab:
		return e.GitLab.DefaultBranch
	}
	return ""
}

// ParseInputBool parses a boolean input as the Actions toolkit does (YAML
// 1.2 core schema): true, True, TRUE, false, False or FALSE.
func ParseInputBool(s string) (bool, error) {
	switch s {
	case "true", "True", "TRUE":
		return true, nil
	case "false", "False", "FALSE":
		return false, nil
	}
	return false, errors.New("not a boolean")
}

// SameInput reports whether an input's value is its declared default
// (booleans in any of their spellings). The runner sets every declared
// input, at its default when the workflow does not, so such a value says
// nothing about what the workflow wants.
func SameInput(v, def string) bool {
	if v == def {
		return true
	}
	b1, err1 := ParseInputBool(v)
	b2, err2 := ParseInputBool(def)
	return err1 == nil && err2 == nil && b1 == b2
}
