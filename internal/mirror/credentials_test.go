package mirror

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modhygiene/modhygiene/internal/ci"
	"github.com/modhygiene/modhygiene/internal/mirror/mirrortest"
)

// secrets are every form the fake mirror's credentials can be printed in.
var secrets = []string{"s3cret"}

// TestCredentials: a company proxy's credentials, in every form, reach the
// proxy over https and the exported environment, and nothing printed or
// stored; over plain http they are never sent.
func TestCredentials(t *testing.T) {
	t.Parallel()
	tlsSrv := httptest.NewTLSServer(mirrortest.RequireAuth(&fake{latency: time.Millisecond}))
	t.Cleanup(tlsSrv.Close)
	var leaked atomic.Int64
	plain := serveHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			leaked.Add(1)
		}
		mirrortest.RequireAuth(&fake{}).ServeHTTP(w, r)
	}))
	host := strings.TrimPrefix(tlsSrv.URL, "https://")
	userpass := "https://" + mirrortest.AuthUser + ":" + mirrortest.AuthPassword + "@" + host
	token := "https://" + mirrortest.AuthToken + "@" + host + "/"
	encoded := "https://" + mirrortest.AuthEncodedUserinfo + "@" + host
	overHTTP := strings.Replace(plain, "http://", "http://"+mirrortest.AuthUser+":"+mirrortest.AuthPassword+"@", 1)
	broken := strings.Replace(serve(t, &fake{mode: "500"}), "http://", "http://"+mirrortest.AuthToken+"@", 1)
	gone := strings.Replace(refused(t), "http://", "https://"+mirrortest.AuthEncodedUserinfo+"@", 1)

	p := newProber(5 * time.Second)
	p.Slow = 4 * time.Second // TLS handshakes on a loaded machine are not the point here
	p.Client = tlsSrv.Client()
	cands := []Candidate{{URL: userpass}, {URL: token}, {URL: encoded}, {URL: overHTTP}, {URL: broken}, {URL: gone}}
	res := p.Probe(context.Background(), cands)
	for i, want := range []Status{Healthy, Healthy, Healthy, Failing, Failing, Unreachable} {
		if res[i].Status != want {
			t.Errorf("%s: %s (%s), want %s", ci.RedactURL(cands[i].URL), res[i].Status, res[i].Error, want)
		}
	}
	if n := leaked.Load(); n > 0 {
		t.Errorf("%d requests sent credentials over plain http", n)
	}
	if !strings.Contains(res[3].Notice, "credentials not sent over plain http") {
		t.Errorf("no notice for the plain-http candidate: %+v", res[3])
	}

	d := Choose(res, ChooseOptions{GOSUMDB: testDB, Current: userpass + "|direct"})
	var printed bytes.Buffer
	WriteTable(&printed, &d)
	WriteJSON(&printed, &d, time.Second, time.Second)
	for k, v := range d.StepOutputs() {
		printed.WriteString(k + "=" + v + "\n")
	}
	printed.WriteString(d.RedactedGOPROXY() + "\n" + strings.Join(d.Redacted().Notes, "\n"))
	for _, s := range secrets {
		if strings.Contains(printed.String(), s) {
			t.Errorf("%q is printed:\n%s", s, printed.String())
		}
	}
	// The environment of later steps still gets the real values.
	var env bytes.Buffer
	if err := WriteGitHubEnv(&env, d.Vars(), nil); err != nil {
		t.Fatal(err)
	}
	kvs, _ := ci.ParseEnvFile(env.String())
	if len(kvs) == 0 || kvs[0][0] != "GOPROXY" {
		t.Fatalf("GITHUB_ENV: %q", env.String())
	}
	for _, u := range []string{userpass, token, encoded} {
		if !strings.Contains(kvs[0][1], u) {
			t.Errorf("GOPROXY %q lost %s, which the go command needs", ci.RedactURL(kvs[0][1]), ci.RedactURL(u))
		}
	}
	// Every masked form covers what the table could have shown.
	var masked []string
	for _, c := range cands {
		masked = append(masked, ci.URLSecrets(c.URL)...)
	}
	for _, s := range []string{mirrortest.AuthUser, mirrortest.AuthPassword, mirrortest.AuthToken, mirrortest.AuthEncodedPassword, "p%40ss%3Aw%2Frd%20s3cret-3"} {
		if !containsString(masked, s) {
			t.Errorf("%q is not masked on GitHub (masked: %q)", s, masked)
		}
	}
}

// TestPlainHTTPRefused: even a URL that slips past the candidate's
// stripping is never requested with credentials over plain http.
func TestPlainHTTPRefused(t *testing.T) {
	var leaked atomic.Int64
	u := serveHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			leaked.Add(1)
		}
	}))
	db := newTestDB(t, testGoSum)
	p := &Prober{Timeout: time.Second, SumDBKey: db.VerifierKey}
	withCreds := strings.Replace(u, "http://", "http://"+mirrortest.AuthUser+":"+mirrortest.AuthPassword+"@", 1)
	_, _, _, rerr := p.get(context.Background(), withCreds+"/x")
	if rerr == nil || !strings.Contains(rerr.Error(), "refusing to send credentials over http") || strings.Contains(rerr.Error(), mirrortest.AuthPassword) {
		t.Errorf("got %v", rerr)
	}
	if leaked.Load() != 0 {
		t.Error("credentials sent over plain http")
	}
	ep := p.ProbeEndpoints(context.Background(), []string{withCreds})
	if leaked.Load() != 0 || !strings.Contains(ep[0].Error, "credentials not sent over plain http") || !strings.Contains(ep[0].Error, "did not verify") {
		t.Errorf("endpoint: %+v, leaked %d", ep[0], leaked.Load())
	}
}
