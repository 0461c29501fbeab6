package mirror

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Endpoint is a checksum-database URL other than the database's own: a
// mirror of it, named with --sumdb-url. It may replace the database's URL
// in GOSUMDB (same name and key) only when it answers.
type Endpoint struct {
	// URL is the endpoint, such as https://sumdb.mirror.example.
	URL string `json:"url"`
	// OK is whether <URL>/latest answered with a signed tree head.
	OK bool `json:"ok"`
	// Latency is how long that answer took.
	Latency time.Duration `json:"latency_ns,omitempty"`
	// Error says why it is not OK.
	Error string `json:"error,omitempty"`
}

// ProbeEndpoints asks every checksum-database endpoint for its latest
// signed tree head (<URL>/latest), concurrently, each bounded by the
// prober's timeout, and returns the answers in order.
func (p *Prober) ProbeEndpoints(ctx context.Context, urls []string) []Endpoint {
	out := make([]Endpoint, len(urls))
	var wg sync.WaitGroup
	for i, u := range urls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(ctx, p.timeout())
			defer cancel()
			e := Endpoint{URL: u}
			status, body, d, rerr := p.get(ctx, strings.TrimRight(u, "/")+"/latest")
			switch {
			case rerr != nil:
				e.Error = rerr.Error()
			case status != http.StatusOK:
				e.Error = fmt.Sprintf("GET %s/latest: %d %s", Redact(strings.TrimRight(u, "/")), status, http.StatusText(status))
			case !strings.HasPrefix(string(body), "go.sum database tree\n"):
				e.Error = fmt.Sprintf("GET %s/latest: not a signed tree head", Redact(strings.TrimRight(u, "/")))
			default:
				e.OK, e.Latency = true, d
			}
			out[i] = e
		}()
	}
	wg.Wait()
	return out
}
