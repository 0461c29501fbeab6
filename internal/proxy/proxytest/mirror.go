package proxytest

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Behavior is how a Mirror misbehaves. The zero value is a prompt, honest
// mirror.
type Behavior struct {
	// Latency is waited before every answer.
	Latency time.Duration
	// Status, when set, is the answer to every request (such as 500).
	Status int
	// HangAfter, when positive, makes every request after the first
	// HangAfter hang.
	HangAfter int64
	// HangEvery, when positive, makes every HangEvery-th request hang.
	HangEvery int64
	// HangFor is how long a hanging request hangs before the connection is
	// dropped; zero means until the client gives up.
	HangFor time.Duration
	// Truncate sends half of every .info, .mod and .zip with the full
	// Content-Length, then drops the connection.
	Truncate bool
	// Lie serves altered .mod and .zip files: well formed, with other
	// hashes than the checksum database's.
	Lie bool
	// NoSumDB answers 404 to every checksum-database request.
	NoSumDB bool
}

// Mirror serves a corpus directory in the GOPROXY layout, and the
// checksum database db (when not nil) below sumdb/<name>/, with a set
// behaviour. It counts the requests it receives. It synthesizes the .info
// of a version whose .mod it has but whose .info it lacks, as a full proxy
// would (the module cache keeps .info files only for versions the go
// command asked about). It is safe for concurrent use.
type Mirror struct {
	dir string
	b   Behavior
	db  *SumDB

	n      atomic.Int64
	mu     sync.Mutex
	counts map[string]int
	quit   chan struct{}
	once   sync.Once
}

// NewMirror returns a mirror of the corpus in dir.
func NewMirror(dir string, b Behavior, db *SumDB) *Mirror {
	return &Mirror{dir: dir, b: b, db: db, counts: map[string]int{}, quit: make(chan struct{})}
}

// Release ends every hang now and later, so that the server can close.
func (m *Mirror) Release() { m.once.Do(func() { close(m.quit) }) }

// Count returns how many requests asked for the URL path p.
func (m *Mirror) Count(p string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.counts[p]
}

// Total returns how many requests the mirror received.
func (m *Mirror) Total() int64 { return m.n.Load() }

// Paths returns the URL paths asked for, sorted.
func (m *Mirror) Paths() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ps []string
	for p := range m.counts {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return ps
}

// ServeHTTP answers one request according to the behaviour.
func (m *Mirror) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := m.n.Add(1)
	m.mu.Lock()
	m.counts[r.URL.Path]++
	m.mu.Unlock()
	if !m.wait(r, m.b.Latency) {
		return
	}
	if m.b.HangAfter > 0 && n > m.b.HangAfter || m.b.HangEvery > 0 && n%m.b.HangEvery == 0 {
		d := m.b.HangFor
		if d == 0 {
			d = 365 * 24 * time.Hour
		}
		m.wait(r, d)
		panic(http.ErrAbortHandler) // drop the connection
	}
	if m.b.Status != 0 {
		http.Error(w, "set to fail", m.b.Status)
		return
	}
	if rest, ok := strings.CutPrefix(r.URL.Path, "/sumdb/"); ok {
		m.serveSumDB(w, r, rest)
		return
	}
	data, err := m.read(r.URL.Path)
	if err != nil {
		http.Error(w, "not found: "+r.URL.Path, http.StatusNotFound)
		return
	}
	ext := path.Ext(r.URL.Path)
	if m.b.Lie {
		data = lie(ext, data)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	if m.b.Truncate && (ext == ".info" || ext == ".mod" || ext == ".zip") {
		w.Write(data[:len(data)/2])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}
	w.Write(data)
}

// wait waits d, or until the client goes away or the mirror is released,
// and reports whether the wait ran out.
func (m *Mirror) wait(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return r.Context().Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
	case <-m.quit:
	}
	return false
}

func (m *Mirror) serveSumDB(w http.ResponseWriter, r *http.Request, rest string) {
	if m.db == nil || m.b.NoSumDB || !strings.HasPrefix(rest, m.db.Name+"/") {
		http.NotFound(w, r)
		return
	}
	sub := strings.TrimPrefix(rest, m.db.Name)
	if sub == "/supported" {
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = sub
	m.db.ServeHTTP(w, r2)
}

// read returns the corpus file for a URL path.
func (m *Mirror) read(p string) ([]byte, error) {
	if strings.Contains(p, "..") || strings.HasSuffix(p, "/") {
		return nil, os.ErrNotExist
	}
	local := filepath.Join(m.dir, filepath.FromSlash(p))
	data, err := os.ReadFile(local)
	if err == nil || !strings.HasSuffix(p, ".info") {
		return data, err
	}
	fi, err := os.Stat(strings.TrimSuffix(local, ".info") + ".mod")
	if err != nil {
		return nil, err
	}
	v := strings.TrimSuffix(path.Base(p), ".info")
	return []byte(fmt.Sprintf("{\"Version\":%q,\"Time\":%q}\n", v, fi.ModTime().UTC().Format(time.RFC3339))), nil
}

// lie alters a .mod or .zip so that it stays well formed but hashes
// differently.
func lie(ext string, data []byte) []byte {
	switch ext {
	case ".mod":
		return append(append([]byte(nil), data...), "\n// altered by a lying mirror\n"...)
	case ".zip":
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil || len(zr.File) == 0 {
			return data
		}
		var out bytes.Buffer
		zw := zip.NewWriter(&out)
		for _, f := range zr.File {
			rc, err := f.Open()
			if err != nil {
				return data
			}
			body, _ := io.ReadAll(rc)
			rc.Close()
			if strings.HasSuffix(f.Name, ".go") {
				body = append(body, "\n// altered by a lying mirror\n"...)
			}
			fw, _ := zw.Create(f.Name)
			fw.Write(body)
		}
		zw.Close()
		return out.Bytes()
	}
	return data
}
