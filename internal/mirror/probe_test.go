package mirror

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/mod/module"
)

var testMods = []module.Version{{Path: "example.com/a", Version: "v1.2.3"}, {Path: "example.com/B", Version: "v0.1.0"}}

func newProber(timeout time.Duration) *Prober {
	return &Prober{Client: &http.Client{}, Timeout: timeout, Slow: 800 * time.Millisecond, Modules: testMods, SumDB: testDB}
}

func TestProbeClassifies(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		url    string
		status Status
		sumdb  SumDBSupport
		errHas string
	}{
		{"fast", serve(t, &fake{latency: 2 * time.Millisecond, sumdb: true}), Healthy, SumDBSupported, ""},
		{"nosumdb", serve(t, &fake{latency: 2 * time.Millisecond}), Healthy, SumDBUnsupported, ""},
		{"slow", serve(t, &fake{latency: 1200 * time.Millisecond, sumdb: true}), Slow, SumDBSupported, "median latency"},
		{"500", serve(t, &fake{mode: "500", sumdb: true}), Failing, SumDBSupported, "500"},
		{"404", serve(t, &fake{mode: "404"}), Failing, SumDBUnsupported, "404"},
		{"badjson", serve(t, &fake{mode: "badjson"}), Failing, SumDBUnsupported, "not a version .info"},
		{"wrongversion", serve(t, &fake{mode: "wrongversion"}), Failing, SumDBUnsupported, "v9.9.9"},
		{"truncate", serve(t, &fake{mode: "truncate"}), Failing, SumDBUnsupported, "truncated body"},
		{"stallbody", serve(t, &fake{mode: "stallbody"}), Failing, SumDBUnsupported, "body stalled"},
		{"stall", serve(t, &fake{mode: "stall"}), Unreachable, SumDBUnknown, "no answer before the timeout"},
		{"silent", silentListener(t), Unreachable, SumDBUnknown, "no answer before the timeout"},
		{"refused", refused(t), Unreachable, SumDBUnknown, "refused"},
	}
	var cands []Candidate
	for _, c := range cases {
		cands = append(cands, Candidate{Name: c.name, URL: c.url})
	}
	p := newProber(2500 * time.Millisecond)
	res := p.Probe(context.Background(), cands)
	if len(res) != len(cases) {
		t.Fatalf("got %d results, want %d", len(res), len(cases))
	}
	for i, c := range cases {
		r := res[i]
		if r.Name != c.name || r.Status != c.status || r.SumDB != c.sumdb || !strings.Contains(r.Error, c.errHas) {
			t.Errorf("%s: got status %s, sumdb %q, error %q; want %s, %q, error containing %q", c.name, r.Status, r.SumDB, r.Error, c.status, c.sumdb, c.errHas)
		}
		if r.Status == Healthy && (len(r.Samples) != 3 || r.Latency <= 0) {
			t.Errorf("%s: samples %v, latency %v; want 3 samples and a median", c.name, r.Samples, r.Latency)
		}
	}
}

// TestProbeHangingCandidateReturns shows the bound by structure: a
// candidate that never answers is classified unreachable with the timeout
// as its reason, and the healthy candidates beside it are measured in full.
func TestProbeHangingCandidateReturns(t *testing.T) {
	t.Parallel()
	stall := serve(t, &fake{mode: "stall"})
	silent := silentListener(t)
	ok := serve(t, &fake{latency: time.Millisecond, sumdb: true})
	p := newProber(time.Second)
	res := p.Probe(context.Background(), []Candidate{{URL: stall}, {URL: silent}, {URL: ok}})
	for _, r := range res[:2] {
		if r.Status != Unreachable || r.Error != "no answer before the timeout" || len(r.Samples) != 0 {
			t.Errorf("%s: %s %q with %d samples; want unreachable on the timeout", r.URL, r.Status, r.Error, len(r.Samples))
		}
	}
	if res[2].Status != Healthy || len(res[2].Samples) != 3 {
		t.Errorf("healthy candidate: %+v", res[2])
	}
}

// TestProbePartlyHanging: a candidate that answers some requests and hangs
// on others is failing: in a chain it would stall the go command.
func TestProbePartlyHanging(t *testing.T) {
	t.Parallel()
	u := serve(t, &fake{latency: time.Millisecond, stallAfter: 1})
	p := newProber(time.Second)
	r := p.Probe(context.Background(), []Candidate{{URL: u}})[0]
	if r.Status != Failing || len(r.Samples) != 1 || !strings.Contains(r.Error, "2 of 3 requests failed") {
		t.Errorf("got %s with %d of %d samples (%q); want failing with one sample", r.Status, len(r.Samples), r.Requests, r.Error)
	}
}

func TestProbeWithoutModulesUsesSumDBEndpoint(t *testing.T) {
	t.Parallel()
	u := serve(t, &fake{latency: time.Millisecond}) // answers 404: still an answer
	bad := serve(t, &fake{mode: "stall"})
	p := &Prober{Timeout: time.Second, SumDB: testDB}
	res := p.Probe(context.Background(), []Candidate{{URL: u}, {URL: bad}})
	if res[0].Status != Healthy || res[0].SumDB != SumDBUnsupported || len(res[0].Samples) != 3 {
		t.Errorf("got %+v", res[0])
	}
	if res[1].Status != Unreachable {
		t.Errorf("got %+v", res[1])
	}
}

func TestProbeEscapesPaths(t *testing.T) {
	var got []string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.URL.Path)
		(&fake{}).ServeHTTP(w, r)
	})
	u := serveHandler(t, h)
	p := &Prober{Timeout: time.Second, Modules: testMods[1:], Requests: 1}
	p.Probe(context.Background(), []Candidate{{URL: u + "/"}})
	if diff := cmp.Diff([]string{"/example.com/!b/@v/v0.1.0.info"}, got); diff != "" {
		t.Error(diff)
	}
}

func TestMedian(t *testing.T) {
	ms := time.Millisecond
	for _, tt := range []struct {
		in   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{[]time.Duration{5 * ms}, 5 * ms},
		{[]time.Duration{9 * ms, 1 * ms, 5 * ms}, 5 * ms},
		{[]time.Duration{4 * ms, 2 * ms}, 3 * ms},
	} {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestSumDBName(t *testing.T) {
	for in, want := range map[string]string{
		"":                            "",
		"off":                         "",
		"sum.example":                 "sum.example",
		"sum.example+abcd":            "sum.example",
		"sum.example+abcd https://x/": "sum.example",
		"sum.example https://mirror/": "sum.example",
	} {
		if got := SumDBName(in); got != want {
			t.Errorf("SumDBName(%q) = %q, want %q", in, got, want)
		}
	}
}
