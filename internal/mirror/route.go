package mirror

import (
	"strings"

	"github.com/modhygiene/modhygiene/internal/ci"
)

// routeSumDB decides how the go command reaches the checksum database
// (see Choose) and sets d.GOSUMDB, d.SumDBVia and the notes.
func routeSumDB(d *Decision, results []Result, o ChooseOptions) {
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
		return
	}
	defer noteGoSumMismatch(d, results)
	f := strings.Fields(sumdb)
	if len(f) > 1 {
		// GOSUMDB names its own endpoint: the go command asks no proxy.
		d.SumDBVia = f[1]
		return
	}
	// The go command uses the first proxy of GOPROXY that says it serves
	// the database ("|" moves on past any error).
	var used *Result
	for i := range d.Chain {
		switch d.Chain[i].SumDB {
		case SumDBVerified, SumDBSupported, SumDBInvalid:
			used = &d.Chain[i]
		}
		if used != nil {
			break
		}
	}
	if used != nil && used.SumDB == SumDBVerified {
		d.SumDBVia = used.URL
		return
	}
	target, label := verifiedTarget(d, results, name)
	pin := func(url, note string) {
		d.SumDBVia = url
		d.GOSUMDB = f[0] + " " + url
		d.Notes = append(d.Notes, note)
	}
	switch {
	case used == nil && target == "":
		d.Notes = append(d.Notes, "no mirror in the chain serves the checksum database: the go command reaches it directly")
	case used == nil:
		pin(target, "no mirror in the chain serves the checksum database; "+label+" does (verified), so GOSUMDB points there (same name and key)")
	case target != "":
		pin(target, used.Label()+" answers for the checksum database, but "+sumdbDetail(used)+"; GOSUMDB names "+label+" (verified) instead, so the go command does not use it")
	case used.SumDB == SumDBInvalid:
		pin("https://"+name, used.Label()+" answers for the checksum database, but "+sumdbDetail(used)+"; GOSUMDB names the database's own URL, so the go command does not use it")
	default:
		d.Notes = append(d.Notes, used.Label()+" serves the checksum database but was not verified ("+sumdbDetail(used)+"); the go command checks every answer itself")
	}
}

// verifiedTarget returns the best verified URL of the database besides the
// chain's first server of it, with a label for a person: a verified
// mirror of the chain, else the fastest verified endpoint, else the
// fastest verified candidate outside the chain that answered.
func verifiedTarget(d *Decision, results []Result, name string) (url, label string) {
	for _, r := range d.Chain {
		if r.SumDB == SumDBVerified {
			return r.base() + "/sumdb/" + name, r.Label()
		}
	}
	var ep *Endpoint
	for i := range d.SumDBEndpoints {
		e := &d.SumDBEndpoints[i]
		if e.OK && (ep == nil || e.Latency < ep.Latency) {
			ep = e
		}
	}
	if ep != nil {
		return ep.URL, ci.RedactURL(ep.URL)
	}
	var alt *Result
	for i := range results {
		r := &results[i]
		if r.SumDB == SumDBVerified && r.Status != Unreachable && (alt == nil || r.SumDBLatency < alt.SumDBLatency) {
			alt = r
		}
	}
	if alt != nil {
		return alt.base() + "/sumdb/" + name, alt.Label()
	}
	return "", ""
}

// noteGoSumMismatch notes, once, a go.sum that disagrees with a verified
// record of the database: the go command trusts go.sum over the database,
// so the altered line is what would be used.
func noteGoSumMismatch(d *Decision, results []Result) {
	for _, r := range results {
		if r.SumDB == SumDBVerified && r.SumDBGoSum != "" && r.SumDBGoSum != "match" {
			d.Notes = append(d.Notes, r.SumDBGoSum+" (verified through "+r.Label()+"): check go.sum")
			return
		}
	}
}

// sumdbDetail says what the check of r's database showed.
func sumdbDetail(r *Result) string {
	if r.SumDBDetail == "" {
		return "it was not checked"
	}
	return r.SumDBDetail
}
