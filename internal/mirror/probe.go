package mirror

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/module"

	"github.com/modhygiene/modhygiene/internal/ci"
)

// Status classifies a probed candidate.
type Status string

// The statuses, best first.
const (
	// Healthy answered every request correctly within the slow threshold.
	Healthy Status = "healthy"
	// Slow answered correctly, but its median latency is above the slow
	// threshold.
	Slow Status = "slow"
	// Failing answered, but wrongly: a 5xx or other error status, a body
	// that is not the expected .info, a truncated or stalled body, or no
	// answer to some of the requests.
	Failing Status = "failing"
	// Unreachable never answered: DNS, connection or TLS failure, or no
	// response before the timeout.
	Unreachable Status = "unreachable"
)

// usable reports whether a mirror with this status may go into the chain.
func (s Status) usable() bool { return s == Healthy || s == Slow }

// SumDBSupport says whether a proxy serves the checksum database.
type SumDBSupport string

// The answers of <proxy>/sumdb/<name>/supported.
const (
	// SumDBUnknown means it was not asked (no database name, or the proxy
	// never answered).
	SumDBUnknown SumDBSupport = ""
	// SumDBSupported means the proxy answered 200, but what it serves
	// could not be checked: no public key is known, or the lookup did not
	// finish in time or was not found. It is not trusted for the database.
	SumDBSupported SumDBSupport = "supported"
	// SumDBVerified means the proxy answered 200 and a lookup through it
	// verified against the database's public key (see Prober.SumDBKey).
	// Only such a proxy is trusted for the database.
	SumDBVerified SumDBSupport = "verified"
	// SumDBInvalid means the proxy answered 200 but what it serves did not
	// verify: an error status, a bad signature, a record outside the
	// signed tree. The go command would fail every lookup through it.
	SumDBInvalid SumDBSupport = "invalid"
	// SumDBUnsupported means the proxy answered 404 or 410.
	SumDBUnsupported SumDBSupport = "unsupported"
	// SumDBError means any other answer or a failed request.
	SumDBError SumDBSupport = "error"
)

// Result is the measurement of one candidate.
type Result struct {
	Candidate
	// Status is the classification.
	Status Status `json:"status"`
	// Latency is the median of Samples (0 when there are none).
	Latency time.Duration `json:"latency_ns"`
	// Samples are the durations of the requests that succeeded.
	Samples []time.Duration `json:"samples_ns,omitempty"`
	// Requests is how many measuring requests were sent (concurrently).
	Requests int `json:"requests"`
	// SumDB is the answer to <proxy>/sumdb/<name>/supported.
	SumDB SumDBSupport `json:"sumdb,omitempty"`
	// SumDBLatency is how long that answer took.
	SumDBLatency time.Duration `json:"sumdb_latency_ns,omitempty"`
	// SumDBDetail says what the lookup through the proxy verified, or why
	// it did not.
	SumDBDetail string `json:"sumdb_detail,omitempty"`
	// SumDBGoSum compares the repository's go.sum lines for the probe
	// module with the verified record: "match", or the difference (then
	// go.sum, not the mirror, is wrong); empty when not compared.
	SumDBGoSum string `json:"sumdb_gosum,omitempty"`
	// Notice is something a person should know that is not a failure,
	// such as credentials left out of a plain-http probe.
	Notice string `json:"notice,omitempty"`
	// Error explains a status other than healthy.
	Error string `json:"error,omitempty"`
	// Elapsed is the wall time of the whole probe of this candidate.
	Elapsed time.Duration `json:"elapsed_ns"`
}

// Prober measures candidates. Its zero value is usable: the default
// client, a 3s timeout, 3 requests and a slow threshold of a third of the
// timeout.
type Prober struct {
	// Client sends the requests; nil means http.DefaultClient. Its own
	// Timeout should be zero: every probe is bounded by Timeout through its
	// context.
	Client *http.Client
	// Timeout bounds the probe of each candidate, all requests included.
	// Zero means 3s.
	Timeout time.Duration
	// Slow is the median latency above which a candidate is slow. Zero
	// means Timeout/3.
	Slow time.Duration
	// Modules are the module versions whose .info the requests fetch, in
	// turn (see ProbeModules). When empty, the measuring requests go to the
	// checksum-database endpoint instead, where 404 and 410 count as
	// answers.
	Modules []module.Version
	// Requests is the number of measuring requests per candidate; zero
	// means 3.
	Requests int
	// SumDB is the checksum database's name (the first word of GOSUMDB,
	// without a key); when empty, support for it is not asked.
	SumDB string
	// SumDBKey is the database's verifier key (see SumDBKey). A proxy
	// that answers <proxy>/sumdb/<SumDB>/supported is trusted for the
	// database only after a lookup through it verifies against this key;
	// when empty, none is (its SumDB stays SumDBSupported).
	SumDBKey string
	// SumDBProbe is the module version looked up through each proxy that
	// serves the database (see SumDBProbe); nil checks only the signed tree
	// head of <proxy>/sumdb/<SumDB>/latest.
	SumDBProbe *SumProbe
}

func (p *Prober) client() *http.Client {
	if p.Client != nil {
		return p.Client
	}
	return http.DefaultClient
}

func (p *Prober) timeout() time.Duration {
	if p.Timeout > 0 {
		return p.Timeout
	}
	return 3 * time.Second
}

func (p *Prober) slow() time.Duration {
	if p.Slow > 0 {
		return p.Slow
	}
	return p.timeout() / 3
}

func (p *Prober) requests() int {
	if p.Requests > 0 {
		return p.Requests
	}
	return 3
}

// Probe measures every candidate concurrently and returns the results in
// the candidates' order. Each candidate's probe is bounded by the timeout,
// so Probe returns within about the timeout however the candidates behave.
// It is safe for concurrent use.
func (p *Prober) Probe(ctx context.Context, cands []Candidate) []Result {
	out := make([]Result, len(cands))
	var wg sync.WaitGroup
	for i, c := range cands {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = p.probeOne(ctx, c)
		}()
	}
	wg.Wait()
	return out
}

// failure kinds of one request.
type failKind int

const (
	noAnswer  failKind = iota + 1 // nothing came back
	badAnswer                     // an error status or bad content
)

type reqError struct {
	kind failKind
	err  error
}

func (e *reqError) Error() string { return e.err.Error() }

func (p *Prober) probeOne(ctx context.Context, cand Candidate) Result {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, p.timeout())
	defer cancel()
	r := Result{Candidate: cand}
	// c is what the requests go to: without credentials over plain http.
	c := cand
	c.URL, r.Notice = withoutPlainHTTPCredentials(cand.URL)

	var (
		wg sync.WaitGroup
		v  verification
	)
	if p.SumDB != "" {
		wg.Add(2)
		go func() {
			defer wg.Done()
			r.SumDB, r.SumDBLatency = p.sumdbSupported(ctx, c)
		}()
		// The lookup runs beside the question, so that verifying costs no
		// extra round trip; its answer counts only if the proxy says it
		// serves the database.
		go func() {
			defer wg.Done()
			v = p.verifySumDB(ctx, c.base()+"/sumdb/"+p.SumDB)
		}()
	}
	failed := p.measure(ctx, c, &r)
	wg.Wait()
	r.Latency = median(r.Samples)
	r.Elapsed = time.Since(start)
	p.classify(&r, failed)
	if p.SumDB != "" {
		r.applyVerification(v)
	}
	return r
}

// measure sends the measuring requests concurrently, like the go command's
// own downloads, so a candidate's probe takes about one request's latency.
// It fills r's Requests and Samples and returns the failures.
func (p *Prober) measure(ctx context.Context, c Candidate, r *Result) []*reqError {
	n := p.requests()
	r.Requests = n
	durs := make([]time.Duration, n)
	errs := make([]*reqError, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if len(p.Modules) > 0 {
				durs[i], errs[i] = p.fetchInfo(ctx, c, p.Modules[i%len(p.Modules)])
			} else {
				durs[i], errs[i] = p.fetchSupported(ctx, c)
			}
		}()
	}
	wg.Wait()
	var failed []*reqError
	for i := range n {
		if errs[i] != nil {
			failed = append(failed, errs[i])
		} else {
			r.Samples = append(r.Samples, durs[i])
		}
	}
	return failed
}

// applyVerification combines the answer to <proxy>/sumdb/<name>/supported
// with the lookup through it: only a proxy that says it serves the
// database has its lookup judged.
func (r *Result) applyVerification(v verification) {
	if r.SumDB != SumDBSupported {
		return
	}
	r.SumDBDetail = v.detail
	switch v.outcome {
	case verified:
		r.SumDB, r.SumDBGoSum = SumDBVerified, v.gosum
	case invalid:
		r.SumDB = SumDBInvalid
	}
}

// withoutPlainHTTPCredentials returns u without its user information when
// it is a plain-http URL that carries some, with a notice saying so: the
// probe never sends credentials where anyone on the path can read them.
func withoutPlainHTTPCredentials(u string) (string, string) {
	pu, err := url.Parse(u)
	if err != nil || pu.User == nil || !strings.EqualFold(pu.Scheme, "http") {
		return u, ""
	}
	pu.User = nil
	return pu.String(), "credentials not sent over plain http: probed without them"
}

func (p *Prober) classify(r *Result, errs []*reqError) {
	var bad, none *reqError
	for _, e := range errs {
		if e.kind == badAnswer && bad == nil {
			bad = e
		}
		if e.kind == noAnswer && none == nil {
			none = e
		}
	}
	switch {
	case bad != nil:
		r.Status, r.Error = Failing, bad.Error()
	case none != nil && len(r.Samples) == 0:
		r.Status, r.Error = Unreachable, none.Error()
	case none != nil:
		// Some requests answered, others did not: a mirror that hangs on
		// some requests stalls the go command, which waits on it.
		r.Status = Failing
		r.Error = fmt.Sprintf("%d of %d requests failed: %v", r.Requests-len(r.Samples), r.Requests, none)
	case r.Latency > p.slow():
		r.Status = Slow
		r.Error = fmt.Sprintf("median latency above %v", p.slow())
	default:
		r.Status = Healthy
	}
	if r.Status == Unreachable && r.SumDB == SumDBError {
		r.SumDB = SumDBUnknown
	}
}

// get sends one GET and reads at most limit bytes of the body. A non-nil
// *reqError tells whether anything answered.
func (p *Prober) get(ctx context.Context, u string) (status int, body []byte, d time.Duration, rerr *reqError) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, nil, 0, &reqError{badAnswer, errors.New(ci.Redact(err.Error()))}
	}
	if req.URL.User != nil && !strings.EqualFold(req.URL.Scheme, "https") {
		return 0, nil, 0, &reqError{badAnswer, fmt.Errorf("GET %s: refusing to send credentials over %s", ci.RedactURL(u), req.URL.Scheme)}
	}
	start := time.Now()
	resp, err := p.client().Do(req)
	if err != nil {
		return 0, nil, 0, &reqError{noAnswer, describe(ctx, err)}
	}
	defer resp.Body.Close()
	const limit = 1 << 16
	body, err = io.ReadAll(io.LimitReader(resp.Body, limit))
	d = time.Since(start)
	if err != nil {
		what := "truncated body"
		if ctx.Err() != nil {
			what = "body stalled"
		}
		return resp.StatusCode, nil, d, &reqError{badAnswer, fmt.Errorf("GET %s: %s: %w", ci.RedactURL(u), what, describe(ctx, err))}
	}
	return resp.StatusCode, body, d, nil
}

// describe shortens the errors of a timed-out request.
func describe(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return errors.New("no answer before the timeout")
	}
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err // the message without the URL, which may hold credentials
	}
	return err
}

// fetchInfo fetches <proxy>/<path>/@v/<version>.info and checks it.
func (p *Prober) fetchInfo(ctx context.Context, c Candidate, m module.Version) (time.Duration, *reqError) {
	ep, err := module.EscapePath(m.Path)
	if err != nil {
		return 0, &reqError{badAnswer, err}
	}
	ev, err := module.EscapeVersion(m.Version)
	if err != nil {
		return 0, &reqError{badAnswer, err}
	}
	u := c.base() + "/" + ep + "/@v/" + ev + ".info"
	status, body, d, rerr := p.get(ctx, u)
	if rerr != nil {
		return 0, rerr
	}
	if status != http.StatusOK {
		return 0, &reqError{badAnswer, fmt.Errorf("GET %s: %d %s", ci.RedactURL(u), status, http.StatusText(status))}
	}
	var info struct {
		Version string
		Time    time.Time
	}
	if err := json.Unmarshal(body, &info); err != nil {
		return 0, &reqError{badAnswer, fmt.Errorf("GET %s: not a version .info: %v", ci.RedactURL(u), err)}
	}
	if info.Version != m.Version {
		return 0, &reqError{badAnswer, fmt.Errorf("GET %s: .info names version %q, want %q", ci.RedactURL(u), info.Version, m.Version)}
	}
	return d, nil
}

// fetchSupported measures with the checksum-database endpoint when there
// is no module to fetch: any 200, 404 or 410 is an answer.
func (p *Prober) fetchSupported(ctx context.Context, c Candidate) (time.Duration, *reqError) {
	name := p.SumDB
	if name == "" {
		return 0, &reqError{badAnswer, errors.New("nothing to measure: no module to fetch and no checksum database")}
	}
	u := c.base() + "/sumdb/" + name + "/supported"
	status, _, d, rerr := p.get(ctx, u)
	if rerr != nil {
		return 0, rerr
	}
	switch status {
	case http.StatusOK, http.StatusNotFound, http.StatusGone:
		return d, nil
	}
	return 0, &reqError{badAnswer, fmt.Errorf("GET %s: %d %s", ci.RedactURL(u), status, http.StatusText(status))}
}

// sumdbSupported asks <proxy>/sumdb/<name>/supported.
func (p *Prober) sumdbSupported(ctx context.Context, c Candidate) (SumDBSupport, time.Duration) {
	u := c.base() + "/sumdb/" + p.SumDB + "/supported"
	status, _, d, rerr := p.get(ctx, u)
	switch {
	case rerr != nil:
		return SumDBError, 0
	case status == http.StatusOK:
		return SumDBSupported, d
	case status == http.StatusNotFound || status == http.StatusGone:
		return SumDBUnsupported, d
	}
	return SumDBError, d
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
