package gitlab

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/modhygiene/modhygiene/internal/ci"
	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/report"
	"github.com/modhygiene/modhygiene/internal/report/gitlab/gitlabtest"
)

func newFake(t *testing.T) (*gitlabtest.Fake, *httptest.Server) {
	fake := gitlabtest.New()
	fake.Token = "glpat-test"
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	return fake, srv
}

func TestUpsertNotePagesAndUpdates(t *testing.T) {
	fake, srv := newFake(t)
	// 150 notes by people and bots, a system note that quotes the marker
	// (must not be touched), and ours on the second page.
	for i := 0; i < 120; i++ {
		fake.Add("7", 3, fmt.Sprintf("comment %d", i), false)
	}
	fake.Add("7", 3, "changed the description "+Marker, true)
	for i := 0; i < 10; i++ {
		fake.Add("7", 3, fmt.Sprintf("more %d", i), false)
	}
	ours := fake.Add("7", 3, Marker+"\nold body", false)
	for i := 0; i < 20; i++ {
		fake.Add("7", 3, fmt.Sprintf("later %d", i), false)
	}
	c, err := NewClient(srv.URL+"/api/v4", "glpat-test", srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	id, created, err := UpsertNote(context.Background(), c, "7", 3, Marker, Marker+"\nnew body", true)
	if err != nil {
		t.Fatal(err)
	}
	if created || id != ours.ID {
		t.Errorf("UpsertNote = %d, created %v; want update of %d", id, created, ours.ID)
	}
	want := []string{
		"GET /api/v4/projects/7/merge_requests/3/notes?page=1&per_page=100",
		"GET /api/v4/projects/7/merge_requests/3/notes?page=2&per_page=100",
		"GET /api/v4/user",
		fmt.Sprintf("PUT /api/v4/projects/7/merge_requests/3/notes/%d", ours.ID),
	}
	if diff := cmp.Diff(want, fake.Requests()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	for _, n := range fake.Notes("7", 3) {
		switch n.ID {
		case ours.ID:
			if n.Body != Marker+"\nnew body" {
				t.Errorf("our note = %q", n.Body)
			}
		default:
			if strings.Contains(n.Body, "new body") {
				t.Errorf("note %d changed: %q", n.ID, n.Body)
			}
		}
	}
}

func TestNoteReporterCreatesThenUpdates(t *testing.T) {
	fake, srv := newFake(t)
	fake.Add("group%2Fproj", 5, "LGTM", false)
	fake.Add("group%2Fproj", 5, "system "+Marker, true)
	c, err := NewClient(srv.URL+"/api/v4/", "glpat-test", srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	run := &report.Run{
		Header: report.Header{Protocol: report.Protocol, Tool: "modhygiene", Version: "v0.0.0-test", Command: "check"},
		Findings: []finding.Finding{{Rule: "MH002", Name: "duplicate-major", Severity: finding.Warning,
			Message: "gopkg.in/yaml at v2 and v3", File: "go.mod", Line: 5, Module: "example.com/app"}},
	}
	var log strings.Builder
	post := func() {
		t.Helper()
		v := report.Verdict(run.Findings, report.FailOn(finding.Warning))
		r := NewNoteReporter(context.Background(), Options{Client: c, Project: "group/proj", MergeRequest: 5, Verdict: &v, FailOn: report.FailOn(finding.Warning), Log: &log})
		if err := report.Replay(run, r); err != nil {
			t.Fatal(err)
		}
	}
	post()
	run.Findings[0].Message = "gopkg.in/yaml at v2 and v3 (second run)"
	post()
	var mine []gitlabtest.Note
	for _, n := range fake.Notes("group%2Fproj", 5) {
		if !n.System && strings.Contains(n.Body, Marker) {
			mine = append(mine, n)
		}
	}
	if len(mine) != 1 {
		t.Fatalf("%d notes with the marker, want 1: %+v", len(mine), mine)
	}
	if !strings.Contains(mine[0].Body, "(second run)") || !strings.Contains(mine[0].Body, "**Failed**") {
		t.Errorf("note not updated:\n%s", mine[0].Body)
	}
	var methods []string
	for _, r := range fake.Requests() {
		methods = append(methods, strings.Fields(r)[0])
	}
	if diff := cmp.Diff([]string{"GET", "POST", "GET", "GET", "PUT"}, methods); diff != "" {
		t.Errorf("methods (-want +got):\n%s\n%v", diff, fake.Requests())
	}
	wantLog := fmt.Sprintf("modhygiene: gitlab: created note %d on merge request !5\nmodhygiene: gitlab: updated note %d on merge request !5\n", mine[0].ID, mine[0].ID)
	if diff := cmp.Diff(wantLog, log.String()); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
}

func TestUpsertNoteError(t *testing.T) {
	_, srv := newFake(t)
	c, err := NewClient(srv.URL+"/api/v4", "wrong", srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := UpsertNote(context.Background(), c, "7", 3, Marker, Marker, true); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("UpsertNote with a bad token = %v, want a 401 error", err)
	}
}

func TestCleanRunCreatesNoNoteButUpdatesOne(t *testing.T) {
	fake, srv := newFake(t)
	c, err := NewClient(srv.URL+"/api/v4", "glpat-test", srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	clean := &report.Run{Header: report.Header{Command: "check"}}
	var log strings.Builder
	if err := report.Replay(clean, NewNoteReporter(context.Background(), Options{Client: c, Project: "7", MergeRequest: 1, Log: &log})); err != nil {
		t.Fatal(err)
	}
	if n := fake.Notes("7", 1); len(n) != 0 || !strings.Contains(log.String(), "nothing posted") {
		t.Fatalf("clean run posted %v; log %q", n, log.String())
	}
	old := fake.Add("7", 1, Marker+"\n1 finding", false)
	if err := report.Replay(clean, NewNoteReporter(context.Background(), Options{Client: c, Project: "7", MergeRequest: 1})); err != nil {
		t.Fatal(err)
	}
	n := fake.Notes("7", 1)
	if len(n) != 1 || n[0].ID != old.ID || !strings.Contains(n[0].Body, "0 findings") {
		t.Errorf("clean run did not update the note: %+v", n)
	}
}

// TestNoteOfAnotherUserIsNeverUpdated: a note by another user that holds
// our marker (quoted, or planted) is never PUT; ours is found behind it,
// and without one of ours a new note is created.
func TestNoteOfAnotherUserIsNeverUpdated(t *testing.T) {
	fake, srv := newFake(t)
	mallory := gitlabtest.User{ID: 66, Username: "mallory"}
	planted := fake.AddBy(mallory, "7", 3, Marker+"\nplanted", false)
	c, err := NewClient(srv.URL+"/api/v4", "glpat-test", srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	id, created, err := UpsertNote(context.Background(), c, "7", 3, Marker, Marker+"\nours", true)
	if err != nil {
		t.Fatal(err)
	}
	if !created || id == planted.ID {
		t.Fatalf("UpsertNote = %d, created %v; want a new note", id, created)
	}
	fake.Add("7", 3, "unrelated", false)
	id2, created, err := UpsertNote(context.Background(), c, "7", 3, Marker, Marker+"\nours again", true)
	if err != nil || created || id2 != id {
		t.Fatalf("second UpsertNote = %d, created %v, %v; want update of %d", id2, created, err, id)
	}
	for _, r := range fake.Requests() {
		if r == fmt.Sprintf("PUT /api/v4/projects/7/merge_requests/3/notes/%d", planted.ID) {
			t.Errorf("the other user's note was PUT: %v", fake.Requests())
		}
	}
	if n := fake.Notes("7", 3)[0]; n.Body != Marker+"\nplanted" {
		t.Errorf("planted note changed: %q", n.Body)
	}
	users := 0
	for _, r := range fake.Requests() {
		if r == "GET /api/v4/user" {
			users++
		}
	}
	if users != 2 {
		t.Errorf("GET /user %d times in two upserts, want once each: %v", users, fake.Requests())
	}
}

// TestTwoJobsKeepTwoNotes: the marker carries the job's name, so two jobs
// in one merge request keep a note each; a note with the old fixed marker
// is taken over by the first job, not duplicated.
func TestTwoJobsKeepTwoNotes(t *testing.T) {
	fake, srv := newFake(t)
	old := fake.Add("7", 3, Marker+"\nfrom before job names", false)
	c, err := NewClient(srv.URL+"/api/v4", "glpat-test", srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	post := func(job, text string) (int64, bool) {
		t.Helper()
		m := MarkerFor(job)
		id, created, err := UpsertNote(context.Background(), c, "7", 3, m, m+"\n"+text, true)
		if err != nil {
			t.Fatal(err)
		}
		return id, created
	}
	lint, created := post("lint", "lint 1")
	if lint != old.ID || created {
		t.Errorf("lint: note %d created %v, want the old note %d taken over", lint, created, old.ID)
	}
	deps, created := post("deps: [1.22]", "deps 1")
	if deps == lint || !created {
		t.Errorf("deps: note %d created %v, want a new note", deps, created)
	}
	if id, _ := post("lint", "lint 2"); id != lint {
		t.Errorf("lint again: note %d, want %d", id, lint)
	}
	if id, _ := post("deps: [1.22]", "deps 2"); id != deps {
		t.Errorf("deps again: note %d, want %d", id, deps)
	}
	bodies := map[int64]string{}
	for _, n := range fake.Notes("7", 3) {
		bodies[n.ID] = n.Body
	}
	want := map[int64]string{lint: "<!-- modhygiene:lint -->\nlint 2", deps: "<!-- modhygiene:deps: [1.22] -->\ndeps 2"}
	if diff := cmp.Diff(want, bodies); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
}

func TestMarkerFor(t *testing.T) {
	for job, want := range map[string]string{
		"":                    Marker,
		"lint":                "<!-- modhygiene:lint -->",
		"test: [1.22, linux]": "<!-- modhygiene:test: [1.22, linux] -->",
		"a-->b":               "<!-- modhygiene:a-%2D%3Eb -->",
		"x\n<!--y":            "<!-- modhygiene:x%0A%3C%21-%2Dy -->",
	} {
		got := MarkerFor(job)
		if got != want {
			t.Errorf("MarkerFor(%q) = %q, want %q", job, got, want)
		}
		if inner := strings.TrimSuffix(strings.TrimPrefix(got, "<!--"), "-->"); strings.Contains(inner, "--") || strings.ContainsAny(inner, "<>\n") {
			t.Errorf("MarkerFor(%q) = %q can end the comment early", job, got)
		}
	}
}

func TestForJob(t *testing.T) {
	ok := ci.GitLabEnv{MergeRequestIID: "7", Token: "glpat-x", APIURL: "http://127.0.0.1:9/api/v4", ProjectID: "42", JobName: "deps"}
	n, why := ForJob(context.Background(), ok, Options{})
	if n == nil || why != "" || n.opt.Job != "deps" || n.opt.MergeRequest != 7 || n.opt.Project != "42" {
		t.Fatalf("ForJob = %+v, %q", n, why)
	}
	for _, tc := range []struct {
		edit func(*ci.GitLabEnv)
		want string
	}{
		{func(e *ci.GitLabEnv) { e.MergeRequestIID = "" }, "not a merge request pipeline"},
		{func(e *ci.GitLabEnv) { e.Token = "" }, "GITLAB_TOKEN is not set"},
		{func(e *ci.GitLabEnv) { e.MergeRequestIID = "x" }, "missing or invalid"},
	} {
		e := ok
		tc.edit(&e)
		if n, why := ForJob(context.Background(), e, Options{}); n != nil || !strings.Contains(why, tc.want) {
			t.Errorf("ForJob(%+v) = %v, %q; want nil and %q", e, n, why, tc.want)
		}
	}
}
