package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/modhygiene/modhygiene/internal/ci"
	"github.com/modhygiene/modhygiene/internal/mirror/mirrortest"
	"github.com/modhygiene/modhygiene/internal/report/gitlab/gitlabtest"
)

// scriptSetups run after the harness's own Setup for every script; each
// may start a fake and hand it to scripts through env.
var scriptSetups = []func(env *testscript.Env) error{
	setupFakeGitLab,
	setupFakeMirrors,
	setupFakeHang,
}

// setupFakeHang starts a server that accepts every request and never
// answers (until the client goes away): a proxy or store that stalls.
// MH_FAKE_HANG_URL is its URL, MH_FAKE_HANG_HOST its host:port.
func setupFakeHang(env *testscript.Env) error {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	env.Defer(srv.Close)
	env.Setenv("MH_FAKE_HANG_URL", srv.URL)
	env.Setenv("MH_FAKE_HANG_HOST", srv.Listener.Addr().String())
	return nil
}

// setupFakeMirrors starts the mirrors the mirrors_* fault scripts use in
// front of the script's module proxy (see mirrortest.StartScriptFakes).
func setupFakeMirrors(env *testscript.Env) error {
	f, err := mirrortest.StartScriptFakes(env.Getenv("MH_TEST_PROXY"), env.WorkDir)
	if err != nil {
		return err
	}
	env.Defer(f.Close)
	for k, v := range f.Env() {
		env.Setenv(k, v)
	}
	return nil
}

// setupFakeGitLab starts a fake of the GitLab merge-request notes API for
// the script, with the token glpat-script. MH_FAKE_GITLAB_API is its API
// root (a value for CI_API_V4_URL); every request is appended to
// $WORK/.gitlab-requests as "METHOD /path?query".
func setupFakeGitLab(env *testscript.Env) error {
	fake := gitlabtest.New()
	fake.Token = "glpat-script"
	logPath := filepath.Join(env.WorkDir, ".gitlab-requests")
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		line := r.Method + " " + r.URL.EscapedPath()
		if r.URL.RawQuery != "" {
			line += "?" + r.URL.RawQuery
		}
		mu.Lock()
		if f, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644); err == nil {
			fmt.Fprintln(f, line)
			f.Close()
		}
		mu.Unlock()
		fake.ServeHTTP(w, r)
	}))
	env.Defer(srv.Close)
	env.Setenv("MH_FAKE_GITLAB_API", srv.URL+"/api/v4")
	return nil
}

// envfile FILE NAME VALUE parses FILE as the GitHub runner parses its
// environment files and asserts that NAME's last value is VALUE (with Go
// escapes such as \n); with !, that NAME is not set at all.
func cmdEnvFile(ts *testscript.TestScript, neg bool, args []string) {
	if (!neg && len(args) != 3) || (neg && len(args) != 2) {
		ts.Fatalf("usage: envfile FILE NAME VALUE | ! envfile FILE NAME")
	}
	kvs, err := ci.ParseEnvFile(ts.ReadFile(args[0]))
	if err != nil {
		ts.Fatalf("%s: %v", args[0], err)
	}
	want := ""
	if !neg {
		w, err := strconv.Unquote(`"` + args[2] + `"`)
		if err != nil {
			ts.Fatalf("envfile: VALUE %q: %v", args[2], err)
		}
		want = w
	}
	got, set := "", false
	for _, kv := range kvs {
		if kv[0] == args[1] {
			got, set = kv[1], true
		}
	}
	switch {
	case neg && set:
		ts.Fatalf("%s sets %s=%q", args[0], args[1], got)
	case !neg && !set:
		ts.Fatalf("%s does not set %s", args[0], args[1])
	case !neg && got != want:
		ts.Fatalf("%s: %s=%q, want %q", args[0], args[1], got, want)
	}
}
