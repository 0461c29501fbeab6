package proxytest

import (
	"crypto/rand"
	"net/http"

	"golang.org/x/mod/sumdb"
	"golang.org/x/mod/sumdb/note"
)

// SumDB is a checksum database for a corpus, signed with a key made when
// it is created. It serves the database protocol (/lookup/, /latest,
// /tile/) and adds a record the first time a module version is looked up,
// as the real database does.
type SumDB struct {
	// Name is the database's name, as in GOSUMDB.
	Name string
	// Key is the verifier key: GOSUMDB=Key names the database and its key.
	Key     string
	handler http.Handler
}

// NewSumDB returns a database named name whose records are the go.sum
// lines of the corpus in dir (see GoSum).
func NewSumDB(name, dir string) (*SumDB, error) {
	signer, verifier, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		return nil, err
	}
	ts := sumdb.NewTestServer(signer, func(path, vers string) ([]byte, error) {
		return GoSum(dir, path, vers)
	})
	return &SumDB{Name: name, Key: verifier, handler: sumdb.NewServer(ts)}, nil
}

// ServeHTTP serves the database protocol at the root.
func (db *SumDB) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	db.handler.ServeHTTP(w, r)
}
