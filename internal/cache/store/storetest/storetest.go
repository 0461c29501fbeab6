// Package storetest holds the round trip every cache store must pass, for
// the stores' own tests.
package storetest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/modhygiene/modhygiene/internal/cache"
	"github.com/modhygiene/modhygiene/internal/cache/store"
)

// RoundTrip saves a small read-only module cache through s, restores it into
// an empty directory, compares every file, and checks that saving the same
// cache again uploads nothing.
func RoundTrip(t *testing.T, s store.Store) {
	t.Helper()
	ctx := context.Background()
	src := t.TempDir()
	files := map[string]string{
		"cache/download/example.com/a/@v/v1.0.0.mod": "module example.com/a\n",
		"cache/download/example.com/a/@v/v1.0.0.zip": "PK fake zip",
		"example.com/a@v1.0.0/a.go":                  "package a\n",
		"example.com/b@v0.1.0/b.go":                  "package b\n",
	}
	for name, body := range files {
		p := filepath.Join(src, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o444); err != nil {
			t.Fatal(err)
		}
	}
	lines := cache.SumLines([]byte("example.com/a v1.0.0 h1:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=\nexample.com/b v0.1.0 h1:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb=\n"))
	k := cache.ModuleKeys(lines, 4)
	var warns []string
	opts := cache.Options{Warn: func(m string) { warns = append(warns, m) }}
	if res := cache.Save(ctx, s, cache.ModuleSet(src, k), opts); res.Status != cache.Hit || res.Uploaded == 0 {
		t.Fatalf("save: %+v %q", res, warns)
	}
	dst := t.TempDir()
	if rr := cache.Restore(ctx, s, cache.ModuleSet(dst, k), opts); rr.Status != cache.Hit {
		t.Fatalf("restore: %+v %q", rr, warns)
	}
	for name, body := range files {
		got, err := os.ReadFile(filepath.Join(dst, filepath.FromSlash(name)))
		if err != nil || string(got) != body {
			t.Errorf("%s: %q %v", name, got, err)
		}
	}
	if res := cache.Save(ctx, s, cache.ModuleSet(src, k), opts); !res.UpToDate {
		t.Errorf("second save: %+v", res)
	}
}
