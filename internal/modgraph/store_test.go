package modgraph

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestListingStore(t *testing.T) {
	s := &ListingStore{Dir: t.TempDir()}
	key := strings.Repeat("ab", 32)
	pkgs := []Package{{ImportPath: "example.com/m", Module: "example.com/m", Imports: []string{"fmt"}, TestImports: []string{"testing"}}}
	if _, ok := s.Get(key); ok {
		t.Fatal("hit in an empty store")
	}
	s.Put(key, pkgs)
	got, ok := s.Get(key)
	if !ok {
		t.Fatal("miss after Put")
	}
	if diff := cmp.Diff(pkgs, got); diff != "" {
		t.Errorf("packages (-put +got):\n%s", diff)
	}
	s.Put(strings.Repeat("cd", 32), nil)
	if got, ok := s.Get(strings.Repeat("cd", 32)); !ok || len(got) != 0 {
		t.Errorf("a module without packages: %v, %v", got, ok)
	}
	if s.Hits() != 2 {
		t.Errorf("Hits() = %d, want 2", s.Hits())
	}
	for _, bad := range []string{"../x", "short", strings.Repeat("zz", 32)} {
		s.Put(bad, pkgs)
		if _, ok := s.Get(bad); ok {
			t.Errorf("key %q stored", bad)
		}
	}
}

func TestListingStoreGarbled(t *testing.T) {
	s := &ListingStore{Dir: t.TempDir()}
	key := strings.Repeat("01", 32)
	for name, data := range map[string]string{
		"not gzip":       "{}",
		"empty":          "",
		"another format": gzipped(t, `{"format":"other/1","packages":[]}`),
		"no packages":    gzipped(t, `{"format":"`+listingFormat+`"}`),
	} {
		if err := os.WriteFile(filepath.Join(s.Dir, key+".json.gz"), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, ok := s.Get(key); ok {
			t.Errorf("%s: a garbled entry was a hit", name)
		}
	}
}

func gzipped(t *testing.T, s string) string {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil || zw.Close() != nil {
		t.Fatal("gzip")
	}
	return b.String()
}

func TestListingStorePrune(t *testing.T) {
	s := &ListingStore{Dir: t.TempDir()}
	old, fresh := strings.Repeat("0a", 32), strings.Repeat("0b", 32)
	s.Put(old, []Package{})
	s.Put(fresh, []Package{})
	long := time.Now().Add(-maxListingAge - time.Hour)
	os.Chtimes(filepath.Join(s.Dir, old+".json.gz"), long, long)
	tmp := filepath.Join(s.Dir, ".listing-123")
	os.WriteFile(tmp, nil, 0o600)
	os.Chtimes(tmp, long, long)
	s.Prune()
	if _, ok := s.Get(old); ok {
		t.Error("an entry unused for longer than maxListingAge was kept")
	}
	if _, ok := s.Get(fresh); !ok {
		t.Error("a fresh entry was pruned")
	}
	if _, err := os.Stat(tmp); err == nil {
		t.Error("a stale temporary file was kept")
	}
}
