// Package githubtest is a fake of the GitHub Actions cache service v2 for
// tests: the three Twirp calls modhygiene uses and, unless signed URLs are
// made elsewhere (Azurite), a small Azure Blob endpoint for them.
package githubtest

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
)

// Service is the Twirp service path prefix.
const Service = "/twirp/github.actions.results.api.v1.CacheService/"

// Sig is the signature the fake's own signed URLs carry.
const Sig = "SECRETSIG+value"

// Fake serves the cache service under Service and blobs under /blob/. Set
// BaseURL to the server's URL before use. It is safe for concurrent use.
type Fake struct {
	// BaseURL is where the fake is served, for its own signed URLs.
	BaseURL string
	// Token is the bearer token required; empty accepts any.
	Token string
	// Sign makes the signed URL of a blob; nil signs URLs of the fake's
	// own blob endpoint.
	Sign func(key string) string

	mu sync.Mutex
	// Throttle answers this many calls with 429 and RetryAfter.
	Throttle   int
	RetryAfter string
	// Calls lists the Twirp methods called, in order.
	Calls   []string
	entries map[string]*entry
	seq     int
	blobs   map[string][]byte
	blocks  map[string]map[string][]byte
}

type entry struct {
	key, version string
	size         int64
	done         bool
	seq          int
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

// Keys returns the keys of the finalized entries, sorted.
func (f *Fake) Keys() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ks []string
	for k, e := range f.entries {
		if e.done {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	return ks
}

// ServeHTTP routes Twirp calls and blob requests.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.entries == nil {
		f.entries, f.blobs, f.blocks = map[string]*entry{}, map[string][]byte{}, map[string]map[string][]byte{}
	}
	if strings.HasPrefix(r.URL.Path, "/blob/") {
		f.serveBlob(w, r)
		return
	}
	method, ok := strings.CutPrefix(r.URL.Path, Service)
	if !ok || r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"code":"bad_route","msg":"no such method"}`)
		return
	}
	if f.Token != "" && r.Header.Get("Authorization") != "Bearer "+f.Token {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"code":"unauthenticated","msg":"invalid token"}`)
		return
	}
	f.Calls = append(f.Calls, method)
	if f.Throttle > 0 {
		f.Throttle--
		w.Header().Set("Retry-After", f.RetryAfter)
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"code":"resource_exhausted","msg":"slow down"}`)
		return
	}
	var in struct {
		Key         string   `json:"key"`
		RestoreKeys []string `json:"restore_keys"`
		Version     string   `json:"version"`
		SizeBytes   int64    `json:"size_bytes"`
	}
	json.NewDecoder(r.Body).Decode(&in)
	out := map[string]any{}
	switch method {
	case "GetCacheEntryDownloadURL":
		e := f.entries[in.Key]
		if e == nil || !e.done || e.version != in.Version {
			e = f.newest(in.Key, in.Version)
		}
		for _, p := range in.RestoreKeys {
			if e != nil {
				break
			}
			e = f.newest(p, in.Version)
		}
		if e == nil {
			out["ok"] = false
			break
		}
		out["ok"], out["signed_download_url"], out["matched_key"] = true, f.sign(e.key), e.key
	case "CreateCacheEntry":
		if _, ok := f.entries[in.Key]; ok {
			w.WriteHeader(http.StatusConflict)
			io.WriteString(w, `{"code":"already_exists","msg":"cache entry with the same key, version, and scope already exists"}`)
			return
		}
		f.seq++
		f.entries[in.Key] = &entry{key: in.Key, version: in.Version, seq: f.seq}
		out["ok"], out["signed_upload_url"] = true, f.sign(in.Key)
	case "FinalizeCacheEntryUpload":
		e := f.entries[in.Key]
		if e == nil || e.done {
			out["ok"] = false
			break
		}
		e.done, e.size = true, in.SizeBytes
		out["ok"], out["entry_id"] = true, fmt.Sprint(e.seq)
	default:
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"code":"bad_route","msg":"no such method"}`)
		return
	}
	json.NewEncoder(w).Encode(out)
}

// newest returns the newest finalized entry whose key has the prefix.
func (f *Fake) newest(prefix, version string) *entry {
	var best *entry
	for _, e := range f.entries {
		if e.done && e.version == version && strings.HasPrefix(e.key, prefix) && (best == nil || e.seq > best.seq) {
			best = e
		}
	}
	return best
}

func (f *Fake) sign(key string) string {
	if f.Sign != nil {
		return f.Sign(key)
	}
	return f.BaseURL + "/blob/" + key + "?sv=2020-10-02&sp=rw&sig=" + strings.ReplaceAll(Sig, "+", "%2B")
}

// serveBlob implements Put Blob, Put Block, Put Block List and Get Blob.
func (f *Fake) serveBlob(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("sig") != Sig {
		http.Error(w, "AuthenticationFailed", http.StatusForbidden)
		return
	}
	name := r.URL.Path
	body, _ := io.ReadAll(r.Body)
	switch {
	case r.Method == http.MethodGet:
		b, ok := f.blobs[name]
		if !ok {
			http.Error(w, "BlobNotFound", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		w.Write(b)
	case r.Method == http.MethodPut && q.Get("comp") == "block":
		if f.blocks[name] == nil {
			f.blocks[name] = map[string][]byte{}
		}
		f.blocks[name][q.Get("blockid")] = body
		w.WriteHeader(http.StatusCreated)
	case r.Method == http.MethodPut && q.Get("comp") == "blocklist":
		var l struct {
			Latest []string `xml:"Latest"`
		}
		if err := xml.Unmarshal(body, &l); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var all []byte
		for _, id := range l.Latest {
			b, ok := f.blocks[name][id]
			if !ok {
				http.Error(w, "InvalidBlockList", http.StatusBadRequest)
				return
			}
			all = append(all, b...)
		}
		f.blobs[name] = all
		w.WriteHeader(http.StatusCreated)
	case r.Method == http.MethodPut && r.Header.Get("x-ms-blob-type") == "BlockBlob":
		f.blobs[name] = body
		w.WriteHeader(http.StatusCreated)
	default:
		http.Error(w, "unsupported", http.StatusBadRequest)
	}
}
