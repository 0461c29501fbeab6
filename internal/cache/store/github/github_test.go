package github

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modhygiene/modhygiene/internal/cache/store"
)

// blobs is where signed URLs point: Azurite when MH_AZURITE_URL is set
// (scripts/ci/azurite.sh), else a pure-Go fake of the few Blob calls used.
type blobs interface {
	// sign returns a signed URL for the blob name.
	sign(name string) string
}

// fakeBlob implements Put Blob, Put Block, Put Block List and Get Blob.
type fakeBlob struct {
	srv    *httptest.Server
	mu     sync.Mutex
	blobs  map[string][]byte
	blocks map[string]map[string][]byte
}

func newFakeBlob(t *testing.T) *fakeBlob {
	f := &fakeBlob{blobs: map[string][]byte{}, blocks: map[string]map[string][]byte{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeBlob) sign(name string) string {
	return f.srv.URL + "/cache/" + name + "?sv=2020-10-02&sp=rw&sig=SECRETSIG%2Bvalue"
}

func (f *fakeBlob) serve(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("sig") != "SECRETSIG+value" {
		http.Error(w, "AuthenticationFailed", http.StatusForbidden)
		return
	}
	name := r.URL.Path
	f.mu.Lock()
	defer f.mu.Unlock()
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

// azurite signs URLs for the emulator's well-known account with an account SAS.
type azurite struct {
	base, container string
}

const (
	azAccount = "devstoreaccount1"
	azKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

func newAzurite(t *testing.T, base string) *azurite {
	a := &azurite{base: strings.TrimRight(base, "/"), container: fmt.Sprintf("mh%d", time.Now().UnixNano())}
	req, _ := http.NewRequest(http.MethodPut, a.base+"/"+azAccount+"/"+a.container+"?restype=container&"+a.sas(), nil)
	req.Header.Set("x-ms-version", "2020-10-02")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("azurite at %s: %v", base, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("azurite: create container: %s", resp.Status)
	}
	return a
}

func (a *azurite) sas() string {
	v := url.Values{"sv": {"2019-12-12"}, "ss": {"b"}, "srt": {"sco"}, "sp": {"rwdlac"},
		"se": {"2099-01-01T00:00:00Z"}, "spr": {"https,http"}}
	toSign := strings.Join([]string{azAccount, "rwdlac", "b", "sco", "", "2099-01-01T00:00:00Z", "", "https,http", "2019-12-12", ""}, "\n")
	key, _ := base64.StdEncoding.DecodeString(azKey)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(toSign))
	v.Set("sig", base64.StdEncoding.EncodeToString(m.Sum(nil)))
	return v.Encode()
}

func (a *azurite) sign(name string) string {
	return a.base + "/" + azAccount + "/" + a.container + "/" + name + "?" + a.sas()
}

// twirp is a fake of the three CacheService calls.
type twirp struct {
	srv     *httptest.Server
	blobs   blobs
	mu      sync.Mutex
	entries map[string]*entry
	seq     int
	// throttle answers this many calls with 429 and Retry-After.
	throttle   int
	retryAfter string
	calls      []string
}

type entry struct {
	key, version string
	size         int64
	done         bool
	seq          int
}

func newTwirp(t *testing.T) *twirp {
	f := &twirp{entries: map[string]*entry{}}
	if u := os.Getenv("MH_AZURITE_URL"); u != "" {
		f.blobs = newAzurite(t, u)
		t.Logf("blobs in Azurite at %s", u)
	} else {
		f.blobs = newFakeBlob(t)
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *twirp) serve(w http.ResponseWriter, r *http.Request) {
	method, ok := strings.CutPrefix(r.URL.Path, service)
	if !ok || r.Method != http.MethodPost || r.Header.Get("Authorization") != "Bearer tok" || r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, `{"code":"bad_route","msg":"no"}`, http.StatusNotFound)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, method)
	if f.throttle > 0 {
		f.throttle--
		w.Header().Set("Retry-After", f.retryAfter)
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
			e = nil
			for _, p := range in.RestoreKeys {
				var cands []*entry
				for _, x := range f.entries {
					if x.done && x.version == in.Version && strings.HasPrefix(x.key, p) {
						cands = append(cands, x)
					}
				}
				sort.Slice(cands, func(i, j int) bool { return cands[i].seq > cands[j].seq })
				if len(cands) > 0 {
					e = cands[0]
					break
				}
			}
		}
		if e == nil {
			out["ok"] = false
			break
		}
		out["ok"], out["signed_download_url"], out["matched_key"] = true, f.blobs.sign(e.key), e.key
	case "CreateCacheEntry":
		if _, ok := f.entries[in.Key]; ok {
			w.WriteHeader(http.StatusConflict)
			io.WriteString(w, `{"code":"already_exists","msg":"cache entry with the same key, version, and scope already exists"}`)
			return
		}
		f.seq++
		f.entries[in.Key] = &entry{key: in.Key, version: in.Version, seq: f.seq}
		out["ok"], out["signed_upload_url"] = true, f.blobs.sign(in.Key)
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
		return
	}
	json.NewEncoder(w).Encode(out)
}

func newStore(t *testing.T, f *twirp, masked *[]string) *Store {
	var mu sync.Mutex
	s, err := New(Options{URL: f.srv.URL, Token: "tok", BlockSize: 1000,
		Mask:  func(u string) { mu.Lock(); *masked = append(*masked, u); mu.Unlock() },
		Sleep: func(ctx context.Context, d time.Duration) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	f := newTwirp(t)
	var masked []string
	s := newStore(t, f, &masked)
	if _, err := s.Open(ctx, "k-1", "k-"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("open before put: %v", err)
	}
	small := []byte("small entry")
	big := bytes.Repeat([]byte("0123456789abcdef"), 300) // 4800 bytes: five blocks of 1000
	for _, c := range []struct {
		key  string
		data []byte
	}{{"k-small", small}, {"k-big", big}, {"k-exact", make([]byte, 1000)}} {
		key, data := c.key, c.data
		n, err := s.Put(ctx, key, bytes.NewReader(data))
		if err != nil || n != int64(len(data)) {
			t.Fatalf("put %s: %d %v", key, n, err)
		}
		e, err := s.Open(ctx, key)
		if err != nil {
			t.Fatalf("open %s: %v", key, err)
		}
		got, err := io.ReadAll(e.Body)
		e.Body.Close()
		if err != nil || !bytes.Equal(got, data) || e.Key != key {
			t.Errorf("%s: got %d bytes (%v) under %s, want %d", key, len(got), err, e.Key, len(data))
		}
	}
	if _, err := s.Put(ctx, "k-big", bytes.NewReader(big)); !errors.Is(err, store.ErrExists) {
		t.Errorf("second put of a key: %v, want ErrExists", err)
	}
	e, err := s.Open(ctx, "k-none", "nomatch-", "k-")
	if err != nil {
		t.Fatal(err)
	}
	e.Body.Close()
	if e.Key != "k-exact" {
		t.Errorf("fallback matched %s, want the newest, k-exact", e.Key)
	}
	if len(masked) == 0 {
		t.Error("no signed URL was handed to Mask")
	}
	for _, u := range masked {
		if !strings.Contains(u, "sig=") {
			t.Errorf("masked %q has no sig", u)
		}
	}
}

func TestThrottled(t *testing.T) {
	ctx := context.Background()
	f := newTwirp(t)
	var masked []string
	var waits []time.Duration
	s, _ := New(Options{URL: f.srv.URL, Token: "tok", Mask: func(u string) { masked = append(masked, u) },
		Sleep: func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return nil }})
	f.throttle, f.retryAfter = 2, "7"
	if _, err := s.Put(ctx, "k", strings.NewReader("x")); err != nil {
		t.Fatalf("put after two 429s: %v", err)
	}
	if len(waits) != 2 || waits[0] != 7*time.Second {
		t.Errorf("waits %v, want two of 7s", waits)
	}
	// A Retry-After beyond the limit gives up at once instead of hammering.
	f.throttle, f.retryAfter, waits = 5, "3600", nil
	before := len(f.calls)
	if _, err := s.Open(ctx, "k"); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Errorf("open while throttled for an hour: %v", err)
	}
	if len(waits) != 0 || len(f.calls)-before != 1 {
		t.Errorf("throttled for an hour: %d waits, %d calls; want none and one", len(waits), len(f.calls)-before)
	}
	// Three 429s in a row: give up after three tries.
	f.throttle, f.retryAfter, waits = 3, "1", nil
	before = len(f.calls)
	if _, err := s.Open(ctx, "k"); err == nil {
		t.Error("open after three 429s: no error")
	}
	if got := len(f.calls) - before; got != 3 {
		t.Errorf("%d calls, want 3", got)
	}
}

func TestDownAndErrorsHideSignature(t *testing.T) {
	ctx := context.Background()
	f := newTwirp(t)
	var masked []string
	s := newStore(t, f, &masked)
	s.Put(ctx, "k", strings.NewReader("x"))
	// The blob endpoint goes away after the service signed its URL.
	if fb, ok := f.blobs.(*fakeBlob); ok {
		fb.srv.Close()
		_, err := s.Open(ctx, "k")
		if err == nil || strings.Contains(err.Error(), "SECRETSIG") || strings.Contains(err.Error(), "sig=") {
			t.Errorf("error with the blob store down: %v", err)
		}
	}
	f.srv.Close()
	if _, err := s.Open(ctx, "k"); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Errorf("open with the service down: %v", err)
	}
	if _, err := s.Put(ctx, "k2", strings.NewReader("x")); err == nil {
		t.Error("put with the service down: no error")
	}
}

func TestNewNeedsEnv(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Error("no error without ACTIONS_RESULTS_URL")
	}
	if _, err := New(Options{URL: "ftp://x", Token: "t"}); err == nil {
		t.Error("no error for an ftp URL")
	}
}
