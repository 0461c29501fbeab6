package cli

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modhygiene/modhygiene/internal/gocmd"
	"github.com/modhygiene/modhygiene/internal/mirror/mirrortest"
)

// TestMirrorsExportDrivesGoModDownload runs the command end to end: it
// probes a hanging, a slow and a fast loopback mirror, writes a GitLab
// dotenv file, and the real go command then downloads a module graph with
// exactly those variables while the fast mirror breaks mid-way.
func TestMirrorsExportDrivesGoModDownload(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	const n = 10
	proxyDir, root := t.TempDir(), t.TempDir()
	if err := mirrortest.WriteModules(proxyDir, root, n); err != nil {
		t.Fatal(err)
	}
	fast := mirrortest.NewProxy(proxyDir, 0)
	slow := mirrortest.NewProxy(proxyDir, 150*time.Millisecond)
	fastSrv, slowSrv := httptest.NewServer(fast), httptest.NewServer(slow)
	defer fastSrv.Close()
	defer slowSrv.Close()
	hangSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hangSrv.Close()

	env := gocmd.Merge(os.Environ(), mirrortest.GoEnv(t.TempDir()))
	env = gocmd.Merge(env, []string{"GITHUB_ACTIONS=", "GITLAB_CI=", "NO_COLOR=1", "GOSUMDB=off"})
	dotenv := filepath.Join(t.TempDir(), "mirrors.env")
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), Invocation{Args: []string{"mirrors", "--dir", root,
		"--candidates", hangSrv.URL + "," + slowSrv.URL + "," + fastSrv.URL, "--timeout", "1s",
		"--export", "gitlab", "--dotenv", dotenv, "--direct=false", "--ci-report", "off", "--fail-on", "never"},
		Stdout: &stdout, Stderr: &stderr, Env: env, Dir: t.TempDir()})
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), hangSrv.URL+"  unreachable") {
		t.Errorf("the hanging mirror is not listed as unreachable:\n%s", stdout.String())
	}
	data, err := os.ReadFile(dotenv)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	var exported []string
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("dotenv line %q", line)
		}
		got[name] = value
		exported = append(exported, line)
	}
	if want := fastSrv.URL + "|" + slowSrv.URL; got["GOPROXY"] != want {
		t.Fatalf("GOPROXY = %q, want %q\n%s", got["GOPROXY"], want, stdout.String())
	}
	// GOSUMDB came in off and goes out on; nothing weakening is exported.
	if v, ok := got["GOSUMDB"]; !ok || v == "" || strings.EqualFold(v, "off") {
		t.Errorf("GOSUMDB exported as %q (present %v)", v, ok)
	}
	for _, name := range []string{"GONOSUMCHECK", "GOINSECURE", "GOFLAGS"} {
		if _, ok := got[name]; ok {
			t.Errorf("exported %s", name)
		}
	}
	if !strings.Contains(stdout.String(), "MH009") {
		t.Errorf("GOSUMDB=off on the way in was not reported:\n%s", stdout.String())
	}

	fast.FailAfter(4)
	run := &gocmd.Runner{Env: gocmd.Merge(env, exported)}
	if res, err := run.Run(context.Background(), root, "mod", "download"); err != nil {
		t.Fatalf("go mod download with %v: %v\n%s", exported, err, res.Stderr)
	}
	if fast.Failed() == 0 || slow.Served() == 0 {
		t.Errorf("fast mirror failed %d times, slow served %d: the fallback was not exercised", fast.Failed(), slow.Served())
	}
}
