package github

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/modhygiene/modhygiene/internal/cache/store"
	"github.com/modhygiene/modhygiene/internal/cache/store/github/githubtest"
)

// short are deadlines short enough for tests.
var short = store.Timeouts{Connect: time.Second, FirstByte: 500 * time.Millisecond, Idle: 500 * time.Millisecond}

// TestHung: a service that accepts the request and never answers, at each
// step, costs the deadline, not minutes. Each case runs under a context
// of a minute: hitting that would be the failure.
func TestHung(t *testing.T) {
	for _, c := range []struct {
		name string
		hang func(r *http.Request) bool
		put  bool
	}{
		{"twirp", func(r *http.Request) bool { return strings.Contains(r.URL.Path, "GetCacheEntryDownloadURL") }, false},
		{"blob-get", func(r *http.Request) bool { return r.Method == http.MethodGet }, false},
		{"blob-put", func(r *http.Request) bool { return r.Method == http.MethodPut }, true},
		{"finalize", func(r *http.Request) bool { return strings.Contains(r.URL.Path, "Finalize") }, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newTwirp(t)
			if strings.HasPrefix(c.name, "blob") && f.blobSrv == nil {
				t.Skip("the blobs are in Azurite")
			}
			var masked []string
			s := newStore(t, f, &masked)
			s.o.Client = &http.Client{Transport: short.Transport()}
			if !c.put {
				if _, err := s.Put(context.Background(), "k", strings.NewReader("data")); err != nil {
					t.Fatal(err)
				}
			}
			f.Hang = c.hang
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			start := time.Now()
			var err error
			if c.put {
				_, err = s.Put(ctx, "k2", strings.NewReader("data"))
			} else {
				var e *store.Entry
				if e, err = s.Open(ctx, "k"); err == nil {
					_, err = io.ReadAll(e.Body)
					e.Body.Close()
				}
			}
			if err == nil || ctx.Err() != nil || !store.IsTimeout(err) {
				t.Errorf("after %v: %v (context: %v), want a timeout of the store's deadline", time.Since(start), err, ctx.Err())
			}
		})
	}
}

// TestIdleBody: a blob GET whose answer stops in the middle of the body
// fails after the idle deadline.
func TestIdleBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, githubtest.Service) {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{"ok": true, "signed_download_url": "http://" + r.Host + "/blob/k?sig=x", "matched_key": "k"})
			return
		}
		w.Header().Set("Content-Length", "100000")
		w.Write(make([]byte, 1000))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer srv.Close()
	s, err := New(Options{URL: srv.URL, Token: "tok", Timeouts: short})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	e, err := s.Open(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Body.Close()
	_, err = io.ReadAll(e.Body)
	if err == nil || ctx.Err() != nil || !store.IsTimeout(err) {
		t.Errorf("read of a stalled body: %v (context %v)", err, ctx.Err())
	}
}

// TestWriteDenied: a token that may not write gets the service's own
// message, not "already exists"; one that may not read, a denial too.
func TestWriteDenied(t *testing.T) {
	f := newTwirp(t)
	f.Tokens = map[string]githubtest.Scope{
		"ro": {Read: []string{"refs/heads/main"}},
		"wo": {Write: "refs/heads/main"},
	}
	s, err := New(Options{URL: f.srv.URL, Token: "ro"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Put(context.Background(), "k", strings.NewReader("x"))
	if err == nil || errors.Is(err, store.ErrExists) || !strings.Contains(err.Error(), "cache write denied: ") {
		t.Errorf("put with a read-only token: %v", err)
	}
	s, _ = New(Options{URL: f.srv.URL, Token: "wo"})
	_, err = s.Open(context.Background(), "k")
	if err == nil || errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), "cache read denied: ") {
		t.Errorf("open with a write-only token: %v", err)
	}
}

// TestFakeIsTheService checks the fake's behaviour that clients can
// tell: entries keyed by key, version and scope; a reserved entry; size
// as a string; JSON answers; HEAD and ranged GET with ETag and If-Match.
func TestFakeIsTheService(t *testing.T) {
	f := newTwirp(t)
	f.Tokens = map[string]githubtest.Scope{
		"feature": {Write: "refs/heads/feature", Read: []string{"refs/heads/feature", "refs/heads/main"}},
	}
	call := func(tok, method, body string) (int, string, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, f.srv.URL+githubtest.Service+method, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, resp.Header.Get("Content-Type"), out
	}
	code, ct, out := call("tok", "CreateCacheEntry", `{"key":"k","version":"v1"}`)
	if code != 200 || ct != "application/json" || out["ok"] != true {
		t.Fatalf("create: %d %s %v", code, ct, out)
	}
	upload := out["signed_upload_url"].(string)
	// Reserved: a second create of the same key, version and scope is a
	// conflict, and the entry is not visible yet.
	if code, _, out := call("tok", "CreateCacheEntry", `{"key":"k","version":"v1"}`); code != 409 || out["code"] != "already_exists" {
		t.Errorf("second create: %d %v", code, out)
	}
	if _, _, out := call("tok", "GetCacheEntryDownloadURL", `{"key":"k","version":"v1"}`); out["ok"] != false {
		t.Errorf("lookup of an entry being written: %v", out)
	}
	// Another version of the key is another entry.
	if code, _, _ := call("tok", "CreateCacheEntry", `{"key":"k","version":"v2"}`); code != 200 {
		t.Errorf("create of another version: %d", code)
	}
	req, _ := http.NewRequest(http.MethodPut, upload, strings.NewReader("0123456789"))
	req.Header.Set("x-ms-blob-type", "BlockBlob")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 201 || resp.Header.Get("ETag") == "" {
		t.Fatalf("put blob: %v %v", resp, err)
	}
	if _, _, out := call("tok", "FinalizeCacheEntryUpload", `{"key":"k","version":"v1","size_bytes":"10"}`); out["ok"] != true || out["entry_id"] == "" {
		t.Errorf("finalize with size_bytes as a string: %v", out)
	}
	_, _, out = call("feature", "GetCacheEntryDownloadURL", `{"key":"k","version":"v1"}`)
	if out["ok"] != true {
		t.Fatalf("a feature branch reads main's entry: %v", out)
	}
	dl := out["signed_download_url"].(string)
	if _, _, out := call("tok", "GetCacheEntryDownloadURL", `{"key":"k","version":"v2"}`); out["ok"] != false {
		t.Errorf("version v2 was never finalized: %v", out)
	}
	if f.blobSrv == nil {
		return // Azurite serves the blobs
	}
	resp, err = http.Head(dl)
	if err != nil || resp.StatusCode != 200 || resp.ContentLength != 10 || resp.Header.Get("ETag") == "" || resp.Header.Get("Last-Modified") == "" {
		t.Fatalf("HEAD: %v %v", resp, err)
	}
	etag := resp.Header.Get("ETag")
	req, _ = http.NewRequest(http.MethodGet, dl, nil)
	req.Header.Set("x-ms-range", "bytes=2-5")
	req.Header.Set("If-Match", etag)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 206 || string(got) != "2345" || resp.Header.Get("Content-Range") != "bytes 2-5/10" {
		t.Errorf("ranged GET: %d %q %s", resp.StatusCode, got, resp.Header.Get("Content-Range"))
	}
	req.Header.Set("If-Match", `"other"`)
	if resp, _ := http.DefaultClient.Do(req); resp.StatusCode != 412 {
		t.Errorf("GET with a stale If-Match: %d", resp.StatusCode)
	}
}

// TestSizeBytesString: the client sends size_bytes as protobuf's JSON
// writes an int64.
func TestSizeBytesString(t *testing.T) {
	b, _ := json.Marshal(finalizeReq{Key: "k", Version: "v", SizeBytes: 1234})
	if !bytes.Contains(b, []byte(`"size_bytes":"1234"`)) {
		t.Errorf("finalize request %s", b)
	}
}
