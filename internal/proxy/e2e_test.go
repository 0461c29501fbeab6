package proxy

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/modhygiene/modhygiene/internal/cache/store"
	"github.com/modhygiene/modhygiene/internal/cache/store/s3"
	"github.com/modhygiene/modhygiene/internal/gocmd"
	"github.com/modhygiene/modhygiene/internal/mirror/mirrortest"
	"github.com/modhygiene/modhygiene/internal/proxy/proxytest"
)

// runner is one CI runner: a module that requires the corpus's modules,
// its own module cache, and the go command's environment.
type runner struct {
	dir, modcache string
	env           []string
}

// newRunner prepares a module in a fresh directory with an empty module
// cache. GOSUMDB names the fixture database with its key only: the go
// command reaches it through the proxy, as it reaches the default one.
func newRunner(t *testing.T, f *fixture, goproxy string) *runner {
	t.Helper()
	tmp := t.TempDir()
	r := &runner{dir: filepath.Join(tmp, "root"), modcache: filepath.Join(tmp, "modcache")}
	var public []proxytest.Module
	for _, m := range f.mods {
		if !strings.HasPrefix(m.Path, "corp.example") {
			public = append(public, m)
		}
	}
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.dir, "go.mod"), []byte(proxytest.RootGoMod("example.com/root", public)), 0o644); err != nil {
		t.Fatal(err)
	}
	r.env = gocmd.Merge(gocmd.Merge(os.Environ(), mirrortest.GoEnv(tmp)), []string{
		"GOMODCACHE=" + r.modcache, "GOPROXY=" + goproxy, "GOSUMDB=" + f.db.Key,
		"GONOSUMDB=", "GOPRIVATE=", "GONOPROXY=", "GOFLAGS=-mod=mod -modcacherw",
	})
	return r
}

// download runs `go mod download all` and fails the test if it fails.
func (r *runner) download(t *testing.T) {
	t.Helper()
	if out, err := r.goCmd("mod", "download", "all"); err != nil {
		t.Fatalf("go mod download all: %v\n%s", err, out)
	}
}

func (r *runner) goCmd(args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir, cmd.Env = r.dir, r.env
	return cmd.CombinedOutput()
}

func needGo(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
}

// TestGoCommandFleet is the whole story with the real go command: a first
// runner downloads a module graph through the proxy, with a mirror that
// starts hanging mid-run, an empty go.sum (so every module is looked up in
// the checksum database, through the proxy) and a shared store; a second
// runner with an empty module cache and every mirror down downloads the
// whole graph from the store; a third is served from the first's module
// cache.
func TestGoCommandFleet(t *testing.T) {
	needGo(t)
	t.Parallel()
	f := newFixture(t, 12)
	for name, newStore := range map[string]func(t *testing.T) store.Store{
		"file": func(t *testing.T) store.Store { return newLocalStore(t.TempDir()) },
		"s3":   newS3Store,
	} {
		t.Run(name, func(t *testing.T) {
			st := newStore(t)
			hang, hangURL := f.mirror(t, proxytest.Behavior{HangAfter: 10})
			ok, okURL := f.mirror(t, proxytest.Behavior{Latency: 20 * time.Millisecond})
			first := start(t, Options{Mirrors: []Mirror{
				{Name: "hang", URL: hangURL, Samples: []time.Duration{time.Millisecond}},
				{Name: "ok", URL: okURL, Samples: []time.Duration{20 * time.Millisecond}},
			}, Store: st, SumDB: f.gosumdb(t)})
			r1 := newRunner(t, f, first.URL())
			r1.download(t)
			sum, err := os.ReadFile(filepath.Join(r1.dir, "go.sum"))
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range f.mods {
				want, _ := proxytest.GoSum(f.corpus, m.Path, m.Version)
				inGraph := m.Path != "corp.example/secret" && m.Path+"@"+m.Version != "example.com/fx/m000@v1.0.0"
				if strings.Contains(string(sum), string(want)) != inGraph {
					t.Errorf("go.sum has %v, want %v:\n%s", !inGraph, inGraph, want)
				}
			}
			if !strings.Contains(strings.Join(ok.Paths(), " "), "/sumdb/"+dbName+"/lookup/") {
				t.Errorf("no checksum-database lookup went through the proxy: %v", ok.Paths())
			}
			if s := first.Stats(); hang.Total() > 10+s.Hedges || s.Mirrors[0].Stalls == 0 {
				t.Errorf("the hanging mirror got %d requests with %d hedges; stats %+v", hang.Total(), s.Hedges, s.Mirrors[0])
			}
			waitShares(first)
			if s := first.Stats(); s.Shared.Hits == 0 || s.Rejected+s.Unverified != 0 {
				t.Errorf("first runner: shared %d, rejected %d, unverified %d", s.Shared.Hits, s.Rejected, s.Unverified)
			}

			second := start(t, Options{Mirrors: []Mirror{{URL: downURL(t)}, {URL: downURL(t)}}, Store: st, SumDB: f.gosumdb(t)})
			r2 := newRunner(t, f, second.URL())
			copyFile(t, filepath.Join(r1.dir, "go.sum"), filepath.Join(r2.dir, "go.sum"))
			r2.download(t)
			if s := second.Stats(); s.Store.Hits == 0 || s.Fetched.Hits != 0 {
				t.Errorf("second runner: %d store hits, %d fetched", s.Store.Hits, s.Fetched.Hits)
			}

			third := start(t, Options{ModCache: r1.modcache})
			r3 := newRunner(t, f, third.URL())
			copyFile(t, filepath.Join(r1.dir, "go.sum"), filepath.Join(r3.dir, "go.sum"))
			r3.download(t)
			if s := third.Stats(); s.Local.Hits == 0 || s.NotFound != 0 {
				t.Errorf("third runner: %d local hits, %d not found", s.Local.Hits, s.NotFound)
			}
		})
	}
}

// TestGoCommandPrivateGoesDirect: the go command never asks the proxy for
// a GOPRIVATE module, and the proxy never asks a mirror for one even when
// the go command's environment does not say it is private.
func TestGoCommandPrivateGoesDirect(t *testing.T) {
	needGo(t)
	t.Parallel()
	f := newFixture(t, 1)
	m, u := f.mirror(t, proxytest.Behavior{})
	s := start(t, Options{Mirrors: []Mirror{{URL: u}}, SumDB: f.gosumdb(t), NoProxy: "corp.example"})
	r := newRunner(t, f, s.URL()+",off")
	out, err := r.goCmd("mod", "download", "corp.example/secret@v1.0.0")
	if err == nil {
		t.Fatalf("downloading a private module through the proxy succeeded:\n%s", out)
	}
	for _, p := range m.Paths() {
		if strings.Contains(p, "corp.example") {
			t.Errorf("the mirror was asked for %s", p)
		}
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// newS3Store starts gofakes3 on loopback with a bucket and returns a store
// in it.
func newS3Store(t *testing.T) store.Store {
	backend := s3mem.New()
	if err := backend.CreateBucket("fleet"); err != nil {
		t.Fatal(err)
	}
	u := newServer(t, gofakes3.New(backend).Server())
	env := map[string]string{"AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_REGION": "us-east-1"}
	st, err := s3.New("s3://fleet/goproxy?endpoint="+u+"&style=path", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return st
}
