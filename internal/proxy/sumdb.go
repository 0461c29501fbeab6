package proxy

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb"
	"golang.org/x/mod/sumdb/note"
)

// db is the checksum database the proxy verifies against.
type db struct {
	name     string
	url      string        // its own server, asked after the mirrors
	verifier note.Verifier // nil when the key is unknown
	client   *sumdb.Client // nil when the key is unknown
	ops      *dbOps
}

// newDB parses a GOSUMDB value. It returns nil for "off" or empty. A
// value without a key ("name" alone) gives a database the proxy can pass
// requests to but cannot verify against.
func newDB(gosumdb string) (*db, error) {
	f := strings.Fields(gosumdb)
	if len(f) == 0 || f[0] == "off" {
		return nil, nil
	}
	if len(f) > 2 {
		return nil, fmt.Errorf("GOSUMDB %q: too many fields", gosumdb)
	}
	d := &db{name: f[0]}
	if strings.Contains(f[0], "+") {
		v, err := note.NewVerifier(f[0])
		if err != nil {
			return nil, fmt.Errorf("GOSUMDB %q: %v", gosumdb, err)
		}
		d.name, d.verifier = v.Name(), v
	}
	if !validDBName(d.name) {
		return nil, fmt.Errorf("GOSUMDB %q: invalid database name", gosumdb)
	}
	d.url = "https://" + d.name
	if len(f) == 2 {
		d.url = f[1]
	}
	return d, nil
}

// dbOps connects the sumdb client that verifies what goes to the store to
// the proxy: remote reads go through the proxy's own hedged fetch, the
// latest tree head is kept in memory, and the tiles and records it
// authenticates are kept in Dir/sumdb, from where the proxy also serves
// them to the go command.
type dbOps struct {
	s      *Server
	key    string
	mu     sync.Mutex
	latest []byte
	broken atomic.Bool
}

// ReadRemote fetches a path of the database through the mirrors.
func (o *dbOps) ReadRemote(path string) ([]byte, error) {
	return o.s.fetchDB(o.s.db.name, strings.TrimPrefix(path, "/"))
}

// ReadConfig returns the key or the latest tree head known to this run.
func (o *dbOps) ReadConfig(file string) ([]byte, error) {
	if file == "key" {
		return []byte(o.key), nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]byte(nil), o.latest...), nil
}

// WriteConfig replaces the latest tree head if it is still old.
func (o *dbOps) WriteConfig(file string, old, new []byte) error {
	if file == "key" {
		return fmt.Errorf("cannot write key")
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if !bytes.Equal(o.latest, old) {
		return sumdb.ErrWriteConflict
	}
	o.latest = append([]byte(nil), new...)
	return nil
}

// ReadCache reads an authenticated tile or record from Dir/sumdb.
func (o *dbOps) ReadCache(file string) ([]byte, error) {
	p, err := o.s.dbCachePath(file)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(p)
	if err == nil && len(data) == 0 {
		err = os.ErrNotExist
	}
	return data, err
}

// WriteCache keeps an authenticated tile or record in Dir/sumdb.
func (o *dbOps) WriteCache(file string, data []byte) {
	if p, err := o.s.dbCachePath(file); err == nil {
		writeFileAtomic(p, o.s.tmp, data)
	}
}

// Log discards the client's progress messages.
func (o *dbOps) Log(msg string) {}

// SecurityError records that the database (or what the mirrors serve of
// it) contradicts itself: from then on nothing is written to the store.
func (o *dbOps) SecurityError(msg string) {
	if !o.broken.Swap(true) {
		o.s.logf("checksum database %s: %s; nothing more is written to the store", o.s.db.name, o.s.scrub.scrub(msg))
	}
}

// dbCachePath maps a sumdb client cache file ("<name>/tile/...",
// "<name>/lookup/...") into Dir/sumdb, refusing anything else.
func (s *Server) dbCachePath(file string) (string, error) {
	rest, ok := strings.CutPrefix(file, s.db.name+"/")
	if !ok || strings.Contains(file, "..") || strings.Contains(file, "\\") ||
		!(strings.HasPrefix(rest, "tile/") || strings.HasPrefix(rest, "lookup/")) {
		return "", fmt.Errorf("unexpected sumdb cache file %q", file)
	}
	return filepath.Join(s.dir, "sumdb", filepath.FromSlash(file)), nil
}

// serveSumDB answers a checksum-database request: "supported" at once for
// the configured database (the proxy reaches it through the mirrors or
// directly), records and tiles from those the proxy authenticated, and
// everything else through the mirrors that serve the database and then the
// database's own server.
func (s *Server) serveSumDB(w http.ResponseWriter, r *http.Request, req request) {
	if req.path != "" && (s.private(req.path) || s.opts.NoSumDB != "" && module.MatchPrefixPatterns(s.opts.NoSumDB, req.path)) {
		s.st.private.Add(1)
		s.fail(w, &notFoundError{fmt.Sprintf("%s is private (GONOSUMDB): not looked up", req.path)})
		return
	}
	ours := s.db != nil && req.db == s.db.name
	if ours && req.dbPath == "supported" {
		s.serveBytes(w, r, req, nil, &s.st.cache)
		return
	}
	if ours && req.dbPath != "latest" && s.serveFile(w, r, req, s.dir, &s.st.cache) {
		return
	}
	e, from, err := s.fetchMutable(req, func() []*upstream { return s.dbUpstreams(req.db) })
	if err != nil {
		s.fail(w, err)
		return
	}
	s.serveBytes(w, r, req, e.data, from)
}

// fetchDB reads a path of the configured checksum database for the
// verifying client.
func (s *Server) fetchDB(name, dbPath string) ([]byte, error) {
	req := request{kind: kindSumDB, db: name, dbPath: dbPath, rel: "sumdb/" + name + "/" + dbPath}
	e, _, err := s.fetchMutable(req, func() []*upstream { return s.dbUpstreams(name) })
	return e.data, err
}

// dbUpstreams returns the mirrors that may serve database name, in
// order.
func (s *Server) dbUpstreams(name string) []*upstream {
	var ups []*upstream
	for _, u := range order(s.mirrors) {
		if u.servesDB(name) {
			ups = append(ups, u)
		}
	}
	return ups
}

// askOwnServer reports whether a checksum-database request that the
// mirrors did not answer goes to the database's own server: for the
// configured database, when the mirrors failed, or said not found while
// none of them is known to serve the database.
func (s *Server) askOwnServer(req request, err error) bool {
	if req.kind != kindSumDB || s.direct == nil || req.db != s.db.name {
		return false
	}
	var nf *notFoundError
	if !errors.As(err, &nf) {
		return true
	}
	for _, u := range s.mirrors {
		if u.knownDB(req.db) {
			return false
		}
	}
	return true
}
