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

// Marker is the hidden first line of the note of a job without a name, and
// of every note written before notes carried the job's name (see
// MarkerFor).
const Marker = "<!-- modhygiene -->"

// MarkerFor returns the hidden first line that identifies the note of the
// CI job named job (CI_JOB_NAME): "<!-- modhygiene:lint -->", so that two
// modhygiene jobs in one pipeline keep two notes; Marker when job is empty.
// Characters that could end or confuse an HTML comment are percent-encoded.
func MarkerFor(job string) string {
	if job == "" {
		return Marker
	}
	var b strings.Builder
	b.WriteString("<!-- modhygiene:")
	prev := byte(0)
	for i := 0; i < len(job); i++ {
		c := job[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			strings.IndexByte(" _.:/[]()+,=@#", c) >= 0, c == '-' && prev != '-':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
		prev = c
	}
	b.WriteString(" -->")
	return b.String()
}

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
// lists the notes, 100 a page, and updates the first note written by the
// token's own user (GET /user, asked once, when a candidate is found) that
// is not a system note and whose first line is marker; a note by anyone
// else is never touched, whatever it holds. When no such note exists but
// the user has a note with the old fixed Marker, that note is taken over.
// Otherwise it creates one. body must start with marker for a later run to
// find it. It returns the note's ID and whether it was created. With create
// false it only updates: when no note exists it returns 0, false, nil.
func UpsertNote(ctx context.Context, c *gl.Client, project string, mr int64, marker, body string, create bool) (id int64, created bool, err error) {
	me := int64(-1)
	mine := func(n *gl.Note) (bool, error) {
		if me < 0 {
			u, _, err := c.Users.CurrentUser(gl.WithContext(ctx))
			if err != nil {
				return false, fmt.Errorf("current user of the token: %w", err)
			}
			me = u.ID
		}
		return n.Author.ID == me, nil
	}
	var legacy *gl.Note
	opt := &gl.ListMergeRequestNotesOptions{ListOptions: gl.ListOptions{PerPage: perPage, Page: 1}}
	for {
		notes, resp, err := c.Notes.ListMergeRequestNotes(project, mr, opt, gl.WithContext(ctx))
		if err != nil {
			return 0, false, fmt.Errorf("list notes of merge request !%d: %w", mr, err)
		}
		for _, n := range notes {
			first := firstLine(n.Body)
			if n.System || (first != marker && (first != Marker || legacy != nil)) {
				continue
			}
			ok, err := mine(n)
			if err != nil {
				return 0, false, err
			}
			switch {
			case !ok:
			case first == marker:
				return n.ID, false, updateNote(ctx, c, project, mr, n.ID, body)
			default:
				legacy = n
			}
		}
		if resp == nil || resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	if legacy != nil {
		return legacy.ID, false, updateNote(ctx, c, project, mr, legacy.ID, body)
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

func updateNote(ctx context.Context, c *gl.Client, project string, mr, id int64, body string) error {
	_, _, err := c.Notes.UpdateMergeRequestNote(project, mr, id, &gl.UpdateMergeRequestNoteOptions{Body: &body}, gl.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("update note %d of merge request !%d: %w", id, mr, err)
	}
	return nil
}

// firstLine is s up to its first line break, without surrounding spaces.
func firstLine(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// Options configure a NoteReporter.
type Options struct {
	// Client is the API client (see NewClient).
	Client *gl.Client
	// Project is the project ID or path (CI_PROJECT_ID).
	Project string
	// MergeRequest is the merge request IID (CI_MERGE_REQUEST_IID).
	MergeRequest int64
	// Job is the CI job's name (CI_JOB_NAME); it goes into the note's
	// marker (MarkerFor), so that each job keeps a note of its own.
	Job string
	// Diagrams is how many dependency diagrams the note draws; 0 means
	// report.DefaultDiagrams, negative none (see report.MarkdownOptions).
	Diagrams int
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
		Marker:   MarkerFor(r.opt.Job),
		Verdict:  r.opt.Verdict,
		FailOn:   r.opt.FailOn,
		Changed:  r.opt.Changed,
		Limit:    MaxNote,
		Diagrams: r.opt.Diagrams,
	})
}

// Flush creates or updates the note. A clean run updates an existing note
// (so that it says the findings are gone) but creates none.
func (r *NoteReporter) Flush() error {
	clean := len(r.col.Run.Findings) == 0
	id, created, err := UpsertNote(r.ctx, r.opt.Client, r.opt.Project, r.opt.MergeRequest, MarkerFor(r.opt.Job), r.Body(), !clean)
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
