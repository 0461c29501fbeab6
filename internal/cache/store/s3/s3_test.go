package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/modhygiene/modhygiene/internal/cache/store"
)

// newServer starts gofakes3, an S3-compatible server, in process on
// loopback, with a bucket.
func newServer(t *testing.T) (*httptest.Server, func(string) string) {
	backend := s3mem.New()
	if err := backend.CreateBucket("ci-cache"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	env := map[string]string{"AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_REGION": "us-east-1"}
	return srv, func(k string) string { return env[k] }
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	srv, getenv := newServer(t)
	host := strings.TrimPrefix(srv.URL, "http://")
	s, err := New("s3://ci-cache/team/go?endpoint=http://"+host+"&style=path", getenv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(ctx, "k-1", "k-"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("open before put: %v", err)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<20) // 16 MiB + : a multipart upload
	big = append(big, "tail"...)
	for _, c := range []struct {
		key  string
		data []byte
	}{{"k-small", []byte("small")}, {"k-big", big}} {
		n, err := s.Put(ctx, c.key, bytes.NewReader(c.data))
		if err != nil || n != int64(len(c.data)) {
			t.Fatalf("put %s: %d %v", c.key, n, err)
		}
		time.Sleep(1100 * time.Millisecond) // LastModified has second resolution
	}
	e, err := s.Open(ctx, "k-big")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(e.Body)
	e.Body.Close()
	if err != nil || !bytes.Equal(got, big) || e.Size != int64(len(big)) {
		t.Errorf("k-big: %d bytes (%v), size %d; want %d", len(got), err, e.Size, len(big))
	}
	if ok, err := s.Exists(ctx, "k-small"); !ok || err != nil {
		t.Errorf("exists k-small: %v %v", ok, err)
	}
	if ok, err := s.Exists(ctx, "k-none"); ok || err != nil {
		t.Errorf("exists k-none: %v %v", ok, err)
	}
	if _, err := s.Put(ctx, "k-small", strings.NewReader("again")); !errors.Is(err, store.ErrExists) {
		t.Errorf("second put: %v, want ErrExists", err)
	}
	e, err = s.Open(ctx, "k-none", "x-", "k-")
	if err != nil {
		t.Fatal(err)
	}
	e.Body.Close()
	if e.Key != "k-big" {
		t.Errorf("fallback matched %s, want the newest, k-big", e.Key)
	}
}

func TestStoreDown(t *testing.T) {
	srv, getenv := newServer(t)
	host := strings.TrimPrefix(srv.URL, "http://")
	srv.Close()
	s, err := New("s3://ci-cache/p?endpoint=http://"+host+"&style=path", getenv)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := s.Open(ctx, "k", "k"); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Errorf("open with the server down: %v", err)
	}
	if _, err := s.Put(ctx, "k", strings.NewReader("x")); err == nil {
		t.Error("put with the server down: no error")
	}
}

func TestParse(t *testing.T) {
	env := func(string) string { return "" }
	for _, bad := range []string{"s3:///nobucket", "http://x", "s3://b/p?style=sideways"} {
		if _, err := New(bad, env); err == nil {
			t.Errorf("New(%q): no error", bad)
		}
	}
	s, err := New("s3://bucket/a/b/?endpoint=oss-cn-hangzhou.aliyuncs.com&region=cn-hangzhou&style=virtual", env)
	if err != nil {
		t.Fatal(err)
	}
	if s.String() != "s3://bucket/a/b/" || s.prefix != "a/b/" {
		t.Errorf("got %s prefix %q", s, s.prefix)
	}
}

// TestHung: an endpoint that accepts connections and never answers costs
// the deadline (with the client's few retries), not minutes. The context
// of a minute is the failure.
func TestHung(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, never answered
		}
	}()
	_, getenv := newServer(t)
	s, err := NewWith("s3://ci-cache/p?endpoint=http://"+ln.Addr().String()+"&style=path", getenv,
		Options{Timeouts: store.Timeouts{Connect: time.Second, FirstByte: 300 * time.Millisecond, Idle: 300 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	if _, err := s.Open(ctx, "k", "k"); err == nil || ctx.Err() != nil {
		t.Errorf("open from a hung endpoint after %v: %v (context %v)", time.Since(start), err, ctx.Err())
	}
	start = time.Now()
	if _, err := s.Put(ctx, "k", strings.NewReader("x")); err == nil || ctx.Err() != nil {
		t.Errorf("put to a hung endpoint after %v: %v (context %v)", time.Since(start), err, ctx.Err())
	}
	t.Logf("bounded in %v", time.Since(start))
}

// TestOpenOneRequest: opening an object by its exact key costs one GET (no
// HEAD first), whatever its size, and reports its whole size.
func TestOpenOneRequest(t *testing.T) {
	ctx := context.Background()
	backend := s3mem.New()
	if err := backend.CreateBucket("ci-cache"); err != nil {
		t.Fatal(err)
	}
	fake := gofakes3.New(backend).Server()
	var mu sync.Mutex
	var methods []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		methods = append(methods, r.Method)
		mu.Unlock()
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	env := map[string]string{"AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_REGION": "us-east-1"}
	s, err := New("s3://ci-cache/p?endpoint="+srv.URL+"&style=path", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{1, 32 << 10, 100 << 10} {
		data := bytes.Repeat([]byte{'x'}, size)
		key := fmt.Sprintf("k-%d", size)
		if _, err := s.Put(ctx, key, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		methods = nil
		mu.Unlock()
		e, err := s.Open(ctx, key)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		got, err := io.ReadAll(e.Body)
		e.Body.Close()
		if err != nil || len(got) != size || e.Size != int64(size) {
			t.Errorf("%s: read %d bytes (%v), size %d", key, len(got), err, e.Size)
		}
		mu.Lock()
		if strings.Join(methods, " ") != "GET" {
			t.Errorf("%s: requests %v, want one GET", key, methods)
		}
		mu.Unlock()
	}
	if _, err := s.Open(ctx, "k-none"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing object: %v, want ErrNotFound", err)
	}
}
