//go:build unix

package local

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/modhygiene/modhygiene/internal/cache/store"
)

// TestNotRegular: a FIFO, a symbolic link or a directory under a key is
// refused at once (a FIFO must not wait for a writer).
func TestNotRegular(t *testing.T) {
	dir := t.TempDir()
	s := New(dir)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "target"), []byte("x"), 0o644))
	must(os.Symlink("target", filepath.Join(dir, "link")))
	must(os.Mkdir(filepath.Join(dir, "dir"), 0o755))
	for _, key := range []string{"fifo", "link", "dir"} {
		done := make(chan error, 1)
		go func() {
			e, err := s.Open(context.Background(), key)
			if err == nil {
				e.Body.Close()
			}
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || errors.Is(err, store.ErrNotFound) {
				t.Errorf("open %s: %v, want an error", key, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("open %s hangs", key)
		}
		if ok, err := s.Exists(context.Background(), key); ok || err == nil {
			t.Errorf("exists %s: %v %v", key, ok, err)
		}
	}
	// A prefix lookup passes over them.
	if _, err := s.Open(context.Background(), "none", "fi", "li", "di"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("prefix lookup: %v", err)
	}
}
