package mirror

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestProbeEndpoints(t *testing.T) {
	t.Parallel()
	tree := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/latest" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte("go.sum database tree\n1234\nQmFzZTY0SGFzaA==\n\n— sum.example AbCd\n"))
	})
	html := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>login</html>")) })
	urls := []string{serveHandler(t, tree) + "/", serveHandler(t, html), serve(t, &fake{mode: "stall"}), refused(t), serveHandler(t, http.NotFoundHandler())}
	p := &Prober{Timeout: time.Second}
	got := p.ProbeEndpoints(context.Background(), urls)
	want := []struct {
		ok  bool
		err string
	}{{true, ""}, {false, "not a signed tree head"}, {false, "no answer before the timeout"}, {false, "refused"}, {false, "404"}}
	for i, w := range want {
		if got[i].URL != urls[i] || got[i].OK != w.ok || !strings.Contains(got[i].Error, w.err) {
			t.Errorf("%s: ok=%v error %q; want ok=%v error containing %q", urls[i], got[i].OK, got[i].Error, w.ok, w.err)
		}
	}
}

func TestChooseSumDBEndpoint(t *testing.T) {
	ms := time.Millisecond
	results := []Result{
		res("near", Healthy, 10*ms, SumDBUnsupported),
		res("modsbroken", Failing, 5*ms, SumDBSupported),
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
	// None answered: the candidate that serves the database is used.
	d = Choose(results, ChooseOptions{GOSUMDB: "sum.example", SumDBEndpoints: eps[:1]})
	if want := "sum.example https://modsbroken.example/sumdb/sum.example"; d.GOSUMDB != want {
		t.Errorf("GOSUMDB = %q, want %q", d.GOSUMDB, want)
	}
	// A chain mirror that serves the database wins over every endpoint.
	results[0].SumDB = SumDBSupported
	d = Choose(results, ChooseOptions{GOSUMDB: "sum.example", SumDBEndpoints: eps})
	if d.GOSUMDB != "" || d.SumDBVia != "https://near.example/" {
		t.Errorf("GOSUMDB = %q via %q, want unchanged via the chain", d.GOSUMDB, d.SumDBVia)
	}
}
