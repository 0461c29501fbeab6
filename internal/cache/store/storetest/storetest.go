// Package storetest holds the round trip every cache store must pass, for
// the stores' own tests.
package storetest

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/dirhash"

	"github.com/modhygiene/modhygiene/internal/cache"
	"github.com/modhygiene/modhygiene/internal/cache/store"
)

// moduleCache writes a small read-only module cache and returns it, its
// files and its keys (with real go.sum hashes) in shards.
func moduleCache(t *testing.T, shards int) (string, map[string]string, *cache.Keys) {
	t.Helper()
	src := t.TempDir()
	files := map[string]string{
		"cache/download/example.com/a/@v/v1.0.0.mod": "module example.com/a\n",
		"cache/download/example.com/a/@v/v1.0.0.zip": zipOf(t, "example.com/a@v1.0.0/a.go", "package a\n"),
		"example.com/a@v1.0.0/a.go":                  "package a\n",
		"example.com/b@v0.1.0/b.go":                  "package b\n",
		"example.com/c@v0.2.0/c.go":                  "package c\n",
		"example.com/d@v0.3.0/d.go":                  "package d\n",
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
	sum := "example.com/a v1.0.0 " + hash(t, "example.com/a@v1.0.0/a.go", "package a\n") + "\n" +
		"example.com/a v1.0.0/go.mod " + hash(t, "go.mod", "module example.com/a\n") + "\n"
	for _, m := range []string{"b@v0.1.0", "c@v0.2.0", "d@v0.3.0"} {
		p, v, _ := strings.Cut(m, "@")
		sum += "example.com/" + p + " " + v + " " + hash(t, "example.com/"+m+"/"+p+".go", "package "+p+"\n") + "\n"
	}
	return src, files, cache.ModuleKeys(cache.SumLines([]byte(sum)), shards)
}

// RoundTrip saves a small read-only module cache through s, restores it into
// an empty directory, compares every file, and checks that saving the same
// cache again uploads nothing.
func RoundTrip(t *testing.T, s store.Store) {
	t.Helper()
	ctx := context.Background()
	src, files, k := moduleCache(t, 4)
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

// Save saves a small module cache through s with opts and returns the
// result.
func Save(t *testing.T, s store.Store, opts cache.Options) *cache.SaveResult {
	t.Helper()
	src, _, k := moduleCache(t, 4)
	return cache.Save(context.Background(), s, cache.ModuleSet(src, k), opts)
}

// ConcurrentSaves saves one key from n jobs at once, each with its own
// store from newStore (a job of a matrix), then restores it: the store
// must hold one complete entry, and no save may fail.
func ConcurrentSaves(t *testing.T, n int, newStore func() store.Store) {
	t.Helper()
	ctx := context.Background()
	src, _, k := moduleCache(t, 4)
	var mu sync.Mutex
	var warns []string
	opts := cache.Options{Warn: func(m string) { mu.Lock(); warns = append(warns, m); mu.Unlock() }}
	var wg sync.WaitGroup
	results := make([]*cache.SaveResult, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = cache.Save(ctx, newStore(), cache.ModuleSet(src, k), opts)
		}()
	}
	wg.Wait()
	for i, res := range results {
		if res.Status != cache.Hit {
			t.Errorf("save %d: %+v", i, res)
		}
	}
	if len(warns) > 0 {
		t.Errorf("warnings: %q", warns)
	}
	dst := t.TempDir()
	if rr := cache.Restore(ctx, newStore(), cache.ModuleSet(dst, k), opts); rr.Status != cache.Hit {
		t.Errorf("restore after %d concurrent saves: %+v %q", n, rr, warns)
	}
}

// zipOf is a zip holding one file.
func zipOf(t *testing.T, name, data string) string {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, err := zw.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// hash is the go.sum hash of one file (a module of one file, or a go.mod).
func hash(t *testing.T, name, data string) string {
	h, err := dirhash.Hash1([]string{name}, func(string) (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(data)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return h
}
