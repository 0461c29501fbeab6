package proxy

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modhygiene/modhygiene/internal/proxy/proxytest"
)

func TestProtocol(t *testing.T) {
	f := newFixture(t, 3)
	m, u := f.mirror(t, proxytest.Behavior{})
	s := start(t, Options{Mirrors: []Mirror{{Name: "m", URL: u}}})
	for _, mod := range f.mods[:4] {
		for _, ext := range []string{"info", "mod", "zip"} {
			f.mustGet(t, s, rel(t, mod.Path, mod.Version, ext))
		}
	}
	f.mustGet(t, s, rel(t, "example.com/Upper/Case", "v1.2.3", "zip"))
	f.mustGet(t, s, rel(t, "example.com/old", "v2.0.0+incompatible", "mod"))
	f.mustGet(t, s, "example.com/fx/m000/@v/list")
	before := m.Total()
	f.mustGet(t, s, rel(t, "example.com/fx/m000", "v1.0.0", "zip"))
	f.mustGet(t, s, "example.com/fx/m000/@v/list")
	if m.Total() != before {
		t.Errorf("a second request reached the mirror: %d requests, want %d", m.Total(), before)
	}
	if code, _ := get(t, s, rel(t, "example.com/none", "v1.0.0", "mod")); code != http.StatusNotFound {
		t.Errorf("missing module: %d, want 404", code)
	}
	if code, _ := get(t, s, "no/proxy/path"); code != http.StatusNotFound {
		t.Errorf("bad path: %d, want 404", code)
	}
	if code, _ := get(t, s, "example.com/fx/m000/@v/master.zip"); code != http.StatusNotFound {
		t.Errorf("zip of a non-canonical version: %d, want 404", code)
	}
	st := s.Stats()
	if st.Cache.Hits != 2 || st.Fetched.Hits != 15 || st.NotFound != 3 {
		t.Errorf("stats: cache %d, fetched %d, not found %d; want 2, 15, 3", st.Cache.Hits, st.Fetched.Hits, st.NotFound)
	}
}

func TestLatestAndQueryExpire(t *testing.T) {
	f := newFixture(t, 2)
	m, u := f.mirror(t, proxytest.Behavior{})
	s := start(t, Options{Mirrors: []Mirror{{URL: u}}, ListTTL: 50 * time.Millisecond})
	// The corpus has no @latest: the mirror's 404 is the answer, and the
	// go command then uses the list.
	if code, _ := get(t, s, "example.com/fx/m000/@latest"); code != http.StatusNotFound {
		t.Fatalf("@latest: %d, want 404", code)
	}
	get(t, s, "example.com/fx/m000/@latest")
	if n := m.Count("/example.com/fx/m000/@latest"); n != 1 {
		t.Errorf("@latest asked %d times within the TTL, want 1", n)
	}
	time.Sleep(60 * time.Millisecond)
	get(t, s, "example.com/fx/m000/@latest")
	if n := m.Count("/example.com/fx/m000/@latest"); n != 2 {
		t.Errorf("@latest asked %d times after the TTL, want 2", n)
	}
}

func TestLocalModuleCacheFirst(t *testing.T) {
	f := newFixture(t, 2)
	modcache := t.TempDir()
	// The module cache's download directory has the GOPROXY layout.
	if err := proxytest.WriteCorpus(filepath.Join(modcache, "cache", "download"), f.mods); err != nil {
		t.Fatal(err)
	}
	m, u := f.mirror(t, proxytest.Behavior{})
	s := start(t, Options{Mirrors: []Mirror{{URL: u}}, ModCache: modcache})
	for _, ext := range []string{"info", "mod", "zip"} {
		f.mustGet(t, s, rel(t, "example.com/fx/m001", "v1.0.0", ext))
	}
	if m.Total() != 0 {
		t.Errorf("the mirror got %d requests for files in the local cache: %v", m.Total(), m.Paths())
	}
	if st := s.Stats(); st.Local.Hits != 3 {
		t.Errorf("local hits %d, want 3", st.Local.Hits)
	}
}

func TestListFallsBackToTheLocalModuleCache(t *testing.T) {
	f := newFixture(t, 2)
	modcache := t.TempDir()
	if err := proxytest.WriteCorpus(filepath.Join(modcache, "cache", "download"), f.mods); err != nil {
		t.Fatal(err)
	}
	for _, mirrors := range [][]Mirror{nil, {{URL: downURL(t)}}} {
		s := start(t, Options{Mirrors: mirrors, ModCache: modcache})
		code, body := get(t, s, "example.com/fx/m000/@v/list")
		if code != http.StatusOK || string(body) != "v1.0.0\nv1.1.0\n" {
			t.Errorf("%d mirrors: list %d %q", len(mirrors), code, body)
		}
	}
}

// TestHedgePicksFastAnswer: the first mirror measured fast in the probe
// but now takes seconds; the hedge asks the second, whose answer is used,
// and the first is demoted so the next request goes to the second at once.
func TestHedgePicksFastAnswer(t *testing.T) {
	f := newFixture(t, 3)
	slow, slowURL := f.mirror(t, proxytest.Behavior{Latency: 5 * time.Second})
	fast, fastURL := f.mirror(t, proxytest.Behavior{Latency: 5 * time.Millisecond})
	s := start(t, Options{Mirrors: []Mirror{
		{Name: "slow", URL: slowURL, Samples: []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond}},
		{Name: "fast", URL: fastURL, Samples: []time.Duration{20 * time.Millisecond}},
	}})
	f.mustGet(t, s, rel(t, "example.com/fx/m000", "v1.0.0", "mod"))
	f.mustGet(t, s, rel(t, "example.com/fx/m001", "v1.0.0", "mod"))
	st := s.Stats()
	if st.Hedges != 1 || st.HedgesWon != 1 {
		t.Errorf("hedges %d fired, %d won; want 1, 1", st.Hedges, st.HedgesWon)
	}
	if slow.Total() != 1 || fast.Total() != 2 {
		t.Errorf("requests: slow %d, fast %d; want 1, 2", slow.Total(), fast.Total())
	}
	if st.Mirrors[0].Stalls != 1 || st.Mirrors[0].Hits != 0 || st.Mirrors[1].Hits != 2 {
		t.Errorf("mirror stats: %+v", st.Mirrors)
	}
}

// TestHangingMirrorCostsOneHedge: the fastest mirror hangs from its fourth
// request on. Exactly one request waits for it (one hedge delay); every
// later one goes to the next mirror first.
func TestHangingMirrorCostsOneHedge(t *testing.T) {
	f := newFixture(t, 8)
	hang, hangURL := f.mirror(t, proxytest.Behavior{HangAfter: 3})
	next, nextURL := f.mirror(t, proxytest.Behavior{Latency: 10 * time.Millisecond})
	s := start(t, Options{Mirrors: []Mirror{
		{Name: "hang", URL: hangURL, Samples: []time.Duration{time.Millisecond}},
		{Name: "next", URL: nextURL, Samples: []time.Duration{30 * time.Millisecond}},
	}, Timeout: 500 * time.Millisecond})
	for i := range 8 {
		f.mustGet(t, s, rel(t, proxytest.Chain("example.com/fx", 8)[i].Path, "v1.0.0", "mod"))
	}
	st := s.Stats()
	if st.Hedges != 1 || st.HedgesWon != 1 {
		t.Errorf("hedges %d fired, %d won; want 1, 1", st.Hedges, st.HedgesWon)
	}
	if hang.Total() != 4 || next.Total() != 5 {
		t.Errorf("requests: hanging mirror %d, next %d; want 4, 5", hang.Total(), next.Total())
	}
	if st.Mirrors[0].Stalls != 1 {
		t.Errorf("hanging mirror: %+v, want one stall", st.Mirrors[0])
	}
	// Its stalled request times out: it is demoted for the rest of the run.
	for deadline := time.Now().Add(5 * time.Second); s.Stats().Mirrors[0].Demoted == ""; {
		if time.Now().After(deadline) {
			t.Fatalf("hanging mirror never demoted: %+v", s.Stats().Mirrors[0])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestFailingMirrors: a mirror that answers 500, truncates its bodies or
// has its connection refused loses to the next one and is demoted.
func TestFailingMirrors(t *testing.T) {
	for name, b := range map[string]proxytest.Behavior{
		"500":      {Status: http.StatusInternalServerError},
		"truncate": {Truncate: true},
		"hang":     {HangAfter: -1, HangEvery: 1, HangFor: 20 * time.Millisecond},
		"down":     {},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, 2)
			_, badURL := f.mirror(t, b)
			if name == "down" {
				badURL = downURL(t)
			}
			good, goodURL := f.mirror(t, proxytest.Behavior{})
			ms := []time.Duration{time.Millisecond}
			s := start(t, Options{Mirrors: []Mirror{{Name: "bad", URL: badURL, Samples: ms}, {Name: "good", URL: goodURL, Samples: ms}}, HedgeMin: time.Minute, HedgeMax: time.Minute})
			for _, ext := range []string{"info", "mod", "zip"} {
				f.mustGet(t, s, rel(t, "example.com/fx/m000", "v1.0.0", ext))
			}
			st := s.Stats()
			if st.Mirrors[0].Demoted == "" || st.Mirrors[0].Failures != 1 || good.Total() != 3 {
				t.Errorf("bad mirror %+v; good mirror asked %d times, want 3", st.Mirrors[0], good.Total())
			}
		})
	}
}

func TestNotFoundOnlyWhenEveryMirrorSaysSo(t *testing.T) {
	f := newFixture(t, 2)
	empty := t.TempDir()
	_, emptyURL := (&fixture{corpus: empty}).mirror(t, proxytest.Behavior{})
	_, fullURL := f.mirror(t, proxytest.Behavior{Latency: 20 * time.Millisecond})
	ms := []time.Duration{time.Millisecond}
	s := start(t, Options{Mirrors: []Mirror{{URL: emptyURL, Samples: ms}, {URL: fullURL, Samples: ms}}})
	f.mustGet(t, s, rel(t, "example.com/fx/m000", "v1.0.0", "zip"))
	f.mustGet(t, s, "example.com/fx/m000/@v/list")
	if code, body := get(t, s, rel(t, "example.com/none", "v1.0.0", "info")); code != http.StatusNotFound {
		t.Errorf("missing everywhere: %d %s, want 404", code, body)
	}
	if st := s.Stats(); st.Mirrors[0].Demoted != "" {
		t.Errorf("a mirror was demoted for not having a module: %+v", st.Mirrors[0])
	}

	// Both mirrors failing is a 502, never a 404.
	_, failURL := f.mirror(t, proxytest.Behavior{Status: http.StatusServiceUnavailable})
	s2 := start(t, Options{Mirrors: []Mirror{{URL: failURL}, {URL: downURL(t)}}})
	if code, body := get(t, s2, rel(t, "example.com/fx/m000", "v1.0.0", "info")); code != http.StatusBadGateway {
		t.Errorf("every mirror failing: %d %s, want 502", code, body)
	}
}

func TestConcurrentRequestsFetchOnce(t *testing.T) {
	f := newFixture(t, 2)
	m, u := f.mirror(t, proxytest.Behavior{Latency: 100 * time.Millisecond})
	s := start(t, Options{Mirrors: []Mirror{{URL: u}}})
	p := rel(t, "example.com/fx/m001", "v1.0.0", "zip")
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.mustGet(t, s, p)
			get(t, s, "example.com/fx/m001/@v/list")
		}()
	}
	wg.Wait()
	if n, l := m.Count("/"+p), m.Count("/example.com/fx/m001/@v/list"); n != 1 || l != 1 {
		t.Errorf("the mirror was asked %d times for the zip and %d for the list, want 1 and 1", n, l)
	}
	if st := s.Stats(); st.Joined.Hits+st.Cache.Hits+st.Fetched.Hits != 40 {
		t.Errorf("stats do not add up to 40 answers: %+v", st)
	}
}

func TestPrivateModulesNeverReachAMirror(t *testing.T) {
	f := newFixture(t, 2)
	m, u := f.mirror(t, proxytest.Behavior{})
	storeDir := t.TempDir()
	s := start(t, Options{Mirrors: []Mirror{{URL: u}}, NoProxy: "corp.example", NoSumDB: "corp.example", Store: newLocalStore(storeDir), SumDB: f.gosumdb(t)})
	for _, p := range []string{
		rel(t, "corp.example/secret", "v1.0.0", "info"), rel(t, "corp.example/secret", "v1.0.0", "mod"),
		rel(t, "corp.example/secret", "v1.0.0", "zip"), "corp.example/secret/@v/list", "corp.example/secret/@latest",
		rel(t, "corp.example/secret", "master", "info"),
	} {
		if code, body := get(t, s, p); code != http.StatusNotFound || !strings.Contains(string(body), "private") {
			t.Errorf("GET %s: %d %s, want 404 naming it private", p, code, body)
		}
	}
	for _, p := range m.Paths() {
		if strings.Contains(p, "corp.example") {
			t.Errorf("the mirror was asked for %s", p)
		}
	}
	if st := s.Stats(); st.Private != 6 {
		t.Errorf("private %d, want 6", st.Private)
	}
}

func TestCredentialsNeverPrinted(t *testing.T) {
	f := newFixture(t, 2)
	_, failURL := f.mirror(t, proxytest.Behavior{Status: http.StatusInternalServerError})
	inner := proxytest.NewMirror(f.corpus, proxytest.Behavior{}, f.db)
	var sawAuth sync.Map
	authed := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		sawAuth.Store(user+":"+pass, ok)
		inner.ServeHTTP(w, r)
	}))
	var log syncBuffer
	withCreds := strings.Replace(failURL, "http://", "http://alice-user:s3cret-pass@", 1)
	host := strings.TrimPrefix(authed, "http://")
	netrc := "machine " + host[:strings.LastIndex(host, ":")] + " login bob-user password hunter2-pass\n"
	s := start(t, Options{Mirrors: []Mirror{{URL: withCreds}, {URL: authed}}, Netrc: netrc, Log: &log})
	f.mustGet(t, s, rel(t, "example.com/fx/m000", "v1.0.0", "info"))
	if _, ok := sawAuth.Load("bob-user:hunter2-pass"); !ok {
		t.Error("the netrc credentials were not sent")
	}
	code, body := get(t, s, rel(t, "example.com/none", "v1.0.0", "info"))
	var js strings.Builder
	st := s.Stats()
	st.WriteJSON(&js)
	st.WriteText(&js)
	all := log.String() + string(body) + js.String()
	for _, secret := range []string{"alice-user", "s3cret-pass", "bob-user", "hunter2-pass"} {
		if strings.Contains(all, secret) {
			t.Errorf("%q printed (answer %d):\n%s", secret, code, all)
		}
	}
}

func TestStatsJSONRoundTrip(t *testing.T) {
	st := Stats{Requests: 3, Local: Count{1, 10}, Mirrors: []MirrorStats{{Name: "a", Hits: 2, P50: time.Millisecond}}}
	var b strings.Builder
	if err := st.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	got, err := ReadStats(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(st)
	c, _ := json.Marshal(got)
	if string(a) != string(c) {
		t.Errorf("round trip: %s, want %s", c, a)
	}
	var md strings.Builder
	st.WriteMarkdown(&md)
	if !strings.Contains(md.String(), "| mirror a | 2 |") {
		t.Errorf("markdown lacks the mirror row:\n%s", md.String())
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	for _, o := range []Options{
		{Mirrors: []Mirror{{URL: "file:///tmp"}}},
		{Mirrors: []Mirror{{URL: "https://user:pw@"}}},
		{SumDB: "name+bad+key"},
		{SumDB: "a b c"},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) succeeded", o)
		} else if strings.Contains(err.Error(), "pw") {
			t.Errorf("error names the password: %v", err)
		}
	}
}

func TestStateAndGOPROXY(t *testing.T) {
	path := filepath.Join(t.TempDir(), "proxy.json")
	want := State{URL: "http://127.0.0.1:4000", PID: 42, Stats: "/tmp/stats.json", Started: time.Unix(1e9, 0).UTC()}
	if err := WriteState(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadState(path)
	if err != nil || got != want {
		t.Errorf("ReadState = %+v, %v; want %+v", got, err, want)
	}
	for cur, want := range map[string]string{
		"https://a.example,direct":   "http://p|https://a.example,direct",
		"https://a.example|direct":   "http://p|https://a.example|direct",
		"https://a.example":          "http://p|https://a.example",
		"off":                        "http://p",
		"":                           "http://p",
		"https://direct.example.com": "http://p|https://direct.example.com",
	} {
		if got := GOPROXY("http://p", cur); got != want {
			t.Errorf("GOPROXY(%q) = %q, want %q", cur, got, want)
		}
	}
}
