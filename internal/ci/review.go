package ci

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Review is the pull request (GitHub) or merge request (GitLab) a run
// belongs to.
type Review struct {
	// Number is the pull request number or the merge request IID.
	Number int
	// BaseSHA is the commit the changes are compared against.
	BaseSHA string
	// HeadSHA is the commit under review.
	HeadSHA string
	// Fork is set when the pull request comes from another repository
	// (tokens there cannot write).
	Fork bool
}

// event is the part of a GitHub event payload that matters here.
type event struct {
	Repository struct {
		DefaultBranch string `json:"default_branch"`
	} `json:"repository"`
	PullRequest *struct {
		Number int `json:"number"`
		Base   struct {
			SHA  string `json:"sha"`
			Repo struct {
				FullName string `json:"full_name"`
			} `json:"repo"`
		} `json:"base"`
		Head struct {
			SHA  string `json:"sha"`
			Repo struct {
				FullName string `json:"full_name"`
			} `json:"repo"`
		} `json:"head"`
	} `json:"pull_request"`
}

// ParseGitHubEvent reads the pull request from a GitHub event payload (the
// file at GITHUB_EVENT_PATH). It returns nil without error when the event is
// not about a pull request.
func ParseGitHubEvent(data []byte) (*Review, error) {
	var e event
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, fmt.Errorf("event payload: %w", err)
	}
	pr := e.PullRequest
	if pr == nil || pr.Number == 0 {
		return nil, nil
	}
	r := &Review{Number: pr.Number, BaseSHA: pr.Base.SHA, HeadSHA: pr.Head.SHA}
	if pr.Head.Repo.FullName != "" && pr.Base.Repo.FullName != "" && pr.Head.Repo.FullName != pr.Base.Repo.FullName {
		r.Fork = true
	}
	return r, nil
}

// Review returns the pull or merge request of the current run, or nil
// when there is none. On GitHub it reads the event payload named by
// GITHUB_EVENT_PATH through readFile; on GitLab it reads the merge request
// pipeline's variables (CI_MERGE_REQUEST_IID, CI_MERGE_REQUEST_DIFF_BASE_SHA,
// CI_COMMIT_SHA).
func (e *Env) Review(readFile func(string) ([]byte, error)) (*Review, error) {
	switch e.Platform {
	case GitHub:
		if e.GitHub.EventPath == "" {
			return nil, nil
		}
		data, err := readFile(e.GitHub.EventPath)
		if err != nil {
			return nil, fmt.Errorf("GITHUB_EVENT_PATH: %w", err)
		}
		return ParseGitHubEvent(data)
	case GitLab:
		iid := e.GitLab.MergeRequestIID
		if iid == "" {
			return nil, nil
		}
		n, err := strconv.Atoi(iid)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("CI_MERGE_REQUEST_IID=%q is not a merge request number", iid)
		}
		return &Review{Number: n, BaseSHA: e.GitLab.DiffBaseSHA, HeadSHA: e.GitLab.CommitSHA}, nil
	}
	return nil, nil
}

// EventDefaultBranch returns the repository's default branch from the
// GitHub event payload (repository.default_branch), read through readFile,
// or "" when there is none.
func (e *Env) EventDefaultBranch(readFile func(string) ([]byte, error)) string {
	if e.Platform != GitHub || e.GitHub.EventPath == "" {
		return ""
	}
	data, err := readFile(e.GitHub.EventPath)
	if err != nil {
		return ""
	}
	var ev event
	if json.Unmarshal(data, &ev) != nil {
		return ""
	}
	return ev.Repository.DefaultBranch
}
