package mirror

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/modhygiene/modhygiene/internal/ci"
)

// ChooseOptions are the inputs of Choose besides the measurements. The zero
// value puts direct last, leaves GOSUMDB and the private patterns alone,
// and always switches to the measured chain when a candidate is usable.
type ChooseOptions struct {
	// NoDirect leaves "direct" off the end of the chain.
	NoDirect bool
	// GOSUMDB is the current GOSUMDB as the go command sees it.
	GOSUMDB string
	// DefaultGOSUMDB is the go command's default GOSUMDB, exported instead
	// of a current value of "off".
	DefaultGOSUMDB string
	// SumDBEndpoints are alternative endpoints of the checksum database
	// (see Prober.ProbeEndpoints); the fastest verified one is used when
	// no mirror of the chain can be trusted with the database.
	SumDBEndpoints []Endpoint
	// Private, when PrivateSet, are the GOPRIVATE patterns to export (also
	// as GONOPROXY and GONOSUMDB); otherwise the environment's own private
	// patterns stay in force and are not exported. Check them with
	// CheckPrivate first.
	Private    string
	PrivateSet bool
	// Current is GOPROXY as the go command sees it now. When no candidate
	// is usable, Choose keeps it (Decision.KeepGOPROXY) instead of
	// replacing it with direct: it may work better than its probe suggests
	// (a private network's proxy).
	Current string
	// PreferCurrent keeps Current unless switching measurably helps (what
	// `mirrors: auto` wants): Current is kept while its first proxy is
	// healthy and the best candidate is not faster by the margin
	// (SwitchRatio and SwitchMin), or while it is off or starts with a
	// file:// proxy. It switches when that proxy is slow and a healthy one
	// exists, fails, was not measured, or when Current is direct.
	PreferCurrent bool
	// SwitchRatio and SwitchMin are the margin of PreferCurrent: the best
	// candidate replaces a current proxy of the same status only when its
	// median latency is at most the current's divided by SwitchRatio and
	// at least SwitchMin lower. Zero means DefaultSwitchRatio and
	// DefaultSwitchMin.
	SwitchRatio float64
	SwitchMin   time.Duration
}

// The default margin of ChooseOptions.PreferCurrent: switching must make
// each request at least twice as fast and save at least 50ms, a gain that
// shows in a cold download of a few hundred modules; anything less is
// noise between two probes.
const (
	DefaultSwitchRatio = 2.0
	DefaultSwitchMin   = 50 * time.Millisecond
)

// Decision is what Choose decided. Its URLs may carry credentials, as the
// exported variables must; print or store it only through Redacted,
// RedactedGOPROXY, StepOutputs, WriteTable or WriteJSON.
type Decision struct {
	// GOPROXY is the GOPROXY in effect after the decision: the chosen
	// chain (usable mirrors by latency joined with "|", then "direct"
	// unless NoDirect), or, when KeepGOPROXY, the current one.
	GOPROXY string `json:"goproxy"`
	// KeepGOPROXY says to leave GOPROXY as it is: it is not exported. It
	// is set when no candidate is usable, and with PreferCurrent when the
	// current GOPROXY is good enough. Why says which.
	KeepGOPROXY bool `json:"keep_goproxy,omitempty"`
	// Why explains the choice of GOPROXY in one sentence, for a person.
	Why string `json:"why"`
	// Chain are the probed mirrors of GOPROXY, in order.
	Chain []Result `json:"chain"`
	// GOSUMDB is the value to export, or "" to leave GOSUMDB as it is. It is
	// never "off".
	GOSUMDB string `json:"gosumdb,omitempty"`
	// SumDBVia is the URL the go command will reach the checksum database
	// through: the first mirror of the chain that serves it (only when a
	// lookup through it verified), or the endpoint GOSUMDB names; empty
	// when the go command reaches the database directly.
	SumDBVia string `json:"sumdb_via,omitempty"`
	// Private are the private patterns to export, when PrivateSet.
	Private    string `json:"private,omitempty"`
	PrivateSet bool   `json:"private_set,omitempty"`
	// Results are every candidate's measurements, in candidate order.
	Results []Result `json:"results"`
	// SumDBEndpoints are the alternative checksum-database endpoints asked.
	SumDBEndpoints []Endpoint `json:"sumdb_endpoints,omitempty"`
	// Notes explain the choice for a person.
	Notes []string `json:"notes,omitempty"`
}

// NothingUsable reports whether no candidate was healthy or slow.
func (d *Decision) NothingUsable() bool {
	for _, r := range d.Results {
		if r.Status.usable() {
			return false
		}
	}
	return true
}

// Choose orders the healthy mirrors by median latency, then the slow ones
// (a `|` chain only moves on when a mirror fails, so a slow mirror at the
// tail costs nothing while a faster one works, and still beats going
// direct), and appends "direct" unless o.NoDirect. Failing and unreachable
// candidates are left out. When none is usable, or o.PreferCurrent finds
// the current GOPROXY good enough, GOPROXY is kept (KeepGOPROXY).
//
// The checksum database stays on, and only a mirror whose lookup verified
// (SumDBVerified) is trusted with it. When GOSUMDB is off, the go
// command's default is exported instead. The go command reaches the
// database through the first mirror of GOPROXY that answers it serves it;
// when that mirror is not verified, GOSUMDB names the same database (same
// name and key) at a verified URL instead: a verified mirror, the fastest
// verified endpoint (o.SumDBEndpoints) or another verified candidate, or,
// when the mirror's answers were wrong and none is verified, the
// database's own URL. When no mirror serves the database, a verified
// endpoint or candidate is used the same way if there is one.
func Choose(results []Result, o ChooseOptions) Decision {
	d := Decision{Results: results, Private: o.Private, PrivateSet: o.PrivateSet, SumDBEndpoints: o.SumDBEndpoints}
	chain := usableByLatency(results)
	keep, why := keepCurrent(results, chain, o)
	switch {
	case keep:
		d.KeepGOPROXY, d.GOPROXY, d.Why = true, o.Current, why
		d.Chain = probedOf(results, o.Current)
	case len(chain) == 0:
		d.KeepGOPROXY, d.GOPROXY = true, o.Current
		d.Why = "no candidate is usable: GOPROXY stays as it is (not replaced with direct)"
		d.Chain = probedOf(results, o.Current)
	default:
		d.Chain = chain
		var parts []string
		for _, r := range chain {
			parts = append(parts, r.URL)
		}
		d.Why = "healthy mirrors by latency, then slow ones"
		if !o.NoDirect {
			parts = append(parts, "direct")
			d.Why += ", then direct"
		}
		if why != "" {
			d.Why = why
		}
		d.GOPROXY = strings.Join(parts, "|")
	}
	routeSumDB(&d, results, o)
	return d
}

// usableByLatency returns the healthy results by latency, then the slow.
func usableByLatency(results []Result) []Result {
	var chain []Result
	for _, r := range results {
		if r.Status.usable() {
			chain = append(chain, r)
		}
	}
	rank := map[Status]int{Healthy: 0, Slow: 1}
	sort.SliceStable(chain, func(i, j int) bool {
		a, b := chain[i], chain[j]
		if rank[a.Status] != rank[b.Status] {
			return rank[a.Status] < rank[b.Status]
		}
		return a.Latency < b.Latency
	})
	return chain
}

// keepCurrent decides, for PreferCurrent, whether the current GOPROXY
// stays, and says why either way ("" when there is nothing to say).
func keepCurrent(results, chain []Result, o ChooseOptions) (bool, string) {
	if !o.PreferCurrent || len(chain) == 0 {
		return false, ""
	}
	cur := strings.TrimSpace(o.Current)
	first := firstEntry(cur)
	best := chain[0]
	switch {
	case first == "":
		return false, ""
	case first == "off":
		return true, "GOPROXY=off forbids downloads: kept"
	case strings.HasPrefix(first, "file://"):
		return true, "GOPROXY starts with a local file:// proxy: kept"
	case first == "direct":
		return false, "GOPROXY=direct has no mirror to fall back on: switching to " + best.Label()
	}
	r := findResult(results, first)
	switch {
	case r == nil:
		return false, "the current GOPROXY's " + ci.RedactURL(first) + " was not measured: switching to " + best.Label()
	case !r.Status.usable():
		return false, fmt.Sprintf("the current GOPROXY's %s is %s: switching to %s", r.Label(), r.Status, best.Label())
	case sameBase(r.URL, best.URL):
		return true, fmt.Sprintf("the current GOPROXY's %s is the best candidate (%s): kept", r.Label(), fmtDuration(r.Latency))
	case r.Status == Slow && best.Status == Healthy:
		return false, fmt.Sprintf("the current GOPROXY's %s is slow (%s), %s is healthy (%s): switching", r.Label(), fmtDuration(r.Latency), best.Label(), fmtDuration(best.Latency))
	case worthSwitching(r.Latency, best.Latency, o):
		return false, fmt.Sprintf("%s answers in %s, the current GOPROXY's %s in %s: switching saves %s a request", best.Label(), fmtDuration(best.Latency), r.Label(), fmtDuration(r.Latency), fmtDuration(r.Latency-best.Latency))
	}
	return true, fmt.Sprintf("the current GOPROXY's %s (%s) is within the margin of the best candidate %s (%s): kept", r.Label(), fmtDuration(r.Latency), best.Label(), fmtDuration(best.Latency))
}

// worthSwitching applies the margin of PreferCurrent.
func worthSwitching(cur, best time.Duration, o ChooseOptions) bool {
	ratio, min := o.SwitchRatio, o.SwitchMin
	if ratio <= 0 {
		ratio = DefaultSwitchRatio
	}
	if min <= 0 {
		min = DefaultSwitchMin
	}
	return float64(best)*ratio <= float64(cur) && cur-best >= min
}

// firstEntry returns the first entry of a GOPROXY list.
func firstEntry(goproxy string) string {
	for _, f := range strings.FieldsFunc(goproxy, func(r rune) bool { return r == ',' || r == '|' }) {
		if f = strings.TrimSpace(f); f != "" {
			return f
		}
	}
	return ""
}

func sameBase(a, b string) bool { return strings.TrimRight(a, "/") == strings.TrimRight(b, "/") }

// findResult returns the result probed for proxy URL u, or nil.
func findResult(results []Result, u string) *Result {
	for i := range results {
		if sameBase(results[i].URL, u) {
			return &results[i]
		}
	}
	return nil
}

// probedOf returns the results of the proxies of a GOPROXY value, in order.
func probedOf(results []Result, goproxy string) []Result {
	var out []Result
	for _, u := range ProxyURLs(goproxy) {
		if r := findResult(results, u); r != nil {
			out = append(out, *r)
		}
	}
	return out
}
