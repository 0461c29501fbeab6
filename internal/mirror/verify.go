package mirror

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"sync"

	"golang.org/x/mod/sumdb"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/modhygiene/modhygiene/internal/ci"
)

// outcome is the result of checking a checksum-database endpoint.
type outcome int

const (
	// unproven: nothing came back in time, or there was no key to check
	// with.
	unproven outcome = iota
	// verified: what it served verified against the key.
	verified
	// invalid: it answered, and the answer was wrong (an error status, a
	// bad signature, a record not in the signed tree).
	invalid
)

// verification is what verifySumDB found.
type verification struct {
	outcome outcome
	// detail says what was checked, or why it failed.
	detail string
	// gosum compares go.sum's lines with the database's record: "" (not
	// compared), "match" or a description of the difference.
	gosum string
}

// verifySumDB checks the checksum database served at base (a mirror's
// <proxy>/sumdb/<name>, or an endpoint) against p.SumDBKey. With
// p.SumDBProbe it looks the module up as the go command does
// (golang.org/x/mod/sumdb: the signed tree head, then the record's
// inclusion in that tree through tiles) and compares the record with
// go.sum's lines; without one it checks the signature of the latest tree
// head.
func (p *Prober) verifySumDB(ctx context.Context, base string) verification {
	if p.SumDBKey == "" {
		return verification{unproven, "not verified: no public key known for the checksum database", ""}
	}
	verifier, err := note.NewVerifier(p.SumDBKey)
	if err != nil {
		return verification{unproven, "not verified: bad key: " + err.Error(), ""}
	}
	ops := &remoteOps{ctx: ctx, p: p, base: strings.TrimRight(base, "/"), key: p.SumDBKey}
	if p.SumDBProbe == nil {
		return ops.verifyLatest(verifier)
	}
	pr := p.SumDBProbe
	client := sumdb.NewClient(ops)
	lines, err := client.Lookup(pr.Path, pr.Version)
	var modLines []string
	if err == nil {
		modLines, err = client.Lookup(pr.Path, pr.Version+"/go.mod")
	}
	if err != nil {
		// The client names the module again; say it once.
		msg := strings.TrimPrefix(err.Error(), pr.Path+"@"+pr.Version+"/go.mod: ")
		msg = strings.TrimPrefix(msg, pr.Path+"@"+pr.Version+": ")
		return ops.failed(fmt.Sprintf("lookup %s@%s", pr.Path, pr.Version), errors.New(msg))
	}
	v := verification{outcome: verified, detail: fmt.Sprintf("lookup %s@%s verified (signed tree head, inclusion proof)", pr.Path, pr.Version)}
	if len(pr.Lines) > 0 {
		v.gosum = compareGoSum(pr.Lines, append(lines, modLines...))
	}
	return v
}

// compareGoSum reports whether every go.sum line is in the database's
// record.
func compareGoSum(gosum, record []string) string {
	have := map[string]bool{}
	for _, l := range record {
		have[strings.Join(strings.Fields(l), " ")] = true
	}
	for _, l := range gosum {
		if !have[strings.Join(strings.Fields(l), " ")] {
			return fmt.Sprintf("go.sum line %q is not in the checksum database's record", l)
		}
	}
	return "match"
}

// remoteOps are the sumdb.ClientOps of one check: reads go to base through
// the prober's client under ctx, the key is given, the latest tree head is
// kept in memory and nothing is cached, so every check asks the endpoint.
type remoteOps struct {
	ctx  context.Context
	p    *Prober
	base string
	key  string

	mu       sync.Mutex
	latest   []byte
	noAnswer bool
	notFound bool
	security string
}

var _ sumdb.ClientOps = (*remoteOps)(nil)

// ReadRemote gets base+path; any status but 200 is an error.
func (o *remoteOps) ReadRemote(path string) ([]byte, error) {
	status, body, _, rerr := o.p.get(o.ctx, o.base+path)
	if rerr != nil {
		if rerr.kind == noAnswer {
			o.mu.Lock()
			o.noAnswer = true
			o.mu.Unlock()
		}
		return nil, rerr
	}
	if status != http.StatusOK {
		if status == http.StatusNotFound || status == http.StatusGone {
			o.mu.Lock()
			o.notFound = true
			o.mu.Unlock()
		}
		return nil, fmt.Errorf("GET %s: %d %s", ci.RedactURL(o.base+path), status, http.StatusText(status))
	}
	return body, nil
}

// ReadConfig returns the key, or the latest tree head seen (empty at first).
func (o *remoteOps) ReadConfig(file string) ([]byte, error) {
	if file == "key" {
		return []byte(o.key), nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return bytes.Clone(o.latest), nil
}

// WriteConfig records a newer tree head.
func (o *remoteOps) WriteConfig(file string, old, new []byte) error {
	if file == "key" {
		return fmt.Errorf("cannot write key")
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if !bytes.Equal(o.latest, old) {
		return sumdb.ErrWriteConflict
	}
	o.latest = bytes.Clone(new)
	return nil
}

// ReadCache finds nothing: every check asks the endpoint.
func (o *remoteOps) ReadCache(file string) ([]byte, error) { return nil, fs.ErrNotExist }

// WriteCache keeps nothing.
func (o *remoteOps) WriteCache(file string, data []byte) {}

// Log drops the client's log messages.
func (o *remoteOps) Log(msg string) {}

// SecurityError records the client's account of a misbehaving server.
func (o *remoteOps) SecurityError(msg string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.security == "" {
		o.security = firstLine(msg)
	}
}

// failed turns a failed lookup into a verification: unproven when nothing
// came back in time or the answer was "not found" (the database may not
// know a module version go.sum does not hold; the go command would fail
// the same way through any mirror), else invalid.
func (o *remoteOps) failed(what string, err error) verification {
	o.mu.Lock()
	defer o.mu.Unlock()
	msg := ci.Redact(err.Error())
	if o.security != "" {
		msg = ci.Redact(o.security)
	}
	if o.noAnswer || o.ctx.Err() != nil {
		return verification{unproven, what + " did not finish: " + msg, ""}
	}
	if o.notFound && o.security == "" {
		return verification{unproven, what + " not found: " + msg, ""}
	}
	return verification{invalid, what + " did not verify: " + msg, ""}
}

// verifyLatest checks the signature of base/latest, the signed tree head.
func (o *remoteOps) verifyLatest(v note.Verifier) verification {
	data, err := o.ReadRemote("/latest")
	if err != nil {
		return o.failed("latest tree head", err)
	}
	n, err := note.Open(data, note.VerifierList(v))
	if err != nil {
		return o.failed("latest tree head", err)
	}
	if _, err := tlog.ParseTree([]byte(n.Text)); err != nil {
		return o.failed("latest tree head", err)
	}
	return verification{verified, "latest tree head verified (signature)", ""}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}
