package proxy

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/modhygiene/modhygiene/internal/human"
)

// source counts the answers served from one place.
type source struct {
	hits, bytes atomic.Int64
}

func (c *source) add(n int64) {
	c.hits.Add(1)
	c.bytes.Add(n)
}

func (c *source) snapshot() Count { return Count{Hits: c.hits.Load(), Bytes: c.bytes.Load()} }

// counters are the server's running totals.
type counters struct {
	requests, notFound, failed, private atomic.Int64
	local, cache, fetched, joined       source
	storeRead, shared                   source
	hedges, hedgesWon                   atomic.Int64
	rejected, unverified, sharePrivate  atomic.Int64
	shareExisting                       atomic.Int64
}

// Count is a number of answers and their bytes.
type Count struct {
	Hits  int64 `json:"hits"`
	Bytes int64 `json:"bytes"`
}

// MirrorStats is what one upstream did in the run.
type MirrorStats struct {
	// Name is the mirror's label: its name, or its URL without
	// credentials.
	Name string `json:"name"`
	// Requests is how many requests the proxy sent it.
	Requests int64 `json:"requests"`
	// Hits and Bytes count the answers of it that were used.
	Hits  int64 `json:"hits"`
	Bytes int64 `json:"bytes"`
	// NotFound counts its 404 and 410 answers.
	NotFound int64 `json:"not_found"`
	// Failures counts its errors, stalls and invalid answers.
	Failures int64 `json:"failures"`
	// Cancelled counts its answers abandoned because another won.
	Cancelled int64 `json:"cancelled"`
	// Stalls counts the times it had not answered within its hedge delay
	// when another mirror's answer was used; it was then asked after the
	// others until its late answer came.
	Stalls int64 `json:"stalls"`
	// P50 and P95 are percentiles of its time to the response headers.
	P50 time.Duration `json:"p50_ns"`
	P95 time.Duration `json:"p95_ns"`
	// Demoted says why it was moved to the back of the order, if it was.
	Demoted string `json:"demoted,omitempty"`
}

// Stats is what the proxy served and from where. Requests is every request
// received; each one answered with content counts once in Local, Cache,
// Store or Fetched, or in Joined when it shared another request's fetch.
type Stats struct {
	// Uptime is how long the server has run.
	Uptime time.Duration `json:"uptime_ns"`
	// Requests counts every request received.
	Requests int64 `json:"requests"`
	// NotFound counts 404 answers, Failed 502 answers, Private the
	// not-found answers for private modules (GONOPROXY).
	NotFound int64 `json:"not_found"`
	Failed   int64 `json:"failed"`
	Private  int64 `json:"private"`
	// Local are answers from the local module cache; Cache from the
	// proxy's own directory and memory; Store from the shared store;
	// Fetched from the mirrors; Joined shared a concurrent identical
	// request's fetch.
	Local   Count `json:"local"`
	Cache   Count `json:"cache"`
	Store   Count `json:"store"`
	Fetched Count `json:"fetched"`
	Joined  Count `json:"joined"`
	// Hedges counts requests sent to a further mirror because the one
	// asked had not answered within its hedge delay; HedgesWon those whose
	// answer was used.
	Hedges    int64 `json:"hedges"`
	HedgesWon int64 `json:"hedges_won"`
	// Mirrors are the upstreams, the checksum database's own server last.
	Mirrors []MirrorStats `json:"mirrors"`
	// Shared counts the files written to the store after verification;
	// SharedExisting those another runner had written first; Rejected
	// those the checksum database contradicted; Unverified those that
	// could not be verified (no database, no key, database unreachable);
	// SharePrivate the private files never written.
	Shared         Count `json:"shared"`
	SharedExisting int64 `json:"shared_existing"`
	Rejected       int64 `json:"rejected"`
	Unverified     int64 `json:"unverified"`
	SharePrivate   int64 `json:"share_private"`
}

// Stats returns the totals so far.
func (s *Server) Stats() Stats {
	st := Stats{
		Uptime:   time.Since(s.started),
		Requests: s.st.requests.Load(), NotFound: s.st.notFound.Load(),
		Failed: s.st.failed.Load(), Private: s.st.private.Load(),
		Local: s.st.local.snapshot(), Cache: s.st.cache.snapshot(), Store: s.st.storeRead.snapshot(),
		Fetched: s.st.fetched.snapshot(), Joined: s.st.joined.snapshot(),
		Hedges: s.st.hedges.Load(), HedgesWon: s.st.hedgesWon.Load(),
		Shared: s.st.shared.snapshot(), SharedExisting: s.st.shareExisting.Load(),
		Rejected: s.st.rejected.Load(), Unverified: s.st.unverified.Load(), SharePrivate: s.st.sharePrivate.Load(),
	}
	ups := append([]*upstream(nil), s.mirrors...)
	if s.direct != nil {
		ups = append(ups, s.direct)
	}
	for _, u := range ups {
		u.mu.Lock()
		ms := MirrorStats{
			Name: u.label, Requests: u.requests.Load(), Hits: u.hits.Load(), Bytes: u.bytes.Load(),
			NotFound: u.notFound.Load(), Failures: u.failures.Load(), Cancelled: u.cancelled.Load(), Stalls: u.stalls.Load(),
			P50: percentile(u.all, 50), P95: percentile(u.all, 95),
		}
		if u.demoted {
			ms.Demoted = u.reason
		}
		u.mu.Unlock()
		if u.own && ms.Requests == 0 {
			continue
		}
		st.Mirrors = append(st.Mirrors, ms)
	}
	return st
}

// WriteJSON writes the stats as one JSON object.
func (st Stats) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(st)
}

// ReadStats reads stats written by WriteJSON.
func ReadStats(r io.Reader) (Stats, error) {
	var st Stats
	err := json.NewDecoder(r).Decode(&st)
	return st, err
}

// rows are the table's lines: source, hits, bytes, p50, p95, note.
func (st Stats) rows() [][]string {
	count := func(name string, c Count) []string {
		return []string{name, fmt.Sprint(c.Hits), human.Bytes(c.Bytes), "", "", ""}
	}
	rows := [][]string{
		count("local module cache", st.Local),
		count("proxy cache", st.Cache),
		count("shared store", st.Store),
		count("joined a concurrent fetch", st.Joined),
	}
	for _, m := range st.Mirrors {
		note := fmt.Sprintf("%d requests", m.Requests)
		if m.NotFound+m.Failures+m.Stalls > 0 {
			note += fmt.Sprintf(", %d not found, %d failed, %d stalled", m.NotFound, m.Failures, m.Stalls)
		}
		if m.Demoted != "" {
			note += "; demoted: " + m.Demoted
		}
		rows = append(rows, []string{"mirror " + m.Name, fmt.Sprint(m.Hits), human.Bytes(m.Bytes), ms(m.P50), ms(m.P95), note})
	}
	return rows
}

// summary is the lines above and below the table.
func (st Stats) summary() (head, foot string) {
	head = fmt.Sprintf("%d requests in %s: %d not found (%d private, never sent to a mirror), %d failed",
		st.Requests, st.Uptime.Round(time.Second), st.NotFound, st.Private, st.Failed)
	foot = fmt.Sprintf("hedges: %d fired, %d won; store: %d written (%s), %d already there, %d rejected by the checksum database, %d unverified, %d private kept out",
		st.Hedges, st.HedgesWon, st.Shared.Hits, human.Bytes(st.Shared.Bytes), st.SharedExisting, st.Rejected, st.Unverified, st.SharePrivate)
	return head, foot
}

// WriteText writes the stats as a table for a terminal or a log.
func (st Stats) WriteText(w io.Writer) error {
	head, foot := st.summary()
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, head)
	fmt.Fprintln(tw, "source\thits\tbytes\tp50\tp95\t")
	for _, r := range st.rows() {
		fmt.Fprintln(tw, strings.Join(r[:5], "\t")+"\t"+r[5])
	}
	fmt.Fprintln(tw, foot)
	return tw.Flush()
}

// WriteMarkdown writes the stats as a Markdown table, for a job summary.
func (st Stats) WriteMarkdown(w io.Writer) error {
	head, foot := st.summary()
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n| source | hits | bytes | p50 | p95 | note |\n|---|---:|---:|---:|---:|---|\n", head)
	for _, r := range st.rows() {
		for i := range r {
			r[i] = strings.ReplaceAll(r[i], "|", "\\|")
		}
		fmt.Fprintf(&b, "| %s |\n", strings.Join(r, " | "))
	}
	fmt.Fprintf(&b, "\n%s\n", foot)
	_, err := io.WriteString(w, b.String())
	return err
}

func ms(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return fmt.Sprintf("%dms", d.Round(time.Millisecond).Milliseconds())
}

// Summary is one line for a report: the requests and where they were
// answered from.
func (st Stats) Summary() string {
	var mirrors int64
	for _, m := range st.Mirrors {
		mirrors += m.Hits
	}
	return fmt.Sprintf("%d requests: %d from the local module cache, %d from the proxy cache, %d from the shared store, %d from mirrors; %d hedges fired, %d won; %d written to the store",
		st.Requests, st.Local.Hits, st.Cache.Hits, st.Store.Hits, mirrors, st.Hedges, st.HedgesWon, st.Shared.Hits)
}

// Source is where some of the proxy's answers came from, for a chart.
type Source struct {
	Name string
	Hits int64
}

// Sources lists where the answers came from: the local module cache, the
// proxy's own cache, the shared store, and each mirror by name (without
// its scheme).
func (st Stats) Sources() []Source {
	out := []Source{{"local module cache", st.Local.Hits}, {"proxy cache", st.Cache.Hits}, {"shared store", st.Store.Hits}}
	for _, m := range st.Mirrors {
		name := strings.TrimPrefix(strings.TrimPrefix(m.Name, "https://"), "http://")
		out = append(out, Source{"mirror " + name, m.Hits})
	}
	return out
}
