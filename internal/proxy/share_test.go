package proxy

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modhygiene/modhygiene/internal/cache/store"
	"github.com/modhygiene/modhygiene/internal/proxy/proxytest"
)

func TestStoreKey(t *testing.T) {
	seen := map[string]string{}
	for _, rel := range []string{
		"github.com/!azure/go-autorest/@v/v1.2.3.zip",
		"github.com/azure/go-autorest/@v/v1.2.3.zip",
		"example.com/old/@v/v2.0.0+incompatible.mod",
		"example.com/old/@v/v2.0.0_2bincompatible.mod",
		"example.com/a_b/@v/v1.0.0.info",
		"example.com/a/b/@v/v1.0.0.info",
		"example.com/~x/@v/v1.0.0.info",
	} {
		k, ok := StoreKey(rel)
		if !ok || store.CheckKey(k) != nil {
			t.Errorf("StoreKey(%q) = %q, %v: not a valid key", rel, k, ok)
		}
		if other, dup := seen[k]; dup {
			t.Errorf("StoreKey(%q) = StoreKey(%q) = %q", rel, other, k)
		}
		seen[k] = rel
	}
	if k, _ := StoreKey("example.com/a/@v/v1.0.0.zip"); k != "goproxy-v1-example.com_2fa_2f_40v_2fv1.0.0.zip" {
		t.Errorf("key %q", k)
	}
	if _, ok := StoreKey(strings.Repeat("a/", 300) + "@v/v1.0.0.zip"); ok {
		t.Error("a key longer than stores accept was accepted")
	}
}

// waitShares waits for the background verifications and uploads.
func waitShares(s *Server) { s.shares.Wait() }

// storeHas reports the content of key in st.
func storeHas(t *testing.T, st store.Store, rel string) ([]byte, bool) {
	t.Helper()
	key, _ := StoreKey(rel)
	e, err := st.Open(context.Background(), key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	defer e.Body.Close()
	data, err := io.ReadAll(e.Body)
	if err != nil {
		t.Fatal(err)
	}
	return data, true
}

func TestVerifiedFilesAreShared(t *testing.T) {
	f := newFixture(t, 3)
	_, u := f.mirror(t, proxytest.Behavior{})
	st := newLocalStore(t.TempDir())
	s := start(t, Options{Mirrors: []Mirror{{URL: u}}, Store: st, SumDB: f.gosumdb(t)})
	var rels []string
	for _, mod := range f.mods[:5] {
		for _, ext := range []string{"info", "mod", "zip"} {
			rels = append(rels, rel(t, mod.Path, mod.Version, ext))
		}
	}
	for _, p := range rels {
		f.mustGet(t, s, p)
	}
	waitShares(s)
	for _, p := range rels {
		if data, ok := storeHas(t, st, p); !ok || !bytes.Equal(data, f.file(t, p)) {
			t.Errorf("%s: in store %v, same as the corpus %v", p, ok, bytes.Equal(data, f.file(t, p)))
		}
	}
	if stats := s.Stats(); stats.Shared.Hits != int64(len(rels)) || stats.Rejected != 0 {
		t.Errorf("shared %d, rejected %d; want %d, 0", stats.Shared.Hits, stats.Rejected, len(rels))
	}

	// A second runner: nothing local, every mirror down, the same store.
	s2 := start(t, Options{Mirrors: []Mirror{{URL: downURL(t)}}, Store: st, SumDB: f.gosumdb(t)})
	for _, p := range rels {
		f.mustGet(t, s2, p)
	}
	if stats := s2.Stats(); stats.Store.Hits != int64(len(rels)) || stats.Mirrors[0].Requests != 0 {
		t.Errorf("second runner: %d store hits, %d mirror requests; want %d, 0", stats.Store.Hits, stats.Mirrors[0].Requests, len(rels))
	}
}

// TestGarbledStoreEntryIsAMiss: a store entry that is not what its key
// says (a zip that is no zip, a zip of another module) is never served;
// the mirror's answer is.
func TestGarbledStoreEntryIsAMiss(t *testing.T) {
	f := newFixture(t, 2)
	m, u := f.mirror(t, proxytest.Behavior{})
	st := newLocalStore(t.TempDir())
	first := rel(t, f.mods[0].Path, f.mods[0].Version, "zip")
	second := rel(t, f.mods[1].Path, f.mods[1].Version, "zip")
	for p, body := range map[string][]byte{first: []byte("not a zip"), second: f.file(t, first)} {
		key, _ := StoreKey(p)
		if _, err := st.Put(context.Background(), key, bytes.NewReader(body)); err != nil {
			t.Fatal(err)
		}
	}
	s := start(t, Options{Mirrors: []Mirror{{URL: u}}, Store: st, SumDB: f.gosumdb(t), Log: io.Discard})
	f.mustGet(t, s, first)
	f.mustGet(t, s, second)
	if stats := s.Stats(); stats.Store.Hits != 0 || m.Count("/"+first) != 1 || m.Count("/"+second) != 1 {
		t.Errorf("%d store hits, mirror asked %d and %d times; want 0, 1, 1", stats.Store.Hits, m.Count("/"+first), m.Count("/"+second))
	}
}

// TestLyingMirrorNeverReachesTheStore: the fastest mirror serves altered
// go.mod and zip files. The go command would refuse them (go.sum and the
// checksum database); the proxy must not share them, must demote the
// mirror, and must serve the true files from then on.
func TestLyingMirrorNeverReachesTheStore(t *testing.T) {
	f := newFixture(t, 3)
	_, liarURL := f.mirror(t, proxytest.Behavior{Lie: true})
	_, honestURL := f.mirror(t, proxytest.Behavior{Latency: 10 * time.Millisecond})
	st := newLocalStore(t.TempDir())
	var log syncBuffer
	s := start(t, Options{Mirrors: []Mirror{
		{Name: "liar", URL: liarURL, Samples: []time.Duration{time.Millisecond}},
		{Name: "honest", URL: honestURL, Samples: []time.Duration{30 * time.Millisecond}},
	}, Store: st, SumDB: f.gosumdb(t), Log: &log})
	zip0, mod0 := rel(t, "example.com/fx/m000", "v1.0.0", "zip"), rel(t, "example.com/fx/m000", "v1.0.0", "mod")
	for _, p := range []string{zip0, mod0} {
		if code, _ := get(t, s, p); code != http.StatusOK {
			t.Fatalf("GET %s: %d", p, code)
		}
	}
	waitShares(s)
	stats := s.Stats()
	if stats.Rejected < 1 || stats.Mirrors[0].Demoted == "" {
		t.Fatalf("rejected %d, liar %+v; log:\n%s", stats.Rejected, stats.Mirrors[0], log.String())
	}
	// From now on the honest mirror answers, and what it serves is shared.
	for _, mod := range f.mods[:4] {
		for _, ext := range []string{"mod", "zip", "info"} {
			f.mustGet(t, s, rel(t, mod.Path, mod.Version, ext))
		}
	}
	waitShares(s)
	filepath.WalkDir(string(st.Dir), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, _ := os.ReadFile(p)
		if bytes.Contains(data, []byte("altered by a lying mirror")) {
			t.Errorf("the store holds the lying mirror's %s", d.Name())
		}
		return nil
	})
	for _, p := range []string{zip0, mod0} {
		if data, ok := storeHas(t, st, p); !ok || !bytes.Equal(data, f.file(t, p)) {
			t.Errorf("%s: in the store %v, true %v", p, ok, bytes.Equal(data, f.file(t, p)))
		}
	}
}

func TestNothingSharedWithoutAChecksumDatabase(t *testing.T) {
	f := newFixture(t, 2)
	_, u := f.mirror(t, proxytest.Behavior{})
	dir := t.TempDir()
	for _, sumdb := range []string{"", "off", dbName} { // the last: no key
		s := start(t, Options{Mirrors: []Mirror{{URL: u}}, Store: newLocalStore(dir), SumDB: sumdb})
		f.mustGet(t, s, rel(t, "example.com/fx/m000", "v1.0.0", "zip"))
		waitShares(s)
		if st := s.Stats(); st.Unverified != 1 || st.Shared.Hits != 0 {
			t.Errorf("GOSUMDB=%q: unverified %d, shared %d; want 1, 0", sumdb, st.Unverified, st.Shared.Hits)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("the store has %d entries", len(ents))
	}
}

func TestPrivateModulesNeverReachTheStore(t *testing.T) {
	f := newFixture(t, 2)
	_, u := f.mirror(t, proxytest.Behavior{})
	dir := t.TempDir()
	// GONOSUMDB alone: the mirror may serve it, the store never sees it.
	s := start(t, Options{Mirrors: []Mirror{{URL: u}}, Store: newLocalStore(dir), SumDB: f.gosumdb(t), NoSumDB: "corp.example"})
	f.mustGet(t, s, rel(t, "corp.example/secret", "v1.0.0", "zip"))
	waitShares(s)
	if ents, _ := os.ReadDir(dir); len(ents) != 0 || s.Stats().SharePrivate != 1 {
		t.Errorf("the store has %d entries; share private %d", len(ents), s.Stats().SharePrivate)
	}
}

// failingStore fails every call.
type failingStore struct{ calls int }

func (s *failingStore) Open(context.Context, string, ...string) (*store.Entry, error) {
	s.calls++
	return nil, errors.New("store down")
}

func (s *failingStore) Put(context.Context, string, io.Reader) (int64, error) {
	s.calls++
	return 0, errors.New("store down")
}

func (s *failingStore) String() string { return "failing://" }

func TestStoreDownIsAMiss(t *testing.T) {
	f := newFixture(t, 6)
	_, u := f.mirror(t, proxytest.Behavior{})
	fs := &failingStore{}
	var log syncBuffer
	s := start(t, Options{Mirrors: []Mirror{{URL: u}}, Store: fs, SumDB: f.gosumdb(t), Log: &log})
	for _, mod := range f.mods[:6] {
		f.mustGet(t, s, rel(t, mod.Path, mod.Version, "mod"))
	}
	waitShares(s)
	if fs.calls > 3 || !strings.Contains(log.String(), "not used for the rest of the run") {
		t.Errorf("%d store calls, log:\n%s", fs.calls, log.String())
	}
}

func TestSumDBEndpoints(t *testing.T) {
	f := newFixture(t, 2)
	none, noneURL := f.mirror(t, proxytest.Behavior{NoSumDB: true})
	_, u := f.mirror(t, proxytest.Behavior{Latency: 5 * time.Millisecond})
	ms := []time.Duration{time.Millisecond}
	s := start(t, Options{Mirrors: []Mirror{{URL: noneURL, Samples: ms}, {URL: u, Samples: ms}}, SumDB: f.gosumdb(t), NoSumDB: "corp.example"})
	base := "sumdb/" + dbName + "/"
	if code, _ := get(t, s, base+"supported"); code != http.StatusOK {
		t.Errorf("supported: %d", code)
	}
	for _, p := range []string{"lookup/example.com/fx/m000@v1.0.0", "lookup/example.com/fx/m001@v1.0.0", "tile/8/0/000.p/2", "latest"} {
		code, body := get(t, s, base+p)
		if code != http.StatusOK {
			t.Errorf("%s: %d %s", p, code, body)
		}
	}
	if code, _ := get(t, s, base+"lookup/example.com/none@v1.0.0"); code != http.StatusNotFound {
		t.Errorf("lookup of an unknown module: %d, want 404", code)
	}
	before := none.Total()
	get(t, s, base+"lookup/example.com/Upper/!case@v1.2.3")
	if none.Total() != before {
		t.Error("a mirror that does not serve the database was asked again")
	}
	if code, _ := get(t, s, base+"lookup/corp.example/secret@v1.0.0"); code != http.StatusNotFound {
		t.Errorf("lookup of a private module: %d, want 404", code)
	}
	if code, _ := get(t, s, "sumdb/other.example/supported"); code != http.StatusNotFound {
		t.Errorf("another database: %d, want 404", code)
	}
}
