package modgraph

import (
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/modhygiene/modhygiene/internal/atomicfile"
)

// listingFormat names the format of a stored listing.
const listingFormat = "modhygiene-listing/1"

// Limits of the listing store: a listing bigger than maxListing did not
// come from us; entries unused for maxListingAge, and beyond the
// maxListings most recently used, are pruned.
const (
	maxListing    = 64 << 20
	maxListingAge = 14 * 24 * time.Hour
	maxListings   = 2000
)

// ListingStore keeps package listings (the Get and Put of Listings) as one
// gzipped file per key in Dir. Using an entry renews its modification
// time, by which Prune ages entries out. Safe for concurrent use.
type ListingStore struct {
	Dir string
	// hits counts Get's hits.
	hits atomic.Int64
}

type storedListing struct {
	Format   string    `json:"format"`
	Packages []Package `json:"packages"`
}

func (s *ListingStore) path(key string) (string, bool) {
	if len(key) != 64 {
		return "", false
	}
	if _, err := hex.DecodeString(key); err != nil {
		return "", false
	}
	return filepath.Join(s.Dir, key+".json.gz"), true
}

// Get returns the packages stored under key. An entry that cannot be read
// or decoded is a miss.
func (s *ListingStore) Get(key string) ([]Package, bool) {
	p, ok := s.path(key)
	if !ok {
		return nil, false
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, false
	}
	var l storedListing
	dec := json.NewDecoder(io.LimitReader(zr, maxListing))
	if dec.Decode(&l) != nil || l.Format != listingFormat || l.Packages == nil {
		return nil, false
	}
	now := time.Now()
	os.Chtimes(p, now, now)
	s.hits.Add(1)
	return l.Packages, true
}

// Put stores pkgs under key. A failed write is dropped: the next run
// lists the module again.
func (s *ListingStore) Put(key string, pkgs []Package) {
	p, ok := s.path(key)
	if !ok {
		return
	}
	if pkgs == nil {
		pkgs = []Package{}
	}
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if json.NewEncoder(zw).Encode(storedListing{Format: listingFormat, Packages: pkgs}) != nil || zw.Close() != nil {
		return
	}
	atomicfile.Write(p, "", ".listing-*", b.Bytes(), 0o600)
}

// Hits returns how many Gets found their entry.
func (s *ListingStore) Hits() int { return int(s.hits.Load()) }

// Prune removes the entries unused for maxListingAge, and the least
// recently used beyond maxListings, and temporary files left by a
// crashed write.
func (s *ListingStore) Prune() {
	entries, err := os.ReadDir(s.Dir)
	if err != nil {
		return
	}
	type entry struct {
		name string
		used time.Time
	}
	var keep []entry
	cutoff := time.Now().Add(-maxListingAge)
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		name := e.Name()
		switch {
		case strings.HasPrefix(name, ".listing-") && info.ModTime().Before(time.Now().Add(-time.Hour)):
			os.Remove(filepath.Join(s.Dir, name))
		case strings.HasSuffix(name, ".json.gz") && info.ModTime().Before(cutoff):
			os.Remove(filepath.Join(s.Dir, name))
		case strings.HasSuffix(name, ".json.gz"):
			keep = append(keep, entry{name, info.ModTime()})
		}
	}
	if len(keep) <= maxListings {
		return
	}
	sort.Slice(keep, func(i, j int) bool { return keep[i].used.After(keep[j].used) })
	for _, e := range keep[maxListings:] {
		os.Remove(filepath.Join(s.Dir, e.name))
	}
}

// Raw returns the stored entry of key as it is on disk, for carrying it to
// another machine (AddRaw).
func (s *ListingStore) Raw(key string) ([]byte, bool) {
	p, ok := s.path(key)
	if !ok {
		return nil, false
	}
	data, err := os.ReadFile(p)
	if err != nil || len(data) > maxListing {
		return nil, false
	}
	return data, true
}

// AddRaw stores an entry that Raw returned elsewhere, unless the store has
// key already. Its content is checked when Get reads it: a bad entry is a
// miss.
func (s *ListingStore) AddRaw(key string, data []byte) {
	p, ok := s.path(key)
	if !ok {
		return
	}
	if _, err := os.Stat(p); err == nil {
		return
	}
	atomicfile.Write(p, "", ".listing-*", data, 0o600)
}
