package mirror

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func res(name string, st Status, lat time.Duration, sum SumDBSupport) Result {
	return Result{Candidate: Candidate{Name: name, URL: "https://" + name + ".example/"}, Status: st, Latency: lat, SumDB: sum, SumDBLatency: lat}
}

func TestChooseOrder(t *testing.T) {
	ms := time.Millisecond
	results := []Result{
		res("slowb", Slow, 900*ms, SumDBUnsupported),
		res("far", Healthy, 150*ms, SumDBVerified),
		res("broken", Failing, 5*ms, SumDBVerified),
		res("near", Healthy, 10*ms, SumDBUnsupported),
		res("gone", Unreachable, 0, SumDBUnknown),
		res("slowa", Slow, 700*ms, SumDBUnsupported),
	}
	tests := []struct {
		name    string
		o       ChooseOptions
		goproxy string
		gosumdb string
		via     string
	}{
		{"direct last", ChooseOptions{GOSUMDB: "sum.example"},
			"https://near.example/|https://far.example/|https://slowa.example/|https://slowb.example/|direct", "", "https://far.example/"},
		{"no direct", ChooseOptions{NoDirect: true, GOSUMDB: "sum.example"},
			"https://near.example/|https://far.example/|https://slowa.example/|https://slowb.example/", "", "https://far.example/"},
		{"sumdb off turned back on", ChooseOptions{GOSUMDB: "off", DefaultGOSUMDB: "sum.example"},
			"https://near.example/|https://far.example/|https://slowa.example/|https://slowb.example/|direct", "sum.example", "https://far.example/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Choose(results, tt.o)
			if d.GOPROXY != tt.goproxy || d.GOSUMDB != tt.gosumdb || d.SumDBVia != tt.via {
				t.Errorf("got GOPROXY=%q GOSUMDB=%q via %q\nwant GOPROXY=%q GOSUMDB=%q via %q", d.GOPROXY, d.GOSUMDB, d.SumDBVia, tt.goproxy, tt.gosumdb, tt.via)
			}
			if strings.Contains(d.GOPROXY, ",") {
				t.Errorf("GOPROXY %q uses ',' which falls back only on 404/410", d.GOPROXY)
			}
		})
	}
}

// TestChooseNothingUsable: with every candidate dead, GOPROXY is kept as
// it is, never replaced with direct, and said so.
func TestChooseNothingUsable(t *testing.T) {
	results := []Result{res("gone", Unreachable, 0, SumDBUnknown), res("broken", Failing, 0, SumDBError)}
	current := "https://gone.example/|https://corp.example,direct"
	for _, nd := range []bool{false, true} {
		for _, prefer := range []bool{false, true} {
			d := Choose(results, ChooseOptions{GOSUMDB: "sum.example", Current: current, NoDirect: nd, PreferCurrent: prefer})
			if !d.KeepGOPROXY || d.GOPROXY != current || !d.NothingUsable() {
				t.Errorf("NoDirect=%v PreferCurrent=%v: keep=%v GOPROXY=%q, want %q kept", nd, prefer, d.KeepGOPROXY, d.GOPROXY, current)
			}
			if len(d.Vars()) != 0 {
				t.Errorf("exports %v, want nothing", d.Vars())
			}
			if !strings.Contains(d.Why, "not replaced with direct") {
				t.Errorf("why = %q", d.Why)
			}
			if len(d.Chain) != 1 || d.Chain[0].Name != "gone" {
				t.Errorf("chain %v, want the probed proxy of the kept GOPROXY", d.Chain)
			}
		}
	}
	// GOSUMDB=off is still turned back on.
	d := Choose(results, ChooseOptions{GOSUMDB: "off", DefaultGOSUMDB: "sum.example", Current: current})
	if diff := cmp.Diff([]Var{{"GOSUMDB", "sum.example"}}, d.Vars()); diff != "" {
		t.Error(diff)
	}
}

func TestChooseSumDBAlternative(t *testing.T) {
	ms := time.Millisecond
	results := []Result{
		res("near", Healthy, 10*ms, SumDBUnsupported),
		res("modsbroken", Failing, 30*ms, SumDBVerified),
		res("modsbroken2", Failing, 20*ms, SumDBVerified),
		res("unverified", Failing, 10*ms, SumDBSupported),
		res("gone", Unreachable, 0, SumDBVerified),
	}
	d := Choose(results, ChooseOptions{GOSUMDB: "sum.example+k3y"})
	want := "sum.example+k3y https://modsbroken2.example/sumdb/sum.example"
	if d.GOSUMDB != want {
		t.Errorf("GOSUMDB = %q, want %q", d.GOSUMDB, want)
	}
	// No candidate answers for the database: the go command goes direct,
	// and GOSUMDB is left alone.
	d = Choose(results[:1], ChooseOptions{GOSUMDB: "sum.example"})
	if d.GOSUMDB != "" || d.SumDBVia != "" || len(d.Notes) == 0 {
		t.Errorf("got GOSUMDB=%q via %q notes %q", d.GOSUMDB, d.SumDBVia, d.Notes)
	}
	// A GOSUMDB that already names an endpoint is kept.
	d = Choose(results[:1], ChooseOptions{GOSUMDB: "sum.example https://sum.mirror.example"})
	if d.GOSUMDB != "" || d.SumDBVia != "https://sum.mirror.example" {
		t.Errorf("got GOSUMDB=%q via %q", d.GOSUMDB, d.SumDBVia)
	}
}

func TestChoosePrivate(t *testing.T) {
	results := []Result{res("near", Healthy, time.Millisecond, SumDBVerified)}
	d := Choose(results, ChooseOptions{GOSUMDB: "sum.example", Private: "git.corp.example,github.com/corp", PrivateSet: true})
	want := []Var{
		{"GOPROXY", "https://near.example/|direct"},
		{"GOPRIVATE", "git.corp.example,github.com/corp"},
		{"GONOPROXY", "git.corp.example,github.com/corp"},
		{"GONOSUMDB", "git.corp.example,github.com/corp"},
	}
	if diff := cmp.Diff(want, d.Vars()); diff != "" {
		t.Error(diff)
	}
	d = Choose(results, ChooseOptions{GOSUMDB: "sum.example"})
	if diff := cmp.Diff([]Var{{"GOPROXY", "https://near.example/|direct"}}, d.Vars()); diff != "" {
		t.Error(diff)
	}
}

// TestChooseLyingMirror: a mirror that says it serves the checksum
// database but whose lookup did not verify is never the one the go command
// uses for it.
func TestChooseLyingMirror(t *testing.T) {
	ms := time.Millisecond
	liar := res("liar", Healthy, 5*ms, SumDBInvalid)
	liar.SumDBDetail = "lookup example.com/m@v1.0.0 did not verify: malformed note"
	unproven := res("unproven", Healthy, 6*ms, SumDBSupported)
	unproven.SumDBDetail = "lookup example.com/m@v1.0.0 did not finish: no answer before the timeout"
	honest := res("honest", Healthy, 30*ms, SumDBVerified)
	plain := res("plain", Healthy, 8*ms, SumDBUnsupported)
	ep := Endpoint{URL: "https://sum.mirror.example", OK: true, Latency: 20 * ms}
	tests := []struct {
		name      string
		results   []Result
		endpoints []Endpoint
		gosumdb   string
		via       string
		note      string
	}{
		{"liar then honest", []Result{liar, honest}, nil,
			"sum.example https://honest.example/sumdb/sum.example", "https://honest.example/sumdb/sum.example", "liar answers for the checksum database, but lookup example.com/m@v1.0.0 did not verify"},
		{"liar behind a plain mirror", []Result{plain, liar, honest}, nil,
			"sum.example https://honest.example/sumdb/sum.example", "https://honest.example/sumdb/sum.example", "GOSUMDB names honest (verified) instead"},
		{"liar and a verified endpoint", []Result{liar}, []Endpoint{ep},
			"sum.example https://sum.mirror.example", "https://sum.mirror.example", "GOSUMDB names https://sum.mirror.example (verified)"},
		{"liar alone", []Result{liar}, nil,
			"sum.example https://sum.example", "https://sum.example", "GOSUMDB names the database's own URL"},
		{"unproven then honest", []Result{unproven, honest}, nil,
			"sum.example https://honest.example/sumdb/sum.example", "https://honest.example/sumdb/sum.example", "did not finish"},
		{"unproven alone", []Result{unproven}, nil,
			"", "", "was not verified"},
		{"honest first", []Result{res("honest", Healthy, 2*ms, SumDBVerified), liar}, nil,
			"", "https://honest.example/", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Choose(tt.results, ChooseOptions{GOSUMDB: "sum.example", SumDBEndpoints: tt.endpoints})
			if d.GOSUMDB != tt.gosumdb || d.SumDBVia != tt.via {
				t.Errorf("GOSUMDB=%q via %q, want %q via %q", d.GOSUMDB, d.SumDBVia, tt.gosumdb, tt.via)
			}
			if notes := strings.Join(d.Notes, "\n"); !strings.Contains(notes, tt.note) {
				t.Errorf("notes %q, want one containing %q", notes, tt.note)
			}
			if strings.Contains(d.SumDBVia, "liar") || strings.Contains(d.GOSUMDB, "liar") {
				t.Errorf("the lying mirror serves the checksum database: %q", d.GOSUMDB)
			}
		})
	}
}

// TestChoosePreferCurrent: mirrors: auto keeps a healthy current GOPROXY
// within the margin and switches only when it measurably helps.
func TestChoosePreferCurrent(t *testing.T) {
	ms := time.Millisecond
	cur := func(st Status, lat time.Duration) Result {
		r := res("current", st, lat, SumDBUnsupported)
		r.URL = "https://corp.example/go"
		return r
	}
	near := res("near", Healthy, 10*ms, SumDBUnsupported)
	slowNear := res("near", Slow, 1200*ms, SumDBUnsupported)
	tests := []struct {
		name    string
		current string
		results []Result
		keep    bool
		why     string
	}{
		{"best is current", "https://corp.example/go|direct", []Result{cur(Healthy, 5*ms), near}, true, "is the best candidate"},
		{"within ratio", "https://corp.example/go|direct", []Result{cur(Healthy, 19*ms), near}, true, "within the margin"},
		{"ratio but small gain", "https://corp.example/go,direct", []Result{cur(Healthy, 45*ms), near}, true, "within the margin"},
		{"much faster", "https://corp.example/go|direct", []Result{cur(Healthy, 200*ms), near}, false, "switching saves 190ms a request"},
		{"current slow", "https://corp.example/go", []Result{cur(Slow, 1500*ms), near}, false, "is slow (1.50s), near is healthy"},
		{"both slow, close", "https://corp.example/go", []Result{cur(Slow, 1500*ms), slowNear}, true, "within the margin"},
		{"current failing", "https://corp.example/go", []Result{cur(Failing, 0), near}, false, "is failing: switching to near"},
		{"current not probed", "https://other.example", []Result{near}, false, "was not measured"},
		{"direct", "direct", []Result{near}, false, "GOPROXY=direct has no mirror"},
		{"off", "off", []Result{near}, true, "GOPROXY=off forbids downloads"},
		{"file", "file:///cache|https://corp.example/go", []Result{near}, true, "local file:// proxy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Choose(tt.results, ChooseOptions{GOSUMDB: "sum.example", Current: tt.current, PreferCurrent: true})
			if d.KeepGOPROXY != tt.keep || !strings.Contains(d.Why, tt.why) {
				t.Errorf("keep=%v why %q; want keep=%v why containing %q", d.KeepGOPROXY, d.Why, tt.keep, tt.why)
			}
			exported := len(d.Vars()) > 0 && d.Vars()[0].Name == "GOPROXY"
			switch {
			case tt.keep && (d.GOPROXY != tt.current || exported):
				t.Errorf("kept, but GOPROXY=%q exported=%v", d.GOPROXY, exported)
			case !tt.keep && (!exported || !strings.HasPrefix(d.GOPROXY, "https://near.example/")):
				t.Errorf("switched, but GOPROXY=%q exported=%v", d.GOPROXY, exported)
			}
			// Without PreferCurrent the measured chain always wins.
			d = Choose(tt.results, ChooseOptions{GOSUMDB: "sum.example", Current: tt.current})
			if d.KeepGOPROXY {
				t.Errorf("kept without PreferCurrent: %q", d.Why)
			}
		})
	}
	// The margin is an option.
	d := Choose([]Result{cur(Healthy, 19*ms), near}, ChooseOptions{Current: "https://corp.example/go", PreferCurrent: true, SwitchRatio: 1.5, SwitchMin: 5 * ms})
	if d.KeepGOPROXY {
		t.Errorf("kept with a smaller margin: %q", d.Why)
	}
}
