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
		res("far", Healthy, 150*ms, SumDBSupported),
		res("broken", Failing, 5*ms, SumDBSupported),
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

func TestChooseNothingUsable(t *testing.T) {
	results := []Result{res("gone", Unreachable, 0, SumDBUnknown), res("broken", Failing, 0, SumDBError)}
	d := Choose(results, ChooseOptions{GOSUMDB: "sum.example"})
	if d.GOPROXY != "direct" || len(d.Chain) != 0 {
		t.Errorf("got %q, want direct", d.GOPROXY)
	}
	d = Choose(results, ChooseOptions{NoDirect: true, GOSUMDB: "sum.example"})
	if d.GOPROXY != "" || len(d.Vars()) != 0 {
		t.Errorf("got %q and vars %v, want nothing to export", d.GOPROXY, d.Vars())
	}
}

func TestChooseSumDBAlternative(t *testing.T) {
	ms := time.Millisecond
	results := []Result{
		res("near", Healthy, 10*ms, SumDBUnsupported),
		res("modsbroken", Failing, 30*ms, SumDBSupported),
		res("modsbroken2", Failing, 20*ms, SumDBSupported),
		res("gone", Unreachable, 0, SumDBSupported),
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
	results := []Result{res("near", Healthy, time.Millisecond, SumDBSupported)}
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
