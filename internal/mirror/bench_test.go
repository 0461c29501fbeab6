package mirror

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modhygiene/modhygiene/internal/gocmd"
	"github.com/modhygiene/modhygiene/internal/mirror/mirrortest"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

// BenchmarkProbe measures a whole Probe call and reports it next to the
// bound the issue sets: the timeout plus 200ms when candidates hang, the
// slowest candidate's latency plus 200ms when all are healthy. Run it with
// scripts/bench-mirrors.sh.
func BenchmarkProbe(b *testing.B) {
	ms := time.Millisecond
	cases := []struct {
		name      string
		latencies []time.Duration // -1: never answers
		timeout   time.Duration
		bound     time.Duration
	}{
		{"six-two-hang", []time.Duration{10 * ms, 20 * ms, 40 * ms, 80 * ms, -1, -1}, time.Second, time.Second + 200*ms},
		{"six-healthy", []time.Duration{10 * ms, 20 * ms, 40 * ms, 80 * ms, 120 * ms, 150 * ms}, 3 * time.Second, 150*ms + 200*ms},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var cands []Candidate
			for i, l := range c.latencies {
				f := &fake{latency: l, sumdb: i%2 == 0}
				if l < 0 {
					f = &fake{mode: "stall"}
				}
				cands = append(cands, Candidate{Name: fmt.Sprint("c", i), URL: serve(b, f)})
			}
			var worst time.Duration
			b.ResetTimer()
			for b.Loop() {
				// A fresh transport each time: every probe pays for its
				// connections, as a CI job's single probe does.
				tr := &http.Transport{}
				p := &Prober{Client: &http.Client{Transport: tr}, Timeout: c.timeout, Modules: testMods, SumDB: testDB}
				start := time.Now()
				res := p.Probe(context.Background(), cands)
				worst = max(worst, time.Since(start))
				tr.CloseIdleConnections()
				for i, r := range res {
					if (c.latencies[i] < 0) != (r.Status == Unreachable) {
						b.Fatalf("candidate %d: %s (%s)", i, r.Status, r.Error)
					}
				}
			}
			b.ReportMetric(float64(worst.Milliseconds()), "worst-ms")
			b.ReportMetric(float64(c.bound.Milliseconds()), "bound-ms")
			within := 0.0
			if worst <= c.bound {
				within = 1
			}
			b.ReportMetric(within, "within-bound")
		})
	}
}

// BenchmarkLoopbackDownload reproduces the motivating case on loopback: a
// cold `go mod download` of a 100-module graph through a mirror with 150ms
// added latency, against the chain modhygiene chooses among that mirror
// and one with 10ms. It reports both wall times and their ratio, with and
// without the probe's own time. The chain leaves direct off so nothing
// leaves the machine; with a working first mirror direct is never reached.
func BenchmarkLoopbackDownload(b *testing.B) {
	if _, err := (&gocmd.Runner{Env: os.Environ()}).Run(context.Background(), "", "version"); err != nil {
		b.Skip("no go command:", err)
	}
	const n = 100
	proxyDir, root := b.TempDir(), b.TempDir()
	writeFixtures(b, proxyDir, root, n)
	_, slowURL := newFileProxy(b, proxyDir, 150*time.Millisecond)
	_, fastURL := newFileProxy(b, proxyDir, 10*time.Millisecond)
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		b.Fatal(err)
	}
	ws, err := workspace.Discover(root)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	download := func(goproxy string) time.Duration {
		dir := b.TempDir()
		mustWrite(b, filepath.Join(dir, "go.mod"), string(gomod))
		run := &gocmd.Runner{Env: goEnv(b, "GOPROXY="+goproxy)}
		start := time.Now()
		if res, err := run.Run(ctx, dir, "mod", "download"); err != nil {
			b.Fatalf("go mod download via %s: %v\n%s", goproxy, err, res.Stderr)
		}
		return time.Since(start)
	}
	var slow, chain, probe time.Duration
	var goproxy string
	b.ResetTimer()
	for b.Loop() {
		slow = download(slowURL)
		start := time.Now()
		p := &Prober{Client: &http.Client{Transport: &http.Transport{}}, Timeout: 3 * time.Second, Modules: ProbeModules(ws, "", 3), SumDB: testDB}
		d := Choose(p.Probe(ctx, []Candidate{{Name: "slow", URL: slowURL}, {Name: "fast", URL: fastURL}}), ChooseOptions{NoDirect: true, GOSUMDB: testDB})
		probe = time.Since(start)
		goproxy = d.GOPROXY
		if goproxy != fastURL+"|"+slowURL {
			b.Fatalf("chose %q", goproxy)
		}
		chain = download(goproxy)
	}
	b.ReportMetric(float64(slow.Milliseconds()), "slow-ms")
	b.ReportMetric(float64(chain.Milliseconds()), "chain-ms")
	b.ReportMetric(float64(probe.Milliseconds()), "probe-ms")
	b.ReportMetric(slow.Seconds()/chain.Seconds(), "ratio")
	b.ReportMetric(slow.Seconds()/(chain+probe).Seconds(), "ratio-with-probe")
}

// BenchmarkProbeVerify measures what verifying the checksum database costs:
// six mirrors (10ms to 150ms) that all serve it, probed side by side
// without a key (the supported question only) and with one (a lookup,
// inclusion proof and go.sum comparison through each). It reports both
// worst wall times and their ratio.
func BenchmarkProbeVerify(b *testing.B) {
	ms := time.Millisecond
	db := newTestDB(b, testGoSum)
	var cands []Candidate
	for i, l := range []time.Duration{10 * ms, 20 * ms, 40 * ms, 80 * ms, 120 * ms, 150 * ms} {
		h := mirrortest.Delay(l, db.Mirror(&fake{}))
		cands = append(cands, Candidate{Name: fmt.Sprint("c", i), URL: serveHandler(b, h)})
	}
	probe := &SumProbe{Path: "example.com/a", Version: "v1.2.3", Lines: strings.Split(strings.TrimSpace(testGoSum), "\n")}
	run := func(key string) time.Duration {
		tr := &http.Transport{}
		defer tr.CloseIdleConnections()
		p := &Prober{Client: &http.Client{Transport: tr}, Timeout: 3 * time.Second, Modules: testMods, SumDB: testDB, SumDBKey: key, SumDBProbe: probe}
		start := time.Now()
		res := p.Probe(context.Background(), cands)
		d := time.Since(start)
		want := SumDBSupported
		if key != "" {
			want = SumDBVerified
		}
		for _, r := range res {
			if r.Status != Healthy || r.SumDB != want {
				b.Fatalf("%s: %s, sumdb %s (%s)", r.Name, r.Status, r.SumDB, r.SumDBDetail)
			}
		}
		return d
	}
	var plain, verified time.Duration
	b.ResetTimer()
	for b.Loop() {
		plain = max(plain, run(""))
		verified = max(verified, run(db.VerifierKey))
	}
	b.ReportMetric(float64(plain.Milliseconds()), "plain-ms")
	b.ReportMetric(float64(verified.Milliseconds()), "verified-ms")
	b.ReportMetric(verified.Seconds()/plain.Seconds(), "ratio")
}
