package proxy

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/module"

	"github.com/modhygiene/modhygiene/internal/cache/store/local"
	"github.com/modhygiene/modhygiene/internal/proxy/proxytest"
)

// dbName is the fixtures' checksum database. The .test top-level domain
// never resolves.
const dbName = "sumdb.modhygiene.test"

// fixture is a module corpus and its checksum database.
type fixture struct {
	corpus string
	mods   []proxytest.Module
	db     *proxytest.SumDB
}

// fixtureMods is a chain of modules plus one whose path needs escaping and
// a +incompatible version without go.mod.
func fixtureMods(n int) []proxytest.Module {
	mods := proxytest.Chain("example.com/fx", n)
	t := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	mods = append(mods,
		proxytest.Module{Path: "example.com/Upper/Case", Version: "v1.2.3", GoMod: "module example.com/Upper/Case\n\ngo 1.21\n",
			Files: map[string]string{"u.go": "package upper\n"}, Time: t},
		proxytest.Module{Path: "example.com/old", Version: "v2.0.0+incompatible",
			Files: map[string]string{"old.go": "package old\n"}, Time: t},
		proxytest.Module{Path: "corp.example/secret", Version: "v1.0.0", GoMod: "module corp.example/secret\n",
			Files: map[string]string{"s.go": "package secret\n"}, Time: t},
	)
	return mods
}

func newFixture(t testing.TB, n int) *fixture {
	t.Helper()
	f := &fixture{corpus: t.TempDir(), mods: fixtureMods(n)}
	if err := proxytest.WriteCorpus(f.corpus, f.mods); err != nil {
		t.Fatal(err)
	}
	var err error
	if f.db, err = proxytest.NewSumDB(dbName, f.corpus); err != nil {
		t.Fatal(err)
	}
	return f
}

// gosumdb is the fixture database for Options.SumDB, with the URL of a
// server that is not there: the proxy reaches the database through the
// mirrors, and a test never asks the network for it.
func (f *fixture) gosumdb(t testing.TB) string { return f.db.Key + " " + downURL(t) }

// file returns a corpus file by its GOPROXY path.
func (f *fixture) file(t testing.TB, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(f.corpus, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// mirror starts a loopback mirror of the corpus.
func (f *fixture) mirror(t testing.TB, b proxytest.Behavior) (*proxytest.Mirror, string) {
	t.Helper()
	m := proxytest.NewMirror(f.corpus, b, f.db)
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	t.Cleanup(m.Release) // runs first: hanging handlers return
	return m, srv.URL
}

// downURL returns the URL of a server that is no longer there.
func downURL(t testing.TB) string {
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close()
	return u
}

// start returns a started proxy for opts, closed at the end of the test.
func start(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

// get fetches a path from the proxy.
func get(t testing.TB, s *Server, p string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(s.URL() + "/" + p)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

// rel returns the GOPROXY path of a module version's file.
func rel(t testing.TB, path, version, ext string) string {
	t.Helper()
	ep, err := module.EscapePath(path)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := module.EscapeVersion(version)
	if err != nil {
		t.Fatal(err)
	}
	return ep + "/@v/" + ev + "." + ext
}

// mustGet fetches p and compares it with the corpus.
func (f *fixture) mustGet(t testing.TB, s *Server, p string) {
	t.Helper()
	code, body := get(t, s, p)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", p, code, body)
	}
	if want := f.file(t, p); !bytes.Equal(body, want) {
		t.Fatalf("GET %s: %d bytes differ from the corpus's %d", p, len(body), len(want))
	}
}

// syncBuffer is a log that tests read while the proxy writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func newLocalStore(dir string) *local.Store { return local.New(dir) }

// newServer starts h on loopback and returns its URL.
func newServer(t testing.TB, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
