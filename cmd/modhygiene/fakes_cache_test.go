package main

import (
	"net/http/httptest"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/modhygiene/modhygiene/internal/cache/store/github/githubtest"
)

func init() { scriptSetups = append(scriptSetups, setupFakeActionsCache) }

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
