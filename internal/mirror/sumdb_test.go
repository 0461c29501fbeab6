package mirror

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/modhygiene/modhygiene/internal/gocmd"
	"github.com/modhygiene/modhygiene/internal/mirror/mirrortest"
)

// newTestDB returns a fake checksum database named testDB that answers
// from gosum.
func newTestDB(t testing.TB, gosum string) *mirrortest.SumDB {
	t.Helper()
	db, err := mirrortest.NewSumDB(testDB, mirrortest.GoSumOf(gosum))
	if err != nil {
		t.Fatal(err)
	}
	return db
}

const testGoSum = `example.com/a v1.2.3 h1:Qq7ZPmv1s7Oy8bWsDfHfcJ45B/2tUXXQ7GKU1Vb5b4k=
example.com/a v1.2.3/go.mod h1:mNfvZ3bVD9ZfbkAxK2Ncv/6O81pC0bPVSVv7gJy2Jmc=
`

func TestProbeEndpoints(t *testing.T) {
	t.Parallel()
	db := newTestDB(t, testGoSum)
	forged, _ := mirrortest.NewSumDB(testDB, mirrortest.GoSumOf(testGoSum))
	html := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>login</html>")) })
	urls := []string{serveHandler(t, db) + "/", serveHandler(t, forged), serveHandler(t, html), serve(t, &fake{mode: "stall"}), refused(t), serveHandler(t, http.NotFoundHandler())}
	want := []struct {
		ok  bool
		err string
	}{{true, ""}, {false, "did not verify"}, {false, "did not verify"}, {false, "no answer before the timeout"}, {false, "refused"}, {false, "404"}}
	for _, probe := range []*SumProbe{nil, {Path: "example.com/a", Version: "v1.2.3"}} {
		p := &Prober{Timeout: time.Second, SumDBKey: db.VerifierKey, SumDBProbe: probe}
		got := p.ProbeEndpoints(context.Background(), urls)
		for i, w := range want {
			if got[i].URL != urls[i] || got[i].OK != w.ok || !strings.Contains(got[i].Error, w.err) {
				t.Errorf("probe %v: %s: ok=%v error %q; want ok=%v error containing %q", probe, urls[i], got[i].OK, got[i].Error, w.ok, w.err)
			}
		}
	}
	// Without a key nothing is verified.
	p := &Prober{Timeout: time.Second}
	if got := p.ProbeEndpoints(context.Background(), urls[:1]); got[0].OK || !strings.Contains(got[0].Error, "no public key") {
		t.Errorf("without a key: %+v", got[0])
	}
}

func TestSumDBKey(t *testing.T) {
	_, vkey, err := note.GenerateKey(nil, "sum.test.example")
	if err != nil {
		t.Fatal(err)
	}
	_, otherKey, _ := note.GenerateKey(nil, "other.test.example")
	tests := []struct {
		gosumdb, def string
		want         string
		errHas       string
	}{
		{vkey, "sum.default.example", vkey, ""},
		{vkey + " https://sum.mirror.example", "", vkey, ""},
		{"sum.test.example", vkey, vkey, ""},
		{"off", vkey, vkey, ""},
		{"", vkey, vkey, ""},
		{"sum.test.example", otherKey, "", "no public key known for checksum database \"sum.test.example\""},
		// A bare name the go command does not know: the default key
		// material is bound to the default's name by its hash.
		{"sum.test.example", "sum.test.example", "", "no public key known"},
		{"", "", "", "no checksum database"},
	}
	for _, tt := range tests {
		got, err := SumDBKey(tt.gosumdb, tt.def)
		if got != tt.want || (err == nil) != (tt.errHas == "") || err != nil && !strings.Contains(err.Error(), tt.errHas) {
			t.Errorf("SumDBKey(%q, %q) = %q, %v; want %q, error containing %q", tt.gosumdb, tt.def, got, err, tt.want, tt.errHas)
		}
	}
}

// TestSumDBKeyGoDefault checks the key material against the go command's
// own default database, read from `go env` as the tool does.
func TestSumDBKeyGoDefault(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	defs := goDefaults(t)
	key, err := SumDBKey("", defs.GOSUMDB)
	if err != nil {
		t.Fatalf("the go command's default %q: %v", defs.GOSUMDB, err)
	}
	if _, err := note.NewVerifier(key); err != nil || SumDBName(key) != SumDBName(defs.GOSUMDB) {
		t.Errorf("key %q for %q: %v", key, defs.GOSUMDB, err)
	}
}

func TestChooseSumDBEndpoint(t *testing.T) {
	ms := time.Millisecond
	results := []Result{
		res("near", Healthy, 10*ms, SumDBUnsupported),
		res("modsbroken", Failing, 5*ms, SumDBVerified),
	}
	eps := []Endpoint{
		{URL: "https://down.example", Error: "refused"},
		{URL: "https://slowsum.example", OK: true, Latency: 90 * ms},
		{URL: "https://sum.mirror.example", OK: true, Latency: 40 * ms},
	}
	d := Choose(results, ChooseOptions{GOSUMDB: "sum.example", SumDBEndpoints: eps})
	if want := "sum.example https://sum.mirror.example"; d.GOSUMDB != want || d.SumDBVia != "https://sum.mirror.example" {
		t.Errorf("GOSUMDB = %q via %q, want %q", d.GOSUMDB, d.SumDBVia, want)
	}
	// None answered: the candidate whose lookup verified is used.
	d = Choose(results, ChooseOptions{GOSUMDB: "sum.example", SumDBEndpoints: eps[:1]})
	if want := "sum.example https://modsbroken.example/sumdb/sum.example"; d.GOSUMDB != want {
		t.Errorf("GOSUMDB = %q, want %q", d.GOSUMDB, want)
	}
	// A verified chain mirror wins over every endpoint.
	results[0].SumDB = SumDBVerified
	d = Choose(results, ChooseOptions{GOSUMDB: "sum.example", SumDBEndpoints: eps})
	if d.GOSUMDB != "" || d.SumDBVia != "https://near.example/" {
		t.Errorf("GOSUMDB = %q via %q, want unchanged via the chain", d.GOSUMDB, d.SumDBVia)
	}
}

// goDefaults asks the real go command for its defaults.
func goDefaults(t *testing.T) GoDefaults {
	t.Helper()
	env := gocmd.Merge(os.Environ(), []string{"GOFLAGS=", "GOTOOLCHAIN=local", "GOTELEMETRY=off"})
	d, err := Defaults(context.Background(), &gocmd.Runner{Env: env}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return d
}
