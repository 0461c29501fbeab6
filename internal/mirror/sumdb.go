package mirror

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/modhygiene/modhygiene/internal/ci"
)

// Endpoint is a checksum-database URL other than the database's own: a
// mirror of it, named with --sumdb-url. It may replace the database's URL
// in GOSUMDB (same name and key) only when a lookup through it verifies.
type Endpoint struct {
	// URL is the endpoint, such as https://sumdb.mirror.example.
	URL string `json:"url"`
	// OK is whether a lookup through it verified against the database's
	// public key (see Prober.SumDBKey): the signed tree head, the record's
	// inclusion in that tree and, with a probe module from go.sum, its
	// lines. Without a probe module, the signed tree head of <URL>/latest
	// is what verified.
	OK bool `json:"ok"`
	// Latency is how long the check took.
	Latency time.Duration `json:"latency_ns,omitempty"`
	// Error says why it is not OK.
	Error string `json:"error,omitempty"`
}

// ProbeEndpoints checks every checksum-database endpoint, concurrently,
// each bounded by the prober's timeout, and returns the answers in order.
// An endpoint is OK only when what it serves verifies against
// p.SumDBKey; without a key none is.
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
			base, notice := withoutPlainHTTPCredentials(strings.TrimRight(u, "/"))
			start := time.Now()
			v := p.verifySumDB(ctx, base)
			switch {
			case p.SumDBKey == "":
				e.Error = "not verified: no public key known for the checksum database"
			case v.outcome == verified:
				e.OK, e.Latency = true, time.Since(start)
			default:
				e.Error = v.detail
			}
			if notice != "" {
				e.Error = strings.TrimPrefix(e.Error+"; "+notice, "; ")
			}
			out[i] = e
		}()
	}
	wg.Wait()
	return out
}

// SumDBName returns the checksum database's name from a GOSUMDB value
// ("name", "name+key" or "name+key url"), or "" for off or empty.
func SumDBName(gosumdb string) string {
	f := strings.Fields(gosumdb)
	if len(f) == 0 || f[0] == "off" {
		return ""
	}
	name, _, _ := strings.Cut(f[0], "+")
	return name
}

// goDefaultKeyMaterial is the hash and public key of the go command's
// default checksum database, as the go command knows it (its
// knownGOSUMDB table). The database's name is not written here: it is read
// from `go env` (see Defaults), and the key's hash binds it to that name,
// so note.NewVerifier refuses the pair for any other name.
const goDefaultKeyMaterial = "033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"

// SumDBKey returns the verifier key ("name+hash+key", see
// golang.org/x/mod/sumdb/note) of the checksum database that GOSUMDB
// names: the key GOSUMDB carries, or, for the bare name of the go
// command's default database (defaultGOSUMDB, from Defaults), the key the
// go command knows for it. An empty or "off" GOSUMDB stands for the
// default. It fails for a bare name whose key is not known: such a GOSUMDB
// is refused by the go command too.
func SumDBKey(gosumdb, defaultGOSUMDB string) (string, error) {
	f := strings.Fields(gosumdb)
	if len(f) == 0 || f[0] == "off" {
		f = strings.Fields(defaultGOSUMDB)
	}
	if len(f) == 0 {
		return "", fmt.Errorf("no checksum database named in GOSUMDB")
	}
	if _, err := note.NewVerifier(f[0]); err == nil {
		return f[0], nil
	}
	name := SumDBName(f[0])
	if d := strings.Fields(defaultGOSUMDB); len(d) > 0 {
		if _, err := note.NewVerifier(d[0]); err == nil && SumDBName(d[0]) == name {
			return d[0], nil
		}
		if SumDBName(d[0]) == name {
			key := name + "+" + goDefaultKeyMaterial
			if _, err := note.NewVerifier(key); err == nil {
				return key, nil
			}
		}
	}
	return "", fmt.Errorf("no public key known for checksum database %q: give it in GOSUMDB as name+hash+key", ci.Redact(f[0]))
}
