// Package gitlab reports a run to a GitLab merge request: one note, found
// again by a hidden marker and kept up to date, through the GitLab API
// client (gitlab.com/gitlab-org/api/client-go). The Code Quality report is
// a format of its own in package report.
package gitlab

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	gl "gitlab.com/gitlab-org/api/client-go"

	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/report"
)

// Marker is the hidden line that identifies modhygiene's note.
const Marker = "<!-- modhygiene -->"

// perPage is the page size used to list notes, the API's maximum.
const perPage = 100

// MaxNote is the largest note body written; GitLab refuses notes above
// 1,000,000 characters.
const MaxNote = 900 << 10

// NewClient returns an API client for the instance whose API root is apiURL
// (CI_API_V4_URL, such as https://gitlab.example/api/v4) with a token that
// has the api scope. hc may be nil for the default client.
func NewClient(apiURL, token string, hc *http.Client) (*gl.Client, error) {
	opts := []gl.ClientOptionFunc{gl.WithBaseURL(apiURL), gl.WithCustomRetryMax(2)}
	if hc != nil {
		opts = append(opts, gl.WithHTTPClient(hc))
	}
	return gl.NewClient(token, opts...)
}

// UpsertNote keeps one note on merge request mr of project up to date: it
// lists the notes, 100 a page, and updates the first one that is not a
// system note and holds Marker; otherwise it creates one. body must contain
// Marker for a later run to find it. It returns the note's ID and whether it
// was created. With create false it only updates: when no note exists it
// returns 0, false, nil.
func UpsertNote(ctx context.Context, c *gl.Client, project string, mr int64, body string, create bool) (id int64, created bool, err error) {
	opt := &gl.ListMergeRequestNotesOptions{ListOptions: gl.ListOptions{PerPage: perPage, Page: 1}}
	for {
		notes, resp, err := c.Notes.ListMergeRequestNotes(project, mr, opt, gl.WithContext(ctx))
		if err != nil {
			return 0, false, fmt.Errorf("list notes of merge request !%d: %w", mr, err)
		}
		for _, n := range notes {
			if !n.System && strings.Contains(n.Body, Marker) {
				_, _, err := c.Notes.UpdateMergeRequestNote(project, mr, n.ID, &gl.UpdateMergeRequestNoteOptions{Body: &body}, gl.WithContext(ctx))
				if err != nil {
					return 0, false, fmt.Errorf("update note %d of merge request !%d: %w", n.ID, mr, err)
				}
				return n.ID, false, nil
			}
		}
		if resp == nil || resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	if !create {
		return 0, false, nil
	}
	n, _, err := c.Notes.CreateMergeRequestNote(project, mr, &gl.CreateMergeRequestNoteOptions{Body: &body}, gl.WithContext(ctx))
	if err != nil {
		return 0, false, fmt.Errorf("create note on merge request !%d: %w", mr, err)
	}
	return n.ID, true, nil
}

// Options configure a NoteReporter.
type Options struct {
	// Client is the API client (see NewClient).
	Client *gl.Client
	// Project is the project ID or path (CI_PROJECT_ID).
	Project string
	// MergeRequest is the merge request IID (CI_MERGE_REQUEST_IID).
	MergeRequest int64
	// Verdict is the run's verdict, computed once by the caller.
	Verdict *report.Counts
	// FailOn is the level the verdict used.
	FailOn report.FailOn
	// Changed, when set, reports whether a line was changed by the merge
	// request; those findings come first in their tables.
	Changed func(file string, line int) bool
	// Log receives one line saying what happened to the note; nil for none.
	Log io.Writer
}

// NoteReporter is a report.Handler that collects a run and, on Flush,
// writes it to the merge request's note. Its context is the one given to
// NewNoteReporter.
type NoteReporter struct {
	ctx context.Context
	opt Options
	col report.Collector
}

var _ report.Handler = (*NoteReporter)(nil)
var _ report.Flusher = (*NoteReporter)(nil)

// NewNoteReporter returns a NoteReporter that posts with ctx.
func NewNoteReporter(ctx context.Context, opt Options) *NoteReporter {
	return &NoteReporter{ctx: ctx, opt: opt}
}

// Header records h.
func (r *NoteReporter) Header(h *report.Header) error { return r.col.Header(h) }

// Stage records s.
func (r *NoteReporter) Stage(s *report.Stage) error { return r.col.Stage(s) }

// Finding records fd.
func (r *NoteReporter) Finding(fd *finding.Finding) error { return r.col.Finding(fd) }

// Body renders the note for the collected run.
func (r *NoteReporter) Body() string {
	return report.Markdown(&r.col.Run, report.MarkdownOptions{
		Marker:  Marker,
		Verdict: r.opt.Verdict,
		FailOn:  r.opt.FailOn,
		Changed: r.opt.Changed,
		Limit:   MaxNote,
	})
}

// Flush creates or updates the note. A clean run updates an existing note
// (so that it says the findings are gone) but creates none.
func (r *NoteReporter) Flush() error {
	clean := len(r.col.Run.Findings) == 0
	id, created, err := UpsertNote(r.ctx, r.opt.Client, r.opt.Project, r.opt.MergeRequest, r.Body(), !clean)
	if err != nil {
		return err
	}
	if id == 0 {
		if r.opt.Log != nil {
			fmt.Fprintf(r.opt.Log, "modhygiene: gitlab: no findings and no earlier note on merge request !%d; nothing posted\n", r.opt.MergeRequest)
		}
		return nil
	}
	if r.opt.Log != nil {
		verb := "updated"
		if created {
			verb = "created"
		}
		fmt.Fprintf(r.opt.Log, "modhygiene: gitlab: %s note %d on merge request !%d\n", verb, id, r.opt.MergeRequest)
	}
	return nil
}
