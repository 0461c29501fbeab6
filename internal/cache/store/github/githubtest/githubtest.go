// Package githubtest is a fake of the GitHub Actions cache service v2 for
// tests: the three Twirp calls of the cache service and, unless signed URLs
// are made elsewhere (Azurite), a small Azure Blob endpoint for them.
//
// It behaves as the service does where clients can tell: entries are
// keyed by key, version and scope (a branch), so a same-key save of
// another version is a new entry; an entry being written is reserved (a
// second CreateCacheEntry gets 409 already_exists) and invisible to
// lookups until finalized; a token without a writable scope gets ok:false
// with a "cache write denied: ..." message, one without a readable scope a
// 403 with "cache read denied: ..."; size_bytes is accepted as protobuf's
// JSON writes an int64 (a string) or as a number; Twirp answers are JSON
// with a JSON content type. Blob URLs answer HEAD, plain and ranged GET
// (Range or x-ms-range, If-Match) with ETag and Last-Modified as Azure
// does, Put Blob, Put Block and Put Block List.
package githubtest

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Service is the Twirp service path prefix.
const Service = "/twirp/github.actions.results.api.v1.CacheService/"

// Sig is the signature the fake's own signed URLs carry.
const Sig = "SECRETSIG+value"

// Scope is what a token may do: write entries in one scope and read those
// of several, in order (the current branch, then the base and default
// branches). An empty Write denies writing; no Read denies reading.
type Scope struct {
	Write string
	Read  []string
}

// DefaultScope is the scope of Token: a push to main.
var DefaultScope = Scope{Write: "refs/heads/main", Read: []string{"refs/heads/main"}}

// Fake serves the cache service under Service and blobs under /blob/. Set
// BaseURL to the server's URL before use. It is safe for concurrent use.
type Fake struct {
	// BaseURL is where the fake's blob endpoint is served, for its own
	// signed URLs (a host ending in .blob.core.windows.net makes
	// @actions/cache take its Azure SDK path).
	BaseURL string
	// Token is a bearer token accepted with DefaultScope; empty accepts
	// any token not in Tokens.
	Token string
	// Tokens are more tokens with their scopes.
	Tokens map[string]Scope
	// Sign makes the signed URL of a blob; nil signs URLs of the fake's
	// own blob endpoint.
	Sign func(key string) string
	// Hang, when it returns true for a request, holds the request without
	// answering until the client goes away: a service that accepts the
	// connection and never answers.
	Hang func(r *http.Request) bool
	// BlobDelay is waited before each blob write is stored, so that
	// concurrent saves overlap.
	BlobDelay time.Duration

	mu sync.Mutex
	// Throttle answers this many calls with 429 and RetryAfter.
	Throttle   int
	RetryAfter string
	// Calls lists the Twirp methods called, in order.
	Calls   []string
	entries map[entryID]*entry
	seq     int
	blobs   map[string]*blob
	blocks  map[string]map[string][]byte
}

type entryID struct{ key, version, scope string }

type entry struct {
	entryID
	size int64
	done bool
	seq  int
}

type blob struct {
	data []byte
	etag string
	mod  time.Time
}

// SetThrottle makes the next n calls answer 429 with Retry-After: after.
func (f *Fake) SetThrottle(n int, after string) {
	f.mu.Lock()
	f.Throttle, f.RetryAfter = n, after
	f.mu.Unlock()
}

// CallCount returns the number of Twirp calls so far.
func (f *Fake) CallCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.Calls)
}

// Keys returns the keys of the finalized entries, sorted (a key saved in
// two versions or scopes appears twice).
func (f *Fake) Keys() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ks []string
	for _, e := range f.entries {
		if e.done {
			ks = append(ks, e.key)
		}
	}
	sort.Strings(ks)
	return ks
}

// ServeHTTP routes Twirp calls and blob requests.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.Hang != nil && f.Hang(r) {
		// Read the body, so that the server notices the client leave.
		io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
		return
	}
	f.mu.Lock()
	if f.entries == nil {
		f.entries, f.blobs, f.blocks = map[entryID]*entry{}, map[string]*blob{}, map[string]map[string][]byte{}
	}
	f.mu.Unlock()
	if strings.HasPrefix(r.URL.Path, "/blob/") {
		f.serveBlob(w, r)
		return
	}
	f.serveTwirp(w, r)
}

// twirpError writes a Twirp error answer.
func twirpError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"code": code, "msg": msg})
}

// request is the union of the three calls' requests.
type request struct {
	Key         string    `json:"key"`
	RestoreKeys []string  `json:"restore_keys"`
	Version     string    `json:"version"`
	SizeBytes   jsonInt64 `json:"size_bytes"`
}

// jsonInt64 is an int64 as protobuf's JSON mapping allows it: a string
// or a number.
type jsonInt64 int64

// UnmarshalJSON accepts "123" and 123.
func (n *jsonInt64) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	v, err := strconv.ParseInt(s, 10, 64)
	*n = jsonInt64(v)
	return err
}

func (f *Fake) serveTwirp(w http.ResponseWriter, r *http.Request) {
	method, ok := strings.CutPrefix(r.URL.Path, Service)
	if !ok || r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		twirpError(w, http.StatusNotFound, "bad_route", "no such method")
		return
	}
	scope, ok := f.scope(r)
	if !ok {
		twirpError(w, http.StatusUnauthorized, "unauthenticated", "invalid token")
		return
	}
	var in request
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		twirpError(w, http.StatusBadRequest, "malformed", "the json request could not be decoded: "+err.Error())
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Calls = append(f.Calls, method)
	if f.Throttle > 0 {
		f.Throttle--
		w.Header().Set("Retry-After", f.RetryAfter)
		twirpError(w, http.StatusTooManyRequests, "resource_exhausted", "slow down")
		return
	}
	var out map[string]any
	switch method {
	case "GetCacheEntryDownloadURL":
		if len(scope.Read) == 0 {
			twirpError(w, http.StatusForbidden, "permission_denied", "cache read denied: the token of this run has no readable cache scope")
			return
		}
		out = f.lookup(in, scope)
	case "CreateCacheEntry":
		if scope.Write == "" {
			out = map[string]any{"ok": false, "signed_upload_url": "", "message": "cache write denied: the token of this run has no writable cache scope"}
			break
		}
		id := entryID{in.Key, in.Version, scope.Write}
		if _, ok := f.entries[id]; ok {
			twirpError(w, http.StatusConflict, "already_exists", "cache entry with the same key, version, and scope already exists")
			return
		}
		f.seq++
		f.entries[id] = &entry{entryID: id, seq: f.seq}
		out = map[string]any{"ok": true, "signed_upload_url": f.sign(f.blobName(id))}
	case "FinalizeCacheEntryUpload":
		e := f.entries[entryID{in.Key, in.Version, scope.Write}]
		if e == nil || e.done {
			out = map[string]any{"ok": false, "entry_id": "0", "message": "no cache entry is being written for this key"}
			break
		}
		e.done, e.size = true, int64(in.SizeBytes)
		out = map[string]any{"ok": true, "entry_id": fmt.Sprint(e.seq)}
	default:
		twirpError(w, http.StatusNotFound, "bad_route", "no such method")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

// scope returns the scope of the request's token.
func (f *Fake) scope(r *http.Request) (Scope, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return Scope{}, false
	}
	if s, ok := f.Tokens[tok]; ok {
		return s, true
	}
	if f.Token == "" || tok == f.Token {
		return DefaultScope, true
	}
	return Scope{}, false
}

// lookup finds the entry a download asks for: in each readable scope in
// turn, the exact key, then the newest with the key as a prefix, then each
// restore key as a prefix.
func (f *Fake) lookup(in request, scope Scope) map[string]any {
	for _, sc := range scope.Read {
		e := f.entries[entryID{in.Key, in.Version, sc}]
		if e == nil || !e.done {
			e = f.newest(in.Key, in.Version, sc)
		}
		for _, p := range in.RestoreKeys {
			if e != nil {
				break
			}
			e = f.newest(p, in.Version, sc)
		}
		if e != nil {
			return map[string]any{"ok": true, "signed_download_url": f.sign(f.blobName(e.entryID)), "matched_key": e.key}
		}
	}
	return map[string]any{"ok": false, "signed_download_url": "", "matched_key": ""}
}

// newest returns the newest finalized entry of a scope whose key has the prefix.
func (f *Fake) newest(prefix, version, scope string) *entry {
	var best *entry
	for _, e := range f.entries {
		if e.done && e.version == version && e.scope == scope && strings.HasPrefix(e.key, prefix) && (best == nil || e.seq > best.seq) {
			best = e
		}
	}
	return best
}

// blobName is the blob of an entry: one per key, version and scope.
func (f *Fake) blobName(id entryID) string {
	return fmt.Sprintf("%s-%d", id.key, f.entries[id].seq)
}

func (f *Fake) sign(name string) string {
	if f.Sign != nil {
		return f.Sign(name)
	}
	return f.BaseURL + "/blob/" + name + "?sv=2020-10-02&sp=rw&sig=" + strings.ReplaceAll(Sig, "+", "%2B")
}

// serveBlob implements Get Blob Properties (HEAD), Get Blob (plain and
// ranged), Put Blob, Put Block and Put Block List.
func (f *Fake) serveBlob(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("sig") != Sig {
		blobError(w, http.StatusForbidden, "AuthenticationFailed")
		return
	}
	name := r.URL.Path
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		f.getBlob(w, r, name)
		return
	case http.MethodPut:
	default:
		blobError(w, http.StatusMethodNotAllowed, "UnsupportedHttpVerb")
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	time.Sleep(f.BlobDelay)
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case q.Get("comp") == "block":
		if f.blocks[name] == nil {
			f.blocks[name] = map[string][]byte{}
		}
		f.blocks[name][q.Get("blockid")] = body
	case q.Get("comp") == "blocklist":
		var l struct {
			Latest []string `xml:"Latest"`
		}
		if err := xml.Unmarshal(body, &l); err != nil {
			blobError(w, http.StatusBadRequest, "InvalidXmlDocument")
			return
		}
		var all []byte
		for _, id := range l.Latest {
			b, ok := f.blocks[name][id]
			if !ok {
				blobError(w, http.StatusBadRequest, "InvalidBlockList")
				return
			}
			all = append(all, b...)
		}
		f.putBlob(name, all)
	case r.Header.Get("x-ms-blob-type") == "BlockBlob":
		f.putBlob(name, body)
	default:
		blobError(w, http.StatusBadRequest, "MissingRequiredHeader")
		return
	}
	w.Header().Set("ETag", f.etag(name))
	w.WriteHeader(http.StatusCreated)
}

func (f *Fake) putBlob(name string, data []byte) {
	f.seq++
	f.blobs[name] = &blob{data: data, etag: fmt.Sprintf(`"0x8DC%012X"`, f.seq), mod: time.Now().UTC()}
}

func (f *Fake) etag(name string) string {
	if b := f.blobs[name]; b != nil {
		return b.etag
	}
	return ""
}

func blobError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("x-ms-error-code", code)
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, code)
}

// getBlob answers HEAD and GET, a range from Range or x-ms-range.
func (f *Fake) getBlob(w http.ResponseWriter, r *http.Request, name string) {
	f.mu.Lock()
	b := f.blobs[name]
	f.mu.Unlock()
	if b == nil {
		blobError(w, http.StatusNotFound, "BlobNotFound")
		return
	}
	if m := r.Header.Get("If-Match"); m != "" && m != "*" && m != b.etag {
		blobError(w, http.StatusPreconditionFailed, "ConditionNotMet")
		return
	}
	h := w.Header()
	h.Set("ETag", b.etag)
	h.Set("Last-Modified", b.mod.Format(http.TimeFormat))
	h.Set("x-ms-blob-type", "BlockBlob")
	h.Set("Accept-Ranges", "bytes")
	h.Set("Content-Type", "application/octet-stream")
	h.Set("x-ms-version", "2020-10-02")
	data, status := b.data, http.StatusOK
	rng := r.Header.Get("x-ms-range")
	if rng == "" {
		rng = r.Header.Get("Range")
	}
	if rng != "" && r.Method == http.MethodGet {
		start, end, ok := parseRange(rng, int64(len(b.data)))
		if !ok {
			h.Set("Content-Range", fmt.Sprintf("bytes */%d", len(b.data)))
			blobError(w, http.StatusRequestedRangeNotSatisfiable, "InvalidRange")
			return
		}
		data, status = b.data[start:end+1], http.StatusPartialContent
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end, len(b.data)))
	}
	h.Set("Content-Length", fmt.Sprint(len(data)))
	w.WriteHeader(status)
	if r.Method == http.MethodGet {
		io.Copy(w, bytes.NewReader(data))
	}
}

// parseRange parses "bytes=START-[END]" within size.
func parseRange(s string, size int64) (start, end int64, ok bool) {
	spec, found := strings.CutPrefix(s, "bytes=")
	a, b, dash := strings.Cut(spec, "-")
	if !found || !dash {
		return 0, 0, false
	}
	start, err := strconv.ParseInt(a, 10, 64)
	if err != nil || start < 0 || start >= size {
		return 0, 0, false
	}
	end = size - 1
	if b != "" {
		if end, err = strconv.ParseInt(b, 10, 64); err != nil || end < start {
			return 0, 0, false
		}
		end = min(end, size-1)
	}
	return start, end, true
}
