package githubtest_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/modhygiene/modhygiene/internal/cache/store/github/githubtest"
)

// driver saves a directory with the real @actions/cache client, removes
// it and restores it by a restore key. Names under .blob.core.windows.net
// resolve to loopback, where the fake serves its blobs, so that the client
// takes its Azure SDK paths (HEAD, then ranged GETs).
const driver = `
import dns from 'node:dns';
import fs from 'node:fs';
const lookup = dns.lookup;
dns.lookup = function (host, opts, cb) {
  if (typeof opts === 'function') { cb = opts; opts = {}; }
  if (host.endsWith('.blob.core.windows.net')) {
    if (opts && opts.all) return process.nextTick(cb, null, [{ address: '127.0.0.1', family: 4 }]);
    return process.nextTick(cb, null, '127.0.0.1', 4);
  }
  return lookup.call(this, host, opts, cb);
};
const cache = await import(process.env.MH_ACTIONS_CACHE_JS);
const body = 'modhygiene '.repeat(300000);
fs.mkdirSync('data', { recursive: true });
fs.writeFileSync('data/a.txt', body);
const id = await cache.saveCache(['data'], 'mh-real-1');
fs.rmSync('data', { recursive: true });
const hit = await cache.restoreCache(['data'], 'mh-real-2', ['mh-real-']);
const ok = fs.existsSync('data/a.txt') && fs.readFileSync('data/a.txt', 'utf8') === body;
console.log(JSON.stringify({ id, hit, ok }));
`

// TestRealClient drives the real @actions/cache client (installed by
// scripts/ci/actions-cache.sh, which sets MH_ACTIONS_CACHE_JS) against the
// fake: save, then restore through the Azure SDK download path.
func TestRealClient(t *testing.T) {
	js := os.Getenv("MH_ACTIONS_CACHE_JS")
	if js == "" {
		t.Skip("MH_ACTIONS_CACHE_JS is not set: eval \"$(bash scripts/ci/actions-cache.sh)\"")
	}
	f := &githubtest.Fake{Token: "tok"}
	var mu sync.Mutex
	var blobCalls []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/blob/") {
			call := r.Method
			if rng := r.Header.Get("x-ms-range") + r.Header.Get("Range"); rng != "" {
				call += " range"
			}
			mu.Lock()
			blobCalls = append(blobCalls, call)
			mu.Unlock()
		}
		f.ServeHTTP(w, r)
	}))
	defer srv.Close()
	f.BaseURL = fmt.Sprintf("http://mhcache.blob.core.windows.net:%d", srv.Listener.Addr().(*net.TCPAddr).Port)
	work := t.TempDir()
	must(t, os.WriteFile(filepath.Join(work, "driver.mjs"), []byte(driver), 0o644))
	must(t, os.MkdirAll(filepath.Join(work, "temp"), 0o755))
	cmd := exec.Command("node", "driver.mjs")
	cmd.Dir = work
	cmd.Env = append(os.Environ(),
		"MH_ACTIONS_CACHE_JS=file://"+filepath.ToSlash(js),
		"ACTIONS_RESULTS_URL="+srv.URL+"/",
		"ACTIONS_RUNTIME_TOKEN=tok",
		"ACTIONS_CACHE_SERVICE_V2=true",
		"GITHUB_WORKSPACE="+work,
		"RUNNER_TEMP="+filepath.Join(work, "temp"),
		"GITHUB_SERVER_URL=https://github.com",
		"ACTIONS_CACHE_MODE=",
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var res struct {
		ID  int    `json:"id"`
		Hit string `json:"hit"`
		OK  bool   `json:"ok"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		t.Fatalf("driver output: %v\n%s", err, out)
	}
	t.Logf("blob calls: %v\n%s", blobCalls, out)
	if res.ID <= 0 || res.Hit != "mh-real-1" || !res.OK {
		t.Errorf("save id %d, restore hit %q, content ok %v; want a saved entry restored by its restore key\n%s", res.ID, res.Hit, res.OK, out)
	}
	if !slices.Contains(blobCalls, "HEAD") || !slices.Contains(blobCalls, "GET range") {
		t.Errorf("blob calls %v: the client did not take its Azure SDK download path (HEAD, ranged GET)", blobCalls)
	}
	if got := f.Keys(); !slices.Equal(got, []string{"mh-real-1"}) {
		t.Errorf("entries %v", got)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
