// Package mirrortest builds loopback module proxies for tests and
// benchmarks: a generated module graph in the GOPROXY file layout, served
// with added latency and, on demand, failing mid-way.
package mirrortest

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"

	"github.com/modhygiene/modhygiene/internal/testenv"
)

// Prefix is the path prefix of the generated modules. Tests set GONOSUMDB
// to exactly it, so the checksum database is never asked about them.
const Prefix = "example.com/mhfixture"

// ModulePath returns the path of generated module i.
func ModulePath(i int) string { return fmt.Sprintf("%s/m%03d", Prefix, i) }

// WriteModules writes n modules ModulePath(i) v1.0.0 in the GOPROXY layout
// below proxyDir (module i requires module i+1) and, in rootDir, a go.mod
// of a module that requires all of them. The same n gives the same files.
func WriteModules(proxyDir, rootDir string, n int) error {
	src, err := os.MkdirTemp("", "mirrortest")
	if err != nil {
		return err
	}
	defer os.RemoveAll(src)
	var root strings.Builder
	root.WriteString("module example.com/mhroot\n\ngo 1.21\n\nrequire (\n")
	for i := 0; i < n; i++ {
		m := module.Version{Path: ModulePath(i), Version: "v1.0.0"}
		gomod := fmt.Sprintf("module %s\n\ngo 1.21\n", m.Path)
		if i+1 < n {
			gomod += fmt.Sprintf("\nrequire %s v1.0.0\n", ModulePath(i+1))
		}
		fmt.Fprintf(&root, "\t%s %s\n", m.Path, m.Version)
		dir := filepath.Join(src, fmt.Sprintf("m%03d", i))
		if err := write(filepath.Join(dir, "go.mod"), gomod); err != nil {
			return err
		}
		code := fmt.Sprintf("package m%03d\n\n// N is this module's number.\nconst N = %d\n", i, i)
		if err := write(filepath.Join(dir, "m.go"), code); err != nil {
			return err
		}
		var zb bytes.Buffer
		if err := modzip.CreateFromDir(&zb, m, dir); err != nil {
			return err
		}
		v := filepath.Join(proxyDir, filepath.FromSlash(m.Path), "@v")
		for name, data := range map[string]string{
			"list":        "v1.0.0\n",
			"v1.0.0.info": `{"Version":"v1.0.0","Time":"2024-01-02T03:04:05Z"}`,
			"v1.0.0.mod":  gomod,
			"v1.0.0.zip":  zb.String(),
		} {
			if err := write(filepath.Join(v, name), data); err != nil {
				return err
			}
		}
	}
	root.WriteString(")\n")
	return write(filepath.Join(rootDir, "go.mod"), root.String())
}

func write(path, data string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(data), 0o644)
}

// Proxy serves a GOPROXY directory with added latency. Once FailAfter is
// called it answers 500 to every request after the next n. It is safe for
// concurrent use.
type Proxy struct {
	files   http.Handler
	latency time.Duration
	armed   atomic.Bool
	budget  atomic.Int64
	served  atomic.Int64
	failed  atomic.Int64
}

// NewProxy returns a proxy for dir that waits latency before each answer.
func NewProxy(dir string, latency time.Duration) *Proxy {
	return &Proxy{files: http.FileServer(http.Dir(dir)), latency: latency}
}

// FailAfter makes the proxy fail with 500 after the next n requests.
func (p *Proxy) FailAfter(n int64) {
	p.budget.Store(n)
	p.armed.Store(true)
}

// Served is the number of requests answered from the directory.
func (p *Proxy) Served() int64 { return p.served.Load() }

// Failed is the number of requests answered with 500.
func (p *Proxy) Failed() int64 { return p.failed.Load() }

// ServeHTTP answers one proxy request.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	select {
	case <-time.After(p.latency):
	case <-r.Context().Done():
		return
	}
	if p.armed.Load() && p.budget.Add(-1) < 0 {
		p.failed.Add(1)
		http.Error(w, "mirror broke mid-way", http.StatusInternalServerError)
		return
	}
	if strings.HasSuffix(r.URL.Path, "/") {
		http.NotFound(w, r) // a proxy answers files only, no listings
		return
	}
	p.served.Add(1)
	p.files.ServeHTTP(w, r)
}

// GoEnv returns KEY=value overrides that make the go command hermetic for
// the generated modules: a module cache and GOPATH below tmp, no go env
// file, no workspace, the local toolchain, GONOSUMDB for Prefix only, and
// no private or insecure patterns, and a home directory below tmp with the
// go command's telemetry off (see testenv.HomeVars).
func GoEnv(tmp string) []string {
	home, err := testenv.HomeVars(tmp)
	if err != nil {
		panic(err) // tmp is a fresh test directory
	}
	return append([]string{
		"GOENV=off", "GOWORK=off", "GOTOOLCHAIN=local", "GOFLAGS=-mod=mod -modcacherw",
		"GOPATH=" + filepath.Join(tmp, "gopath"), "GOMODCACHE=" + filepath.Join(tmp, "modcache"),
		"GOPRIVATE=", "GONOPROXY=", "GOINSECURE=", "GONOSUMDB=" + Prefix,
		"GOPROXY=off",
	}, home...)
}
