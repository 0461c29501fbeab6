package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// answer is one upstream's answer to one request.
type answer struct {
	m      *upstream
	run    int // index of the attempt in its race
	status int
	data   []byte // the body, unless it went to file
	file   string // a temporary file holding the body
	size   int64
	ttfb   time.Duration // time to the response headers
	msg    string        // the first line of a not-found answer, scrubbed
	err    error         // nil for a valid 200 and for 404/410
}

func (a *answer) notFound() bool {
	return a.err == nil && (a.status == http.StatusNotFound || a.status == http.StatusGone)
}

func (a *answer) ok() bool { return a.err == nil && a.status == http.StatusOK }

// discard removes the answer's temporary file.
func (a *answer) discard() {
	if a.file != "" {
		os.Remove(a.file)
		a.file = ""
	}
}

// spec says how to read and check the body of a 200 answer.
type spec struct {
	spill bool  // to a temporary file rather than memory
	limit int64 // the largest acceptable body
	size  int64 // the body's size when known in advance, else 0
	check func(a *answer) error
	db    string // for checksum-database requests, the database's name
}

var errCancelled = errors.New("cancelled: another answer won")

// attempt asks one upstream for target (a path below its base URL). It
// gives up when the headers take longer than Options.Timeout or the body
// stalls for longer than Options.Stall. When the response headers arrive
// it records their status and time in r and closes r.headers. The error of
// the answer never names the URL.
func (s *Server) attempt(ctx context.Context, m *upstream, target string, sp *spec, r *run) *answer {
	a := &answer{m: m}
	m.requests.Add(1)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	wait := time.AfterFunc(s.opts.timeout(), func() {
		cancel(fmt.Errorf("no answer within %v", s.opts.timeout()))
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.base+"/"+target, nil)
	if err != nil {
		wait.Stop()
		a.err = bare(err)
		return a
	}
	req.Header.Set("User-Agent", "modhygiene-proxy")
	if m.auth {
		req.SetBasicAuth(m.user, m.pass)
	}
	start := time.Now()
	resp, err := s.client.Do(req)
	wait.Stop()
	if err != nil {
		a.err = causeOf(ctx, err)
		return a
	}
	defer resp.Body.Close()
	a.ttfb = time.Since(start)
	a.status = resp.StatusCode
	r.status.Store(int32(a.status))
	r.ttfb.Store(int64(a.ttfb))
	close(r.headers)
	body := &stallReader{r: resp.Body, d: s.opts.stall()}
	body.t = time.AfterFunc(body.d, func() { cancel(fmt.Errorf("body stalled for %v", body.d)) })
	defer body.t.Stop()
	switch {
	case a.status == http.StatusOK:
		if err := s.readBody(a, body, sp); err != nil {
			a.discard()
			a.err = causeOf(ctx, err)
		}
	case a.notFound():
		msg, _ := io.ReadAll(io.LimitReader(body, 1024))
		line, _, _ := strings.Cut(strings.TrimSpace(string(msg)), "\n")
		a.msg = s.scrub.scrub(line)
	default:
		a.err = fmt.Errorf("%s", resp.Status)
	}
	return a
}

// readBody reads and checks a 200 answer's body.
func (s *Server) readBody(a *answer, r io.Reader, sp *spec) error {
	lim := io.LimitReader(r, sp.limit+1)
	if sp.spill {
		f, err := os.CreateTemp(s.tmp, "fetch-*")
		if err != nil {
			return err
		}
		a.file = f.Name()
		a.size, err = io.Copy(f, lim)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	} else {
		var err error
		if a.data, err = readAll(lim, sp.size); err != nil {
			return err
		}
		a.size = int64(len(a.data))
	}
	if a.size > sp.limit {
		return fmt.Errorf("body larger than %d bytes", sp.limit)
	}
	if sp.check != nil {
		return sp.check(a)
	}
	return nil
}

// readAll reads r to the end into a buffer made for size bytes (plus
// one, to see the end), growing it only if r holds more.
func readAll(r io.Reader, size int64) ([]byte, error) {
	if size <= 0 {
		return io.ReadAll(r)
	}
	buf := make([]byte, 0, size+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// causeOf explains a failed request: why its context ended, if it did,
// else the error without the URL.
func causeOf(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		if c := context.Cause(ctx); c != nil && !errors.Is(c, context.Canceled) {
			return c
		}
		return errCancelled
	}
	return bare(err)
}

// stallReader cancels a request (through its timer) when no byte arrives
// for d.
type stallReader struct {
	r io.Reader
	d time.Duration
	t *time.Timer
}

func (s *stallReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if n > 0 {
		s.t.Reset(s.d)
	}
	return n, err
}
