package vuln

import (
	"compress/gzip"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLayoutReadByXVuln checks that x/vuln's own client reads a database
// written by BuildLayout, from a file:// URL and from an http server that
// serves it gzipped, as the Go vulnerability database does.
func TestLayoutReadByXVuln(t *testing.T) {
	src := t.TempDir()
	entries := map[string]string{
		"GO-2099-0001.json": `{"id":"GO-2099-0001","modified":"0001-01-01T00:00:00Z","summary":"fixed in 1.0.1","affected":[{"package":{"name":"example.com/a","ecosystem":"Go"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.1"}]}]}]}`,
		"GO-2099-0002.json": `{"id":"GO-2099-0002","modified":"0001-01-01T00:00:00Z","summary":"from 1.1.0 on","affected":[{"package":{"name":"example.com/a","ecosystem":"Go"},"ranges":[{"type":"SEMVER","events":[{"introduced":"1.1.0"}]}]}]}`,
	}
	for name, data := range entries {
		if err := os.WriteFile(filepath.Join(src, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db := filepath.Join(t.TempDir(), "db")
	if err := BuildLayout(src, db, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := strings.CutSuffix(r.URL.Path, ".gz")
		data, err := os.ReadFile(filepath.Join(db, filepath.FromSlash(strings.TrimPrefix(name, "/"))))
		if !ok || err != nil {
			http.NotFound(w, r)
			return
		}
		if r.Method == http.MethodHead {
			return
		}
		zw := gzip.NewWriter(w)
		zw.Write(data)
		zw.Close()
	}))
	defer srv.Close()

	for _, url := range []string{FileURL(db), srv.URL} {
		rep, err := runScan(context.Background(), []string{"-mode", "query", "-format", "json", "-db", url, "example.com/a@v1.0.0"}, []string{})
		if err != nil {
			t.Fatalf("%s: %v", url, err)
		}
		if rep.Config.DBLastModified == nil || !rep.Config.DBLastModified.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("%s: db_last_modified = %v, want the fallback time", url, rep.Config.DBLastModified)
		}
		e := rep.Entries["GO-2099-0001"]
		if e == nil {
			t.Fatalf("%s: GO-2099-0001 not returned; entries %v", url, rep.Entries)
		}
		if !e.affects("example.com/a", "v1.0.0") || e.earliestFix("example.com/a", "v1.0.0") != "v1.0.1" {
			t.Errorf("%s: GO-2099-0001 does not affect v1.0.0 with fix v1.0.1", url)
		}
		if e2 := rep.Entries["GO-2099-0002"]; e2 != nil && e2.affects("example.com/a", "v1.0.0") {
			t.Errorf("%s: GO-2099-0002 affects v1.0.0", url)
		}
	}
}
