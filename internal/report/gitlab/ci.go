package gitlab

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/modhygiene/modhygiene/internal/ci"
)

// ForJob returns the merge-request note reporter of the GitLab job that
// env describes, with opt's Verdict, FailOn, Changed and Log (Client,
// Project, MergeRequest and Job come from env). Outside a merge request
// pipeline, without a token with api scope, or with the job's variables
// missing it returns nil and the reason, for one log line.
func ForJob(ctx context.Context, env ci.GitLabEnv, opt Options) (*NoteReporter, string) {
	if env.MergeRequestIID == "" {
		return nil, "not a merge request pipeline; no merge-request note"
	}
	if env.Token == "" {
		return nil, "GITLAB_TOKEN is not set (a token with api scope); no merge-request note, the Code Quality report and this log have the findings"
	}
	n, err := strconv.ParseInt(env.MergeRequestIID, 10, 64)
	if err != nil || env.APIURL == "" || env.ProjectID == "" {
		return nil, "CI_MERGE_REQUEST_IID, CI_API_V4_URL or CI_PROJECT_ID is missing or invalid; no merge-request note"
	}
	client, err := NewClient(env.APIURL, env.Token, &http.Client{Timeout: 30 * time.Second})
	if err != nil {
		return nil, fmt.Sprintf("%v; no merge-request note", err)
	}
	opt.Client, opt.Project, opt.MergeRequest, opt.Job = client, env.ProjectID, n, env.JobName
	return NewNoteReporter(ctx, opt), ""
}
