package mirror

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"

	"github.com/modhygiene/modhygiene/internal/ci"
	"github.com/modhygiene/modhygiene/internal/gocmd"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

// fixturePrefix is the path prefix of the generated modules; GONOSUMDB
// names exactly it, so the checksum database is never asked about them.
const fixturePrefix = "example.com/mhfixture"

// writeFixtures writes n modules fixturePrefix/mNNN v1.0.0 in the GOPROXY
// layout below proxyDir (module i requires module i+1) and a root module
// in rootDir that requires all of them. The graph is the same on every
// call with the same n.
func writeFixtures(t testing.TB, proxyDir, rootDir string, n int) {
	t.Helper()
	src := t.TempDir()
	var root strings.Builder
	fmt.Fprintf(&root, "module example.com/mhroot\n\ngo 1.21\n\nrequire (\n")
	for i := 0; i < n; i++ {
		m := module.Version{Path: fmt.Sprintf("%s/m%03d", fixturePrefix, i), Version: "v1.0.0"}
		gomod := fmt.Sprintf("module %s\n\ngo 1.21\n", m.Path)
		if i+1 < n {
			gomod += fmt.Sprintf("\nrequire %s/m%03d v1.0.0\n", fixturePrefix, i+1)
		}
		fmt.Fprintf(&root, "\t%s %s\n", m.Path, m.Version)
		dir := filepath.Join(src, fmt.Sprintf("m%03d", i))
		mustWrite(t, filepath.Join(dir, "go.mod"), gomod)
		mustWrite(t, filepath.Join(dir, "m.go"), fmt.Sprintf("package m%03d\n\n// N is this module's number.\nconst N = %d\n", i, i))
		v := filepath.Join(proxyDir, filepath.FromSlash(m.Path), "@v")
		mustWrite(t, filepath.Join(v, "list"), "v1.0.0\n")
		mustWrite(t, filepath.Join(v, "v1.0.0.info"), `{"Version":"v1.0.0","Time":"2024-01-02T03:04:05Z"}`)
		mustWrite(t, filepath.Join(v, "v1.0.0.mod"), gomod)
		var zb bytes.Buffer
		if err := modzip.CreateFromDir(&zb, m, dir); err != nil {
			t.Fatal(err)
		}
		mustWrite(t, filepath.Join(v, "v1.0.0.zip"), zb.String())
	}
	root.WriteString(")\n")
	mustWrite(t, filepath.Join(rootDir, "go.mod"), root.String())
}

func mustWrite(t testing.TB, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// fileProxy serves a GOPROXY directory with added latency; once armed, it
// fails with 500 after failAfter more requests.
type fileProxy struct {
	files    http.Handler
	latency  time.Duration
	served   atomic.Int64
	failed   atomic.Int64
	armed    atomic.Bool
	budget   atomic.Int64
	requests atomic.Int64
}

func newFileProxy(t testing.TB, dir string, latency time.Duration) (*fileProxy, string) {
	fp := &fileProxy{files: http.FileServer(http.Dir(dir)), latency: latency}
	srv := httptest.NewServer(fp)
	t.Cleanup(srv.Close)
	return fp, srv.URL
}

// failAfter makes the proxy answer 500 to every request after the next n.
func (f *fileProxy) failAfter(n int64) {
	f.budget.Store(n)
	f.armed.Store(true)
}

func (f *fileProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.requests.Add(1)
	select {
	case <-time.After(f.latency):
	case <-r.Context().Done():
		return
	}
	if f.armed.Load() && f.budget.Add(-1) < 0 {
		f.failed.Add(1)
		http.Error(w, "mirror broke mid-way", http.StatusInternalServerError)
		return
	}
	if r.URL.Path == "/" || strings.HasSuffix(r.URL.Path, "/") {
		http.NotFound(w, r) // no directory listings: a proxy answers files only
		return
	}
	f.served.Add(1)
	f.files.ServeHTTP(w, r)
}

// goEnv is a hermetic environment for the go command: a fresh module cache,
// no go env file, GONOSUMDB for the fixtures only, and the given proxy
// settings on top.
func goEnv(t testing.TB, vars ...string) []string {
	t.Helper()
	tmp := t.TempDir()
	base := gocmd.Merge(os.Environ(), []string{
		"GOENV=off", "GOWORK=off", "GOTOOLCHAIN=local", "GOFLAGS=-mod=mod -modcacherw",
		"GOPATH=" + filepath.Join(tmp, "gopath"), "GOMODCACHE=" + filepath.Join(tmp, "modcache"),
		"GOPRIVATE=", "GONOPROXY=", "GOINSECURE=", "GONOSUMDB=" + fixturePrefix,
		"GOPROXY=off", "HOME=" + tmp,
	})
	return gocmd.Merge(base, vars)
}

// TestDownloadThroughChosenChain is the end-to-end case: the chosen chain
// is exported to a GITHUB_ENV file, read back as the runner would, and the
// real go command downloads a module graph through it while the first
// mirror breaks mid-way. With "|" it falls back to the second mirror; with
// the "," join it would stop.
func TestDownloadThroughChosenChain(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	const n = 12
	proxyDir, root := t.TempDir(), t.TempDir()
	writeFixtures(t, proxyDir, root, n)
	first, firstURL := newFileProxy(t, proxyDir, 0)
	second, secondURL := newFileProxy(t, proxyDir, 150*time.Millisecond)
	_, brokenURL := newFileProxy(t, t.TempDir(), 0) // empty: 404 for every module

	ws, err := workspace.Discover(root)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p := &Prober{Timeout: 5 * time.Second, Modules: ProbeModules(ws, "", 3), SumDB: testDB}
	results := p.Probe(ctx, []Candidate{{Name: "second", URL: secondURL}, {Name: "broken", URL: brokenURL}, {Name: "first", URL: firstURL}})
	d := Choose(results, ChooseOptions{NoDirect: true, GOSUMDB: testDB})
	if want := firstURL + "|" + secondURL; d.GOPROXY != want {
		var tb bytes.Buffer
		WriteTable(&tb, &d)
		t.Fatalf("GOPROXY = %q, want %q\n%s", d.GOPROXY, want, tb.String())
	}

	var envFile bytes.Buffer
	if err := WriteGitHubEnv(&envFile, d.Vars(), nil); err != nil {
		t.Fatal(err)
	}
	entries, err := ci.ParseEnvFile(envFile.String())
	if err != nil {
		t.Fatal(err)
	}
	var exported []string
	for _, e := range entries {
		assertSafe(t, e[0], e[1])
		exported = append(exported, e[0]+"="+e[1])
	}

	// The first mirror breaks after a few files.
	first.failAfter(5)
	run := &gocmd.Runner{Env: goEnv(t, exported...)}
	if res, err := run.Run(ctx, root, "mod", "download"); err != nil {
		t.Fatalf("go mod download through %s: %v\n%s", d.GOPROXY, err, res.Stderr)
	}
	if first.failed.Load() == 0 || second.served.Load() == 0 {
		t.Errorf("first mirror failed %d times, second served %d files: the fallback was not exercised", first.failed.Load(), second.served.Load())
	}
	for i := 0; i < n; i++ {
		zip := filepath.Join(gocmd.Lookup(run.Env, "GOMODCACHE"), "cache", "download", fixturePrefix, fmt.Sprintf("m%03d", i), "@v", "v1.0.0.zip")
		if _, err := os.Stat(zip); err != nil {
			t.Errorf("module %d not downloaded: %v", i, err)
		}
	}

	// The same break with the "," join stops the download: "," falls back
	// only on 404 and 410.
	first.failAfter(5)
	comma := &gocmd.Runner{Env: goEnv(t, "GOPROXY="+firstURL+","+secondURL)}
	if _, err := comma.Run(ctx, root, "mod", "download"); err == nil {
		t.Error(`go mod download with the "," join succeeded although the first mirror broke`)
	}
}

// assertSafe fails the test when an exported variable would weaken
// checksum verification.
func assertSafe(t testing.TB, name, value string) {
	t.Helper()
	switch {
	case name == "GOSUMDB" && strings.EqualFold(strings.TrimSpace(value), "off"),
		name == "GONOSUMCHECK", name == "GOINSECURE",
		name == "GOFLAGS" && strings.Contains(value, "insecure"):
		t.Errorf("exported %s=%s", name, value)
	}
}
