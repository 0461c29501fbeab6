package github

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modhygiene/modhygiene/internal/cache/store"
	"github.com/modhygiene/modhygiene/internal/cache/store/github/githubtest"
)

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

// twirp is the fake cache service (githubtest) on one loopback server and
// its blobs on another: Azurite when MH_AZURITE_URL is set
// (scripts/ci/azurite.sh), else the fake's own blob endpoint.
type twirp struct {
	*githubtest.Fake
	srv, blobSrv *httptest.Server
}

func newTwirp(t *testing.T) *twirp {
	f := &twirp{Fake: &githubtest.Fake{Token: "tok"}}
	f.srv = httptest.NewServer(f.Fake)
	t.Cleanup(f.srv.Close)
	if u := os.Getenv("MH_AZURITE_URL"); u != "" {
		f.Sign = newAzurite(t, u).sign
		t.Logf("blobs in Azurite at %s", u)
	} else {
		f.blobSrv = httptest.NewServer(f.Fake)
		t.Cleanup(f.blobSrv.Close)
		f.BaseURL = f.blobSrv.URL
	}
	return f
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
	if ok, err := s.Exists(ctx, "k-big"); !ok || err != nil {
		t.Errorf("exists k-big: %v %v", ok, err)
	}
	if ok, err := s.Exists(ctx, "k-bi"); ok || err != nil {
		t.Errorf("exists k-bi (a prefix of a key): %v %v", ok, err)
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
	f.SetThrottle(2, "7")
	if _, err := s.Put(ctx, "k", strings.NewReader("x")); err != nil {
		t.Fatalf("put after two 429s: %v", err)
	}
	if len(waits) != 2 || waits[0] != 7*time.Second {
		t.Errorf("waits %v, want two of 7s", waits)
	}
	// A Retry-After beyond the limit gives up at once instead of hammering.
	f.SetThrottle(5, "3600")
	waits = nil
	before := f.CallCount()
	if _, err := s.Open(ctx, "k"); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Errorf("open while throttled for an hour: %v", err)
	}
	if len(waits) != 0 || f.CallCount()-before != 1 {
		t.Errorf("throttled for an hour: %d waits, %d calls; want none and one", len(waits), f.CallCount()-before)
	}
	// Three 429s in a row: give up after three tries.
	f.SetThrottle(3, "1")
	waits = nil
	before = f.CallCount()
	if _, err := s.Open(ctx, "k"); err == nil {
		t.Error("open after three 429s: no error")
	}
	if got := f.CallCount() - before; got != 3 {
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
	if f.blobSrv != nil {
		f.blobSrv.Close()
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
