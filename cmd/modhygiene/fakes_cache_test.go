package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/modhygiene/modhygiene/internal/cache/store/github/githubtest"
)

func init() { scriptSetups = append(scriptSetups, setupFakeActionsCache, setupHungServer) }

// setupFakeActionsCache starts a fake of the GitHub Actions cache service v2
// with its own blob endpoint, for the token "tok". MH_FAKE_ACTIONS_RESULTS_URL
// is its URL (a value for ACTIONS_RESULTS_URL). While $WORK/.hang-blob-get
// or $WORK/.hang-blob-put exists, blob downloads or uploads are held
// without an answer: a storage account that stalls behind a working
// service.
func setupFakeActionsCache(env *testscript.Env) error {
	fake := &githubtest.Fake{Token: "tok", Hang: func(r *http.Request) bool {
		if !strings.HasPrefix(r.URL.Path, "/blob/") {
			return false
		}
		marker := map[bool]string{true: ".hang-blob-get", false: ".hang-blob-put"}[r.Method == http.MethodGet || r.Method == http.MethodHead]
		_, err := os.Stat(filepath.Join(env.WorkDir, marker))
		return err == nil
	}}
	srv := httptest.NewServer(fake)
	fake.BaseURL = srv.URL
	env.Defer(srv.Close)
	env.Setenv("MH_FAKE_ACTIONS_RESULTS_URL", srv.URL+"/")
	return nil
}

// setupHungServer starts a server on loopback that accepts every
// connection and never answers: MH_HUNG_URL is its http URL.
func setupHungServer(env *testscript.Env) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	env.Defer(func() { ln.Close() })
	env.Setenv("MH_HUNG_URL", "http://"+ln.Addr().String()+"/")
	return nil
}
