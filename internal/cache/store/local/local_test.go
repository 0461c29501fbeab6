package local

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modhygiene/modhygiene/internal/cache/store"
	"github.com/modhygiene/modhygiene/internal/cache/store/storetest"
)

func TestPutOpen(t *testing.T) {
	ctx := context.Background()
	s := New(filepath.Join(t.TempDir(), "store"))
	if _, err := s.Open(ctx, "k-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("open in a missing dir: %v", err)
	}
	if n, err := s.Put(ctx, "k-1", strings.NewReader("one")); err != nil || n != 3 {
		t.Fatalf("put: %d %v", n, err)
	}
	if _, err := s.Put(ctx, "k-1", strings.NewReader("again")); !errors.Is(err, store.ErrExists) {
		t.Fatalf("second put: %v", err)
	}
	old := time.Now().Add(-time.Hour)
	os.Chtimes(filepath.Join(s.Dir, "k-1"), old, old)
	s.Put(ctx, "k-2", strings.NewReader("two"))
	s.Put(ctx, "other", strings.NewReader("x"))
	e, err := s.Open(ctx, "k-3", "nomatch-", "k-")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(e.Body)
	e.Body.Close()
	if e.Key != "k-2" || string(data) != "two" || e.Size != 3 {
		t.Errorf("prefix match: %s %q %d, want the newest, k-2", e.Key, data, e.Size)
	}
	for _, bad := range []string{"../x", "a/b", "", ".hidden"} {
		if _, err := s.Put(ctx, bad, strings.NewReader("x")); err == nil {
			t.Errorf("put %q: no error", bad)
		}
	}
}

func TestConcurrentWriters(t *testing.T) {
	s := New(t.TempDir())
	var wg sync.WaitGroup
	body := strings.Repeat("content ", 100000)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Put(context.Background(), "same", strings.NewReader(body)); err != nil && !errors.Is(err, store.ErrExists) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	e, err := s.Open(context.Background(), "same")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(e.Body)
	e.Body.Close()
	if string(data) != body {
		t.Error("entry is not one writer's whole content")
	}
	ents, _ := os.ReadDir(s.Dir)
	if len(ents) != 1 {
		t.Errorf("%d files left, want 1", len(ents))
	}
}

func TestStoreDown(t *testing.T) {
	// The store's directory is a file: every call fails, none panics.
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o644)
	s := New(f)
	if _, err := s.Put(context.Background(), "k", strings.NewReader("x")); err == nil {
		t.Error("put into a file: no error")
	}
	if _, err := s.Open(context.Background(), "k", "k"); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Errorf("open below a file: %v", err)
	}
}

func TestCacheRoundTrip(t *testing.T) {
	storetest.RoundTrip(t, New(t.TempDir()))
}
