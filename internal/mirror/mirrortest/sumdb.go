package mirrortest

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"strings"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb"
	"golang.org/x/mod/sumdb/note"
)

// SumDB is a checksum database for tests: golang.org/x/mod/sumdb's test
// server behind its HTTP handler, signed with a key made for it. It serves
// the database's own paths (/latest, /lookup/..., /tile/...) at its root,
// as an endpoint does; Mirror serves it under /sumdb/<name>/ as a module
// proxy does. It is safe for concurrent use.
type SumDB struct {
	// Name is the database's name, such as sum.test.example.
	Name string
	// VerifierKey is the public key, as GOSUMDB names it (name+hash+key).
	VerifierKey string
	handler     http.Handler
}

// NewSumDB returns a database named name that adds the go.sum lines gosum
// returns for a module version the first time it is looked up.
func NewSumDB(name string, gosum func(path, version string) ([]byte, error)) (*SumDB, error) {
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		return nil, err
	}
	srv := sumdb.NewServer(sumdb.NewTestServer(skey, gosum))
	return &SumDB{Name: name, VerifierKey: vkey, handler: srv}, nil
}

// ServeHTTP answers one request for the database's own paths.
func (db *SumDB) ServeHTTP(w http.ResponseWriter, r *http.Request) { db.handler.ServeHTTP(w, r) }

// Mirror returns a module proxy that serves the database under
// /sumdb/<name>/ (and answers /sumdb/<name>/supported) and passes every
// other request to next, or answers 404 when next is nil.
func (db *SumDB) Mirror(next http.Handler) http.Handler {
	prefix := "/sumdb/" + db.Name
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, prefix)
		switch {
		case ok && rest == "/supported":
			w.WriteHeader(http.StatusOK)
		case ok && strings.HasPrefix(rest, "/"):
			r2 := r.Clone(r.Context())
			r2.URL.Path, r2.URL.RawPath = rest, ""
			db.handler.ServeHTTP(w, r2)
		case next != nil && !strings.HasPrefix(r.URL.Path, "/sumdb/"):
			next.ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	})
}

// Lie is how a lying mirror misserves the checksum database.
type Lie string

// The lies of Liar.
const (
	// LieGarbage answers every database path with 200 and a login page.
	LieGarbage Lie = "garbage"
	// LieForged serves a database of the same name signed with another key.
	LieForged Lie = "forged"
	// LieRecord serves the real signed tree with lookups whose go.sum
	// lines were altered.
	LieRecord Lie = "record"
	// LieError answers /supported with 200 and everything else with 502.
	LieError Lie = "error"
)

// Liar returns a module proxy that says it serves the database db (200 on
// /sumdb/<name>/supported) and misserves it as lie says; every other
// request goes to next, or gets 404 when next is nil.
func Liar(db *SumDB, lie Lie, next http.Handler) (http.Handler, error) {
	var inner http.Handler
	switch lie {
	case LieGarbage:
		inner = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html><body>please log in</body></html>\n"))
		})
	case LieForged:
		forged, err := NewSumDB(db.Name, FakeGoSum)
		if err != nil {
			return nil, err
		}
		inner = forged
	case LieRecord:
		inner = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := &recorder{header: http.Header{}, status: http.StatusOK}
			db.ServeHTTP(rec, r)
			body := rec.body.Bytes()
			if strings.HasPrefix(r.URL.Path, "/lookup/") {
				body = bytes.Replace(body, []byte(" h1:"), []byte(" h1:AAAA"), 1)
			}
			w.WriteHeader(rec.status)
			w.Write(body)
		})
	case LieError:
		inner = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "bad gateway", http.StatusBadGateway)
		})
	default:
		return nil, fmt.Errorf("unknown lie %q", lie)
	}
	return (&SumDB{Name: db.Name, handler: inner}).Mirror(next), nil
}

// recorder keeps a response in memory.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) WriteHeader(status int)      { r.status = status }
func (r *recorder) Write(p []byte) (int, error) { return r.body.Write(p) }

// FakeGoSum returns made-up but stable go.sum lines for any module
// version: an h1: hash of the path and version for the zip and another
// for the go.mod file. Use it where the database's answers need only be
// consistent with themselves.
func FakeGoSum(path, version string) ([]byte, error) {
	if err := module.Check(path, version); err != nil {
		return nil, os.ErrNotExist
	}
	h := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return "h1:" + base64.StdEncoding.EncodeToString(sum[:])
	}
	return []byte(fmt.Sprintf("%s %s %s\n%s %s/go.mod %s\n", path, version, h(path+"@"+version), path, version, h(path+"@"+version+"/go.mod"))), nil
}

// GoSumOf returns a gosum func for NewSumDB that answers from the lines of
// a go.sum file, and reports any other module version as not found.
func GoSumOf(gosum string) func(path, version string) ([]byte, error) {
	return func(path, version string) ([]byte, error) {
		var b strings.Builder
		for _, l := range strings.Split(gosum, "\n") {
			f := strings.Fields(l)
			if len(f) == 3 && f[0] == path && strings.TrimSuffix(f[1], "/go.mod") == version {
				b.WriteString(strings.Join(f, " ") + "\n")
			}
		}
		if b.Len() == 0 {
			return nil, os.ErrNotExist
		}
		return []byte(b.String()), nil
	}
}
