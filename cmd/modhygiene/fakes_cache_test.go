package main

import (
	"net"
	"net/http/httptest"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/modhygiene/modhygiene/internal/cache/store/github/githubtest"
)

func init() { scriptSetups = append(scriptSetups, setupFakeActionsCache, setupHungServer) }

// setupFakeActionsCache starts a fake of the GitHub Actions cache service v2
// with its own blob endpoint, for the token "tok". MH_FAKE_ACTIONS_RESULTS_URL
// is its URL (a value for ACTIONS_RESULTS_URL).
func setupFakeActionsCache(env *testscript.Env) error {
	fake := &githubtest.Fake{Token: "tok"}
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
