package proxy

import (
	"io"
	"net/http"
	"sort"
	"time"

	"github.com/modhygiene/modhygiene/internal/cache/store"
	"github.com/modhygiene/modhygiene/internal/mirror"
)

// Mirror is an upstream module proxy and what the probe measured of it.
type Mirror struct {
	// Name labels the mirror in stats and messages; when empty, the URL
	// without its user information is the label.
	Name string `json:"name,omitempty"`
	// URL is the proxy's base URL. User information in it is sent as basic
	// authentication and never printed.
	URL string `json:"url"`
	// Samples are the probe's measured answer times. The hedge delay is
	// derived from them until the run has its own measurements.
	Samples []time.Duration `json:"samples_ns,omitempty"`
	// Demoted starts the mirror at the back of the order, as if it had
	// already failed in this run (a mirror the probe found failing or
	// unreachable).
	Demoted bool `json:"demoted,omitempty"`
}

// MirrorsFromProbe turns the results of mirror.Prober.Probe into the
// mirrors of Options: healthy ones by latency, then slow ones by latency,
// then failing and unreachable ones, demoted (they are asked only when
// every other mirror failed).
func MirrorsFromProbe(results []mirror.Result) []Mirror {
	rank := map[mirror.Status]int{mirror.Healthy: 0, mirror.Slow: 1, mirror.Failing: 2, mirror.Unreachable: 3}
	rs := append([]mirror.Result(nil), results...)
	sort.SliceStable(rs, func(i, j int) bool {
		if rank[rs[i].Status] != rank[rs[j].Status] {
			return rank[rs[i].Status] < rank[rs[j].Status]
		}
		if rank[rs[i].Status] >= 2 {
			return false
		}
		return rs[i].Latency < rs[j].Latency
	})
	out := make([]Mirror, 0, len(rs))
	for _, r := range rs {
		out = append(out, Mirror{
			Name:    r.Name,
			URL:     r.URL,
			Samples: append([]time.Duration(nil), r.Samples...),
			Demoted: r.Status != mirror.Healthy && r.Status != mirror.Slow,
		})
	}
	return out
}

// Options configure a Server. The zero value is a proxy with no mirror, no
// store and no local cache: it answers 404 to everything.
type Options struct {
	// Mirrors are the upstream proxies, fastest first (see
	// MirrorsFromProbe).
	Mirrors []Mirror
	// ModCache is GOMODCACHE: its cache/download directory is served first,
	// at disk speed. Empty means none.
	ModCache string
	// Dir keeps what the proxy fetched from the store and the mirrors, in
	// the GOPROXY layout, and the checksum-database tiles it verified. Empty
	// means a new directory in os.TempDir, removed by Close.
	Dir string
	// Store is the shared store read after the local caches and written,
	// after verification against the checksum database, with what the
	// mirrors served. Nil means none.
	Store store.Store
	// ReadOnly keeps the proxy from writing to Store.
	ReadOnly bool
	// SumDB is the checksum database as GOSUMDB names it, with its key:
	// "name+hash+key" or "name+hash+key URL" (see mirror.SumDBKey). Empty or
	// "off" means no database: nothing is written to Store, because nothing
	// can be verified.
	SumDB string
	// NoProxy is GONOPROXY as the go command sees it (`go env GONOPROXY`,
	// which defaults to GOPRIVATE). Matching modules are never requested
	// from a mirror or the store; the proxy answers 404 for them unless the
	// local caches hold them, and the go command goes direct, as it does by
	// itself.
	NoProxy string
	// NoSumDB is GONOSUMDB as the go command sees it (`go env GONOSUMDB`).
	// Matching modules are never written to Store.
	NoSumDB string
	// Netrc is the content of the .netrc file the go command would read
	// ($NETRC or ~/.netrc): credentials for mirrors whose URL has none.
	Netrc string
	// Client sends the upstream requests; nil means a client with a
	// transport of its own that connects directly (pass a client whose
	// transport has the HTTP proxy of the environment when there is one).
	// Its Timeout should be zero: attempts are bounded by Timeout and
	// Stall.
	Client *http.Client
	// HedgeMin and HedgeMax bound the hedge delay: how long the proxy waits
	// for a mirror's answer before asking the next one too. The delay is
	// three times the mirror's median answer time or its 95th percentile,
	// whichever is larger, within the bounds. Zero means 50ms and 2s.
	HedgeMin, HedgeMax time.Duration
	// Timeout bounds the wait for a mirror's response headers. Zero means
	// two minutes: a mirror may need that long to fetch a large module from
	// its origin, and the go command itself would wait. A mirror that
	// stalls is asked last long before (see Server), so a long Timeout costs
	// only when every mirror is that slow.
	Timeout time.Duration
	// Stall bounds the wait for the next bytes of a response body. Zero
	// means one minute.
	Stall time.Duration
	// ListTTL is how long version lists, @latest, version queries and
	// not-found answers are reused. Zero means one minute.
	ListTTL time.Duration
	// ShareWorkers is the number of concurrent verifications and uploads to
	// Store. Zero means 4.
	ShareWorkers int
	// Log receives one line per notable event (a mirror demoted, a store
	// problem, a checksum mismatch). Nil means no log.
	Log io.Writer
}

func (o *Options) hedgeMin() time.Duration { return orDefault(o.HedgeMin, 50*time.Millisecond) }
func (o *Options) hedgeMax() time.Duration { return orDefault(o.HedgeMax, 2*time.Second) }
func (o *Options) timeout() time.Duration  { return orDefault(o.Timeout, 2*time.Minute) }
func (o *Options) stall() time.Duration    { return orDefault(o.Stall, time.Minute) }
func (o *Options) listTTL() time.Duration  { return orDefault(o.ListTTL, time.Minute) }

func (o *Options) shareWorkers() int {
	if o.ShareWorkers > 0 {
		return o.ShareWorkers
	}
	return 4
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
