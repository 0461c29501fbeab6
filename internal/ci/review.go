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

// FindReview returns the pull or merge request of the current run, or nil
// when there is none. On GitHub it reads the event payload named by
// GITHUB_EVENT_PATH through readFile; on GitLab it reads the merge request
// pipeline's variables (CI_MERGE_REQUEST_IID, CI_MERGE_REQUEST_DIFF_BASE_SHA,
// CI_COMMIT_SHA).
func FindReview(p Platform, getenv func(string) string, readFile func(string) ([]byte, error)) (*Review, error) {
	switch p {
	case GitHub:
		path := getenv("GITHUB_EVENT_PATH")
		if path == "" {
			return nil, nil
		}
		data, err := readFile(path)
		if err != nil {
			return nil, fmt.Errorf("GITHUB_EVENT_PATH: %w", err)
		}
		return ParseGitHubEvent(data)
	case GitLab:
		iid := getenv("CI_MERGE_REQUEST_IID")
		if iid == "" {
			return nil, nil
		}
		n, err := strconv.Atoi(iid)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("CI_MERGE_REQUEST_IID=%q is not a merge request number", iid)
		}
		return &Review{Number: n, BaseSHA: getenv("CI_MERGE_REQUEST_DIFF_BASE_SHA"), HeadSHA: getenv("CI_COMMIT_SHA")}, nil
	}
	return nil, nil
}
