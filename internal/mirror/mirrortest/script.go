package mirrortest

import (
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// Credentials a fake authenticated mirror accepts, one per form a GOPROXY
// URL can carry them in. Every form of each holds "s3cret", so that a
// script can grep every output for that one word.
const (
	// AuthUser and AuthPassword are user:password@.
	AuthUser     = "mhuser-s3cret"
	AuthPassword = "Pw-s3cret-1"
	// AuthToken is a token given as the user name, token@.
	AuthToken = "mhtok-s3cret-2"
	// AuthEncodedUser and AuthEncodedPassword are given percent-encoded
	// (AuthEncodedUserinfo) because they hold characters a URL reserves.
	AuthEncodedUser     = "mh s3cret@corp"
	AuthEncodedPassword = "p@ss:w/rd s3cret-3"
	AuthEncodedUserinfo = "mh%20s3cret%40corp:p%40ss%3Aw%2Frd%20s3cret-3"
)

// ScriptFakes are the mirrors the fault scripts of `modhygiene mirrors`
// need, started around one upstream module proxy (the scripts' own).
type ScriptFakes struct {
	servers []*httptest.Server
	env     map[string]string
}

// StartScriptFakes starts, in front of the module proxy at upstream:
//   - a checksum database (MH_FAKE_SUMDB_KEY is its GOSUMDB value),
//   - MH_FAKE_SUMDB_MIRROR, a mirror that serves it honestly, HonestDelay
//     behind every answer so that the liar is always the faster one,
//   - MH_FAKE_SUMDB_LIAR, a mirror that says it serves it and serves
//     garbage,
//   - an https mirror that requires credentials, as URLs carrying them in
//     each form: MH_FAKE_AUTH_USERPASS (user:password@), MH_FAKE_AUTH_TOKEN_URL
//     (token@) and MH_FAKE_AUTH_ENCODED (percent-encoded); its certificate
//     is in the file MH_FAKE_TLS_CERT (for SSL_CERT_FILE),
//   - MH_FAKE_AUTH_HTTP, the same mirror over plain http with
//     user:password@, which answers 400 if credentials ever reach it.
//
// Files go to dir. Env returns the variables; Close stops everything.
func StartScriptFakes(upstream, dir string) (*ScriptFakes, error) {
	up, err := url.Parse(upstream)
	if err != nil || up.Host == "" {
		return nil, errors.Join(errors.New("mirrortest: bad upstream "+upstream), err)
	}
	modules := httputil.NewSingleHostReverseProxy(up)
	db, err := NewSumDB("sum.test.example", FakeGoSum)
	if err != nil {
		return nil, err
	}
	liar, err := Liar(db, LieGarbage, modules)
	if err != nil {
		return nil, err
	}
	f := &ScriptFakes{env: map[string]string{"MH_FAKE_SUMDB_KEY": db.VerifierKey}}
	start := func(h http.Handler) *httptest.Server {
		s := httptest.NewServer(h)
		f.servers = append(f.servers, s)
		return s
	}
	f.env["MH_FAKE_SUMDB_MIRROR"] = start(Delay(HonestDelay, db.Mirror(modules))).URL
	f.env["MH_FAKE_SUMDB_LIAR"] = start(liar).URL

	tlsSrv := httptest.NewTLSServer(RequireAuth(modules))
	f.servers = append(f.servers, tlsSrv)
	cert := filepath.Join(dir, ".mirrortest-cert.pem")
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsSrv.Certificate().Raw})
	if err := os.WriteFile(cert, data, 0o644); err != nil {
		f.Close()
		return nil, err
	}
	host := tlsSrv.Listener.Addr().String()
	f.env["MH_FAKE_TLS_CERT"] = cert
	f.env["MH_FAKE_AUTH_USERPASS"] = "https://" + AuthUser + ":" + AuthPassword + "@" + host
	f.env["MH_FAKE_AUTH_TOKEN_URL"] = "https://" + AuthToken + "@" + host
	f.env["MH_FAKE_AUTH_ENCODED"] = "https://" + AuthEncodedUserinfo + "@" + host
	plain := start(RefuseAuth(RequireAuth(modules)))
	f.env["MH_FAKE_AUTH_HTTP"] = "http://" + AuthUser + ":" + AuthPassword + "@" + plain.Listener.Addr().String()
	return f, nil
}

// Env returns the variables that hand the fakes to a script.
func (f *ScriptFakes) Env() map[string]string { return f.env }

// Close stops every fake.
func (f *ScriptFakes) Close() {
	for _, s := range f.servers {
		s.CloseClientConnections()
		s.Close()
	}
}

// HonestDelay is how long the honest script mirror waits before each
// answer: well above loopback jitter, well below a slow mirror's median.
const HonestDelay = 250 * time.Millisecond

// Delay waits d before passing each request to next.
func Delay(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(d):
			next.ServeHTTP(w, r)
		case <-r.Context().Done():
		}
	})
}

// RequireAuth answers 401 unless the request carries one of the
// credentials above as HTTP Basic authentication, then passes it to next.
func RequireAuth(next http.Handler) http.Handler {
	ok := map[[2]string]bool{
		{AuthUser, AuthPassword}:               true,
		{AuthToken, ""}:                        true,
		{AuthEncodedUser, AuthEncodedPassword}: true,
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, _ := r.BasicAuth()
		if !ok[[2]string{user, pass}] {
			w.Header().Set("WWW-Authenticate", `Basic realm="mirrortest"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// RefuseAuth answers 400 to a request that carries credentials: for a
// plain-http server, which must never receive any.
func RefuseAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			http.Error(w, "credentials sent over plain http", http.StatusBadRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}
