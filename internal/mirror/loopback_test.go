package mirror

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modhygiene/modhygiene/internal/ci"
	"github.com/modhygiene/modhygiene/internal/gocmd"
	"github.com/modhygiene/modhygiene/internal/mirror/mirrortest"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

// writeFixtures writes n generated modules (see mirrortest.WriteModules).
func writeFixtures(t testing.TB, proxyDir, rootDir string, n int) {
	t.Helper()
	if err := mirrortest.WriteModules(proxyDir, rootDir, n); err != nil {
		t.Fatal(err)
	}
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

// newFileProxy serves dir with added latency on loopback.
func newFileProxy(t testing.TB, dir string, latency time.Duration) (*mirrortest.Proxy, string) {
	p := mirrortest.NewProxy(dir, latency)
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return p, srv.URL
}

// goEnv is a hermetic environment for the go command with vars on top.
func goEnv(t testing.TB, vars ...string) []string {
	t.Helper()
	base := gocmd.Merge(os.Environ(), mirrortest.GoEnv(t.TempDir()))
	return gocmd.Merge(base, vars)
}

// TestDownloadThroughChosenChain is the end-to-end case: the chosen chain
// is exported to a GITHUB_ENV file, read back as the runner would, and the
// real go command downloads a module graph through it while the first
// mirror breaks mid-way. With "|" it falls back to the second mirror; with
// the "," join it would stop.
func TestDownloadThroughChosenChain(t *testing.T) {
	t.Parallel()
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
	first.FailAfter(5)
	run := &gocmd.Runner{Env: goEnv(t, exported...)}
	if res, err := run.Run(ctx, root, "mod", "download"); err != nil {
		t.Fatalf("go mod download through %s: %v\n%s", d.GOPROXY, err, res.Stderr)
	}
	if first.Failed() == 0 || second.Served() == 0 {
		t.Errorf("first mirror failed %d times, second served %d files: the fallback was not exercised", first.Failed(), second.Served())
	}
	for i := 0; i < n; i++ {
		zip := filepath.Join(gocmd.Lookup(run.Env, "GOMODCACHE"), "cache", "download", filepath.FromSlash(mirrortest.ModulePath(i)), "@v", "v1.0.0.zip")
		if _, err := os.Stat(zip); err != nil {
			t.Errorf("module %d not downloaded: %v", i, err)
		}
	}

	// The same break with the "," join stops the download: "," falls back
	// only on 404 and 410.
	first.FailAfter(5)
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
