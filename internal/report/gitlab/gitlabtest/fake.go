// Package gitlabtest is a fake of the GitLab merge-request notes API, for
// tests: an http.Handler that keeps notes in memory with their authors,
// pages them like GitLab (page and per_page, X-Next-Page), answers GET
// /user for the token, and records every request.
package gitlabtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Note is a stored note.
type Note struct {
	ID     int64  `json:"id"`
	Body   string `json:"body"`
	System bool   `json:"system"`
	Author User   `json:"author"`
}

// User is a GitLab user, the author of notes.
type User struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
}

// Bot is the user of Token (and of any token not in Users): the user that
// the reporter under test posts as.
var Bot = User{ID: 1, Username: "modhygiene-bot"}

// Fake serves /api/v4/user and
// /api/v4/projects/:id/merge_requests/:iid/notes[/:note_id]. Like GitLab,
// it creates notes as the token's user and refuses (403) to update a note
// of another user or a system note.
type Fake struct {
	// Token, when set, is the PRIVATE-TOKEN every request must carry,
	// unless Users names the token.
	Token string
	// Users maps other tokens to their users; Token and unknown tokens
	// (when Token is empty) are Bot.
	Users map[string]User

	mu       sync.Mutex
	notes    map[string][]*Note // by "project/iid"
	nextID   int64
	requests []string
}

// New returns an empty fake.
func New() *Fake { return &Fake{notes: map[string][]*Note{}, nextID: 1} }

// Add stores a note by Bot on project's merge request iid and returns it.
func (f *Fake) Add(project string, iid int64, body string, system bool) *Note {
	return f.AddBy(Bot, project, iid, body, system)
}

// AddBy stores a note by user on project's merge request iid and returns
// it.
func (f *Fake) AddBy(user User, project string, iid int64, body string, system bool) *Note {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := &Note{ID: f.nextID, Body: body, System: system, Author: user}
	f.nextID++
	k := key(project, iid)
	f.notes[k] = append(f.notes[k], n)
	return n
}

// Notes returns a copy of the notes of project's merge request iid.
func (f *Fake) Notes(project string, iid int64) []Note {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Note
	for _, n := range f.notes[key(project, iid)] {
		out = append(out, *n)
	}
	return out
}

// Requests returns the requests served, as "METHOD /path?query".
func (f *Fake) Requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

func key(project string, iid int64) string { return project + "/" + strconv.FormatInt(iid, 10) }

var notesPath = regexp.MustCompile(`^/api/v4/projects/([^/]+)/merge_requests/(\d+)/notes(?:/(\d+))?$`)

// ServeHTTP implements the notes API.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	req := r.Method + " " + r.URL.EscapedPath()
	if q := r.URL.RawQuery; q != "" {
		req += "?" + q
	}
	f.requests = append(f.requests, req)
	user, ok := f.user(r.Header.Get("PRIVATE-TOKEN"))
	if !ok {
		http.Error(w, `{"message":"401 Unauthorized"}`, http.StatusUnauthorized)
		return
	}
	if r.URL.EscapedPath() == "/api/v4/user" && r.Method == http.MethodGet {
		writeJSON(w, http.StatusOK, user)
		return
	}
	m := notesPath.FindStringSubmatch(r.URL.EscapedPath())
	if m == nil {
		http.Error(w, `{"message":"404 Not Found"}`, http.StatusNotFound)
		return
	}
	iid, _ := strconv.ParseInt(m[2], 10, 64)
	k := key(m[1], iid)
	switch {
	case r.Method == http.MethodGet && m[3] == "":
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
		if page < 1 {
			page = 1
		}
		if per < 1 || per > 100 {
			per = 20
		}
		all := f.notes[k]
		from, to := (page-1)*per, page*per
		if from > len(all) {
			from = len(all)
		}
		if to > len(all) {
			to = len(all)
		}
		if to < len(all) {
			w.Header().Set("X-Next-Page", strconv.Itoa(page+1))
		}
		w.Header().Set("X-Page", strconv.Itoa(page))
		w.Header().Set("X-Per-Page", strconv.Itoa(per))
		w.Header().Set("X-Total", strconv.Itoa(len(all)))
		writeJSON(w, http.StatusOK, all[from:to])
	case r.Method == http.MethodPost && m[3] == "":
		body, ok := readBody(w, r)
		if !ok {
			return
		}
		n := &Note{ID: f.nextID, Body: body, Author: user}
		f.nextID++
		f.notes[k] = append(f.notes[k], n)
		writeJSON(w, http.StatusCreated, n)
	case r.Method == http.MethodPut && m[3] != "":
		id, _ := strconv.ParseInt(m[3], 10, 64)
		body, ok := readBody(w, r)
		if !ok {
			return
		}
		for _, n := range f.notes[k] {
			if n.ID == id {
				if n.System || n.Author.ID != user.ID {
					http.Error(w, `{"message":"403 Forbidden"}`, http.StatusForbidden)
					return
				}
				n.Body = body
				writeJSON(w, http.StatusOK, n)
				return
			}
		}
		http.Error(w, `{"message":"404 Note Not Found"}`, http.StatusNotFound)
	default:
		http.Error(w, `{"message":"405 Method Not Allowed"}`, http.StatusMethodNotAllowed)
	}
}

// user returns the user of token, and false when the token is refused.
func (f *Fake) user(token string) (User, bool) {
	if u, ok := f.Users[token]; ok {
		return u, true
	}
	if f.Token != "" && token != f.Token {
		return User{}, false
	}
	return Bot, true
}

func readBody(w http.ResponseWriter, r *http.Request) (string, bool) {
	var in struct {
		Body *string `json:"body"`
	}
	ct := r.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "application/json") {
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, fmt.Sprintf(`{"message":%q}`, err.Error()), http.StatusBadRequest)
			return "", false
		}
	} else if err := r.ParseForm(); err == nil && r.Form.Has("body") {
		b := r.Form.Get("body")
		in.Body = &b
	}
	if in.Body == nil || *in.Body == "" {
		http.Error(w, `{"message":"400 body is missing"}`, http.StatusBadRequest)
		return "", false
	}
	return *in.Body, true
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
