package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb"
	"golang.org/x/sync/singleflight"
)

// Server is a GOPROXY protocol server that answers from the local module
// cache, its own directory, a shared store and then the mirrors, with
// hedged requests. It is an http.Handler; Start serves it on a loopback
// port. It is safe for concurrent use.
type Server struct {
	opts    Options
	client  *http.Client
	mirrors []*upstream
	direct  *upstream // the checksum database's own server, nil without one
	db      *db
	scrub   *scrubber
	dir     string // Options.Dir or a temporary directory
	ownDir  bool   // dir is ours to remove
	tmp     string // dir/.tmp: temporary files, on dir's file system

	ctx    context.Context // ends with Close: shared fetches and store writes
	cancel context.CancelFunc
	group  singleflight.Group
	mem    memCache
	st     counters
	store  storeState
	shares sync.WaitGroup
	sem    chan struct{}

	started time.Time
	srv     *http.Server
	url     string
	logMu   sync.Mutex
}

// New returns a Server for opts. It fails on a mirror URL that is not
// http(s), a malformed SumDB or a directory it cannot create.
func New(opts Options) (*Server, error) {
	s := &Server{opts: opts, client: opts.Client, started: time.Now()}
	if s.client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.Proxy = nil // the environment is the caller's: see Options.Client
		tr.MaxIdleConnsPerHost = 64
		s.client = &http.Client{Transport: tr}
	}
	creds := parseNetrc(opts.Netrc)
	for i, m := range opts.Mirrors {
		u, err := newUpstream(m, i, creds)
		if err != nil {
			return nil, err
		}
		s.mirrors = append(s.mirrors, u)
	}
	s.scrub = newScrubber(s.mirrors, creds)
	var err error
	if s.db, err = newDB(opts.SumDB); err != nil {
		return nil, err
	}
	if s.db != nil {
		if s.direct, err = newUpstream(Mirror{Name: "checksum database " + s.db.name, URL: s.db.url}, len(s.mirrors), creds); err != nil {
			return nil, fmt.Errorf("GOSUMDB %q: %v", opts.SumDB, err)
		}
		s.direct.own = true
		if s.db.verifier != nil {
			s.db.ops = &dbOps{s: s, key: strings.Fields(opts.SumDB)[0]}
			s.db.client = sumdb.NewClient(s.db.ops)
		}
	}
	if err := s.makeDir(); err != nil {
		return nil, err
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.sem = make(chan struct{}, opts.shareWorkers())
	return s, nil
}

func (s *Server) makeDir() error {
	s.dir = s.opts.Dir
	if s.dir == "" {
		d, err := os.MkdirTemp("", "modhygiene-proxy-")
		if err != nil {
			return fmt.Errorf("proxy directory: %w", err)
		}
		s.dir, s.ownDir = d, true
	}
	s.tmp = filepath.Join(s.dir, ".tmp")
	if err := os.MkdirAll(s.tmp, 0o755); err != nil {
		return fmt.Errorf("proxy directory: %w", err)
	}
	return nil
}

// Start serves the proxy on addr ("127.0.0.1:0" when empty: a free
// loopback port) in the background. URL then returns its address.
func (s *Server) Start(addr string) error {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("proxy: %w", err)
	}
	s.url = "http://" + ln.Addr().String()
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second}
	go s.srv.Serve(ln)
	return nil
}

// URL returns the proxy's URL, for GOPROXY, once Start has succeeded.
func (s *Server) URL() string { return s.url }

// Close stops serving: it waits for the requests being answered and the
// store writes under way, both bounded by ctx, then removes the temporary
// directory if the proxy made one. Store writes that ctx cut short are
// reported in the error; nothing half-written is left in the store.
func (s *Server) Close(ctx context.Context) error {
	var errs []error
	if s.srv != nil {
		if err := s.srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("proxy: stopping: %w", err))
		}
	}
	done := make(chan struct{})
	go func() { s.shares.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("proxy: store writes still under way: %w", ctx.Err()))
	}
	s.cancel()
	s.shares.Wait()
	if t, ok := s.client.Transport.(*http.Transport); ok && s.opts.Client == nil {
		t.CloseIdleConnections()
	}
	if s.ownDir {
		if err := os.RemoveAll(s.dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ServeHTTP answers one GOPROXY protocol request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	s.st.requests.Add(1)
	req, err := parseRequest(r.URL.Path)
	if err != nil {
		s.st.notFound.Add(1)
		http.Error(w, "not found: "+err.Error(), http.StatusNotFound)
		return
	}
	switch {
	case req.kind == kindSumDB:
		s.serveSumDB(w, r, req)
	case req.immutable:
		s.serveImmutable(w, r, req)
	case req.kind == kindMod || req.kind == kindZip:
		s.fail(w, &notFoundError{fmt.Sprintf("%s@%s: not a canonical version", req.path, req.version)})
	default:
		s.serveMutable(w, r, req)
	}
}

// fail answers with an error: 404 for a not-found, else 502.
func (s *Server) fail(w http.ResponseWriter, err error) {
	var nf *notFoundError
	if errors.As(err, &nf) {
		s.st.notFound.Add(1)
		http.Error(w, "not found: "+s.scrub.scrub(nf.msg), http.StatusNotFound)
		return
	}
	s.st.failed.Add(1)
	http.Error(w, s.scrub.scrub(err.Error()), http.StatusBadGateway)
}

func (s *Server) logf(format string, args ...any) {
	if s.opts.Log == nil {
		return
	}
	s.logMu.Lock()
	defer s.logMu.Unlock()
	fmt.Fprintf(s.opts.Log, "modhygiene proxy: "+format+"\n", args...)
}
