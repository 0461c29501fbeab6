package mirror

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/modhygiene/modhygiene/internal/mirror/mirrortest"
)

// TestProbeVerifiesSumDB: a mirror is trusted with the checksum database
// only when a lookup through it verifies against the database's key.
func TestProbeVerifiesSumDB(t *testing.T) {
	t.Parallel()
	db := newTestDB(t, testGoSum)
	modules := &fake{latency: time.Millisecond}
	liar := func(lie mirrortest.Lie) string {
		h, err := mirrortest.Liar(db, lie, modules)
		if err != nil {
			t.Fatal(err)
		}
		return serveHandler(t, h)
	}
	cases := []struct {
		name   string
		url    string
		sumdb  SumDBSupport
		detail string
	}{
		{"honest", serveHandler(t, db.Mirror(modules)), SumDBVerified, "verified"},
		{"garbage", liar(mirrortest.LieGarbage), SumDBInvalid, "did not verify"},
		{"forged", liar(mirrortest.LieForged), SumDBInvalid, "did not verify"},
		{"record", liar(mirrortest.LieRecord), SumDBInvalid, "did not verify"},
		{"error", liar(mirrortest.LieError), SumDBInvalid, "502"},
		{"nosumdb", serve(t, &fake{latency: time.Millisecond}), SumDBUnsupported, ""},
	}
	var cands []Candidate
	for _, c := range cases {
		cands = append(cands, Candidate{Name: c.name, URL: c.url})
	}
	probes := map[string]*SumProbe{
		"lookup": {Path: "example.com/a", Version: "v1.2.3", Lines: strings.Split(strings.TrimSpace(testGoSum), "\n")},
		"latest": nil,
	}
	for pname, probe := range probes {
		p := newProber(2 * time.Second)
		p.SumDBKey, p.SumDBProbe = db.VerifierKey, probe
		res := p.Probe(context.Background(), cands)
		for i, c := range cases {
			r := res[i]
			if pname == "latest" && c.name == "record" {
				// Only a lookup shows an altered record.
				continue
			}
			if r.Status != Healthy || r.SumDB != c.sumdb || !strings.Contains(r.SumDBDetail, c.detail) {
				t.Errorf("%s: %s: status %s, sumdb %q (%s); want healthy, %q with %q", pname, c.name, r.Status, r.SumDB, r.SumDBDetail, c.sumdb, c.detail)
			}
		}
		if pname == "lookup" && res[0].SumDBGoSum != "match" {
			t.Errorf("go.sum comparison: %q", res[0].SumDBGoSum)
		}
		// The lying mirrors never serve the database in the decision.
		if pname == "latest" {
			res = append(res[:3:3], res[4:]...) // the record liar passes a tree-head check
		}
		d := Choose(res, ChooseOptions{GOSUMDB: db.VerifierKey})
		if d.SumDBVia == "" || !strings.HasPrefix(d.SumDBVia, cases[0].url) {
			t.Errorf("%s: the database goes via %q (GOSUMDB %q), want the honest mirror %s", pname, d.SumDBVia, d.GOSUMDB, cases[0].url)
		}
	}
}

// TestProbeGoSumMismatch: a record that verifies but differs from go.sum
// blames go.sum, not the mirror.
func TestProbeGoSumMismatch(t *testing.T) {
	t.Parallel()
	db := newTestDB(t, testGoSum)
	url := serveHandler(t, db.Mirror(&fake{}))
	p := newProber(2 * time.Second)
	p.SumDBKey = db.VerifierKey
	p.SumDBProbe = &SumProbe{Path: "example.com/a", Version: "v1.2.3", Lines: []string{"example.com/a v1.2.3 h1:planted="}}
	r := p.Probe(context.Background(), []Candidate{{Name: "m", URL: url}})[0]
	if r.SumDB != SumDBVerified || !strings.Contains(r.SumDBGoSum, "h1:planted=") {
		t.Fatalf("sumdb %q, go.sum %q", r.SumDB, r.SumDBGoSum)
	}
	d := Choose([]Result{r}, ChooseOptions{GOSUMDB: db.VerifierKey})
	if !strings.Contains(strings.Join(d.Notes, "\n"), "check go.sum") {
		t.Errorf("notes %q", d.Notes)
	}
}

// TestProbeSumDBUnproven: without a key, or when the lookup does not
// finish in time, a mirror that says it serves the database stays
// "supported" and is not trusted.
func TestProbeSumDBUnproven(t *testing.T) {
	t.Parallel()
	db := newTestDB(t, testGoSum)
	slowDB := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/lookup/") || strings.Contains(r.URL.Path, "/tile/") || strings.HasSuffix(r.URL.Path, "/latest") {
			<-r.Context().Done()
			return
		}
		db.Mirror(&fake{}).ServeHTTP(w, r)
	})
	p := newProber(time.Second)
	p.SumDBKey = db.VerifierKey
	r := p.Probe(context.Background(), []Candidate{{URL: serveHandler(t, slowDB)}})[0]
	if r.SumDB != SumDBSupported || !strings.Contains(r.SumDBDetail, "did not finish") {
		t.Errorf("hanging lookup: sumdb %q (%s)", r.SumDB, r.SumDBDetail)
	}
	p = newProber(time.Second)
	r = p.Probe(context.Background(), []Candidate{{URL: serveHandler(t, db.Mirror(&fake{}))}})[0]
	if r.SumDB != SumDBSupported || !strings.Contains(r.SumDBDetail, "no public key") {
		t.Errorf("no key: sumdb %q (%s)", r.SumDB, r.SumDBDetail)
	}
}
