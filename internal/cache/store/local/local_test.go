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

// TestEvict: past its budget the store removes the entries used least
// recently; an open counts as a use; the entry just written stays.
func TestEvict(t *testing.T) {
	ctx := context.Background()
	s := &Store{Dir: t.TempDir(), MaxBytes: 250}
	body := strings.Repeat("x", 100)
	past := time.Now().Add(-time.Hour)
	for i, key := range []string{"k-1", "k-2"} {
		if _, err := s.Put(ctx, key, strings.NewReader(body)); err != nil {
			t.Fatal(err)
		}
		at := past.Add(time.Duration(i) * time.Minute)
		os.Chtimes(filepath.Join(s.Dir, key), at, at)
	}
	e, err := s.Open(ctx, "k-1") // k-1 is now the most recently used
	if err != nil {
		t.Fatal(err)
	}
	e.Body.Close()
	if _, err := s.Put(ctx, "k-3", strings.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	if got := names(t, s.Dir); got != "k-1 k-3" {
		t.Errorf("after eviction: %s, want k-1 k-3", got)
	}
	// The prefix lookup still picks the newest written, not the last used.
	e, err = s.Open(ctx, "k-9", "k-")
	if err != nil {
		t.Fatal(err)
	}
	e.Body.Close()
	if e.Key != "k-3" {
		t.Errorf("prefix lookup: %s, want k-3", e.Key)
	}
	// An entry larger than the budget is kept alone.
	if _, err := s.Put(ctx, "k-big", strings.NewReader(strings.Repeat("y", 300))); err != nil {
		t.Fatal(err)
	}
	if got := names(t, s.Dir); got != "k-big" {
		t.Errorf("after a large put: %s, want k-big", got)
	}
}

func names(t *testing.T, dir string) string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return strings.Join(out, " ")
}

// TestPutCancelled: a save cancelled in the middle (SIGTERM) leaves no
// temporary file and no entry.
func TestPutCancelled(t *testing.T) {
	s := New(t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	r := io.MultiReader(strings.NewReader(strings.Repeat("x", 1<<20)), readerFunc(func(p []byte) (int, error) {
		cancel()
		return copy(p, "more"), nil
	}), strings.NewReader(strings.Repeat("y", 1<<20)))
	if _, err := s.Put(ctx, "k", r); err == nil {
		t.Fatal("put went on after its context was cancelled")
	}
	if got := names(t, s.Dir); got != "" {
		t.Errorf("left behind: %s", got)
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }
