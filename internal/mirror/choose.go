package mirror

import (
	"sort"
	"strings"
)

// ChooseOptions are the inputs of Choose besides the measurements. The zero
// value puts direct last and leaves GOSUMDB and the private patterns alone.
type ChooseOptions struct {
	// NoDirect leaves "direct" off the end of the chain.
	NoDirect bool
	// GOSUMDB is the current GOSUMDB as the go command sees it.
	GOSUMDB string
	// DefaultGOSUMDB is the go command's default GOSUMDB, exported instead
	// of a current value of "off".
	DefaultGOSUMDB string
	// SumDBEndpoints are alternative endpoints of the checksum database
	// (see Prober.ProbeEndpoints); the fastest that answered is used when
	// no mirror of the chain serves the database.
	SumDBEndpoints []Endpoint
	// Private, when PrivateSet, are the GOPRIVATE patterns to export (also
	// as GONOPROXY and GONOSUMDB); otherwise the environment's own private
	// patterns stay in force and are not exported.
	Private    string
	PrivateSet bool
}

// Decision is what Choose decided.
type Decision struct {
	// GOPROXY is the chosen chain: usable mirrors by latency joined with
	// "|", then "direct" unless NoDirect. It is empty when nothing is usable
	// and direct is not allowed.
	GOPROXY string `json:"goproxy"`
	// Chain are the mirrors in GOPROXY, in order.
	Chain []Result `json:"chain"`
	// GOSUMDB is the value to export, or "" to leave GOSUMDB as it is. It is
	// never "off".
	GOSUMDB string `json:"gosumdb,omitempty"`
	// SumDBVia is the URL of the first mirror in the chain that serves the
	// checksum database, or of the alternative endpoint in GOSUMDB; empty
	// when the go command will reach the database directly.
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

// Choose orders the healthy mirrors by median latency, then the slow ones
// (a `|` chain only moves on when a mirror fails, so a slow mirror at the
// tail costs nothing while a faster one works, and still beats going
// direct), and appends "direct" unless o.NoDirect. Failing and unreachable
// candidates are left out.
//
// The checksum database stays on. When GOSUMDB is off, the go command's
// default is exported instead. When no mirror of the chain serves the
// database, the go command reaches it directly, unless an alternative
// endpoint answered (o.SumDBEndpoints, the fastest first) or a candidate
// that is not in the chain answered that it serves the database: then
// GOSUMDB names the same database (same name and key) at that endpoint.
func Choose(results []Result, o ChooseOptions) Decision {
	d := Decision{Results: results, Private: o.Private, PrivateSet: o.PrivateSet, SumDBEndpoints: o.SumDBEndpoints}
	for _, r := range results {
		if r.Status.usable() {
			d.Chain = append(d.Chain, r)
		}
	}
	rank := map[Status]int{Healthy: 0, Slow: 1}
	sort.SliceStable(d.Chain, func(i, j int) bool {
		a, b := d.Chain[i], d.Chain[j]
		if rank[a.Status] != rank[b.Status] {
			return rank[a.Status] < rank[b.Status]
		}
		return a.Latency < b.Latency
	})
	var parts []string
	for _, r := range d.Chain {
		parts = append(parts, r.URL)
	}
	if !o.NoDirect {
		parts = append(parts, "direct")
	}
	d.GOPROXY = strings.Join(parts, "|")
	switch {
	case len(d.Chain) == 0 && o.NoDirect:
		d.Notes = append(d.Notes, "no candidate is usable and --direct=false: nothing to export for GOPROXY")
	case len(d.Chain) == 0:
		d.Notes = append(d.Notes, "no candidate is usable: modules are fetched directly from their origins")
	}

	sumdb := strings.TrimSpace(o.GOSUMDB)
	if sumdb == "" || sumdb == "off" {
		if sumdb == "off" {
			d.Notes = append(d.Notes, "GOSUMDB was off: checksum verification is turned back on")
		}
		sumdb = o.DefaultGOSUMDB
		d.GOSUMDB = sumdb
	}
	name := SumDBName(sumdb)
	if name == "" {
		// Without a database name there is nothing to route; the go
		// command's default applies.
		d.GOSUMDB = ""
		return d
	}
	for _, r := range d.Chain {
		if r.SumDB == SumDBSupported {
			d.SumDBVia = r.URL
			return d
		}
	}
	if len(strings.Fields(sumdb)) > 1 {
		// GOSUMDB already names its own endpoint.
		d.SumDBVia = strings.Fields(sumdb)[1]
		return d
	}
	var ep *Endpoint
	for i := range o.SumDBEndpoints {
		e := &o.SumDBEndpoints[i]
		if e.OK && (ep == nil || e.Latency < ep.Latency) {
			ep = e
		}
	}
	var alt *Result
	for i := range results {
		r := &results[i]
		if r.SumDB == SumDBSupported && !r.Status.usable() && r.Status != Unreachable {
			if alt == nil || r.SumDBLatency < alt.SumDBLatency {
				alt = r
			}
		}
	}
	switch {
	case ep != nil:
		d.SumDBVia = ep.URL
		d.GOSUMDB = strings.Fields(sumdb)[0] + " " + ep.URL
		d.Notes = append(d.Notes, "no mirror in the chain serves the checksum database; "+Redact(ep.URL)+" answers for it, so GOSUMDB points there (same name and key)")
	case alt != nil:
		d.SumDBVia = alt.base() + "/sumdb/" + name
		d.GOSUMDB = strings.Fields(sumdb)[0] + " " + d.SumDBVia
		d.Notes = append(d.Notes, "no mirror in the chain serves the checksum database; "+alt.Label()+" does, so GOSUMDB points there (same name and key)")
	default:
		d.Notes = append(d.Notes, "no mirror in the chain serves the checksum database: the go command reaches it directly")
	}
	return d
}
