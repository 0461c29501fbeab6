package tidy

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// memoFile is the memo's file name in its directory.
const memoFile = "memo-v3.json"

// memoFormat names the format of the memo file and of exported entries.
const memoFormat = "modhygiene-tidy-memo/3"

// Limits on imported entries: a memo is a key per module, so anything
// bigger did not come from us.
const (
	maxMemoBlob    = 4 << 20
	maxMemoEntries = 100000
	// keepPerModule bounds a module's entries in a local memo.
	keepPerModule = 8
)

// Memo remembers the modules found tidy: an entry is a key that hashes
// every input of tidy for one module (see the package documentation), so a
// stale entry can only ever be a miss. Keys hold no absolute path, mtime
// or inode, so a memo exported on one machine (MarshalEntries) matches on
// another checkout of the same files (Import): CI saves it with the cache
// and restores it before tidy.
//
// A Memo opened on a directory keeps beside its entries a stat cache (the
// digest of each file by path, size, times and inode) that spares reading
// files that did not change; it never leaves the machine. A Memo is safe
// for concurrent use.
type Memo struct {
	mu      sync.Mutex
	dir     string
	entries map[string]memoEntry
	stats   *statCache
	now     func() time.Time
	dirty   bool
}

// memoEntry is one remembered tidy module.
type memoEntry struct {
	Key string `json:"key"`
	// Module is the module's directory relative to the repository root
	// ("." for the root), for exporting one entry per module.
	Module string `json:"module"`
	// Seen is when the module was last found tidy with this key (Unix
	// seconds).
	Seen int64 `json:"seen"`
	// From labels entries that came from Import (the ref they were saved
	// on); empty for entries made here.
	From string `json:"from,omitempty"`
}

type memoBlob struct {
	Format  string      `json:"format"`
	Entries []memoEntry `json:"entries"`
}

// NewMemo returns an empty memo that lives in memory only.
func NewMemo() *Memo {
	return &Memo{entries: map[string]memoEntry{}, stats: openStatCache(""), now: time.Now}
}

// OpenMemo returns the memo stored in dir (nothing is created until Save).
// A memo file that cannot be read or parsed gives an empty memo together
// with an error saying why, which the caller reports as a warning: a memo
// problem is a miss, never a failure.
func OpenMemo(dir string) (*Memo, error) {
	m := NewMemo()
	m.dir = dir
	m.stats = openStatCache(dir)
	entries, err := readMemoFile(filepath.Join(dir, memoFile))
	for _, e := range entries {
		m.entries[e.Key] = e
	}
	return m, err
}

func readMemoFile(p string) ([]memoEntry, error) {
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("tidy memo: %w", err)
	}
	entries, err := parseEntries(data)
	if err != nil {
		return nil, fmt.Errorf("tidy memo %s: %w", p, err)
	}
	return entries, nil
}

// parseEntries decodes and validates a memo blob.
func parseEntries(data []byte) ([]memoEntry, error) {
	if len(data) > maxMemoBlob {
		return nil, fmt.Errorf("%d bytes, more than the %d a memo may hold", len(data), maxMemoBlob)
	}
	var b memoBlob
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return nil, fmt.Errorf("not a tidy memo: %v", err)
	}
	if b.Format != memoFormat {
		return nil, fmt.Errorf("format %q, want %q", b.Format, memoFormat)
	}
	if len(b.Entries) > maxMemoEntries {
		return nil, fmt.Errorf("%d entries, more than %d", len(b.Entries), maxMemoEntries)
	}
	for i, e := range b.Entries {
		if err := e.check(); err != nil {
			return nil, fmt.Errorf("entry %d: %v", i+1, err)
		}
	}
	return b.Entries, nil
}

func (e memoEntry) check() error {
	if len(e.Key) != 64 {
		return fmt.Errorf("key %q is not a sha256", e.Key)
	}
	if _, err := hex.DecodeString(e.Key); err != nil {
		return fmt.Errorf("key %q is not a sha256", e.Key)
	}
	if e.Module == "" || path.IsAbs(e.Module) || path.Clean(e.Module) != e.Module || e.Module == ".." || len(e.Module) > 4096 ||
		len(e.Module) >= 3 && e.Module[:3] == "../" {
		return fmt.Errorf("module directory %q is not a clean relative path", e.Module)
	}
	if len(e.From) > 1024 {
		return fmt.Errorf("label of %d bytes", len(e.From))
	}
	return nil
}

// Len returns the number of entries.
func (m *Memo) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}

// lookup returns the entry with key and marks it seen.
func (m *Memo) lookup(key string) (memoEntry, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[key]
	if ok {
		e.Seen = m.now().Unix()
		m.entries[key] = e
		m.dirty = true
	}
	return e, ok
}

// put records that module (its repository-relative directory) is tidy
// with key.
func (m *Memo) put(key, module string) {
	if key == "" {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries[key] = memoEntry{Key: key, Module: module, Seen: m.now().Unix()}
	m.dirty = true
}

// MarshalEntries exports the memo for another machine or a later CI run:
// for each module, the entry seen last (so after a run, the entries that
// match the files as they are). The blob is small (a key and a directory
// per module), JSON, and holds no absolute path.
func (m *Memo) MarshalEntries() ([]byte, error) {
	m.mu.Lock()
	latest := map[string]memoEntry{}
	for _, e := range m.entries {
		if l, ok := latest[e.Module]; !ok || e.Seen > l.Seen || e.Seen == l.Seen && e.Key < l.Key {
			latest[e.Module] = e
		}
	}
	m.mu.Unlock()
	b := memoBlob{Format: memoFormat, Entries: []memoEntry{}}
	for _, e := range latest {
		e.From = ""
		b.Entries = append(b.Entries, e)
	}
	sort.Slice(b.Entries, func(i, j int) bool { return b.Entries[i].Module < b.Entries[j].Module })
	return json.Marshal(b)
}

// Import merges entries exported by MarshalEntries into the memo and
// returns how many it added. from labels them for the report (the ref the
// blob was saved on, such as "main"); a result matched by one of them has
// MemoFrom set to it. A blob that is not a valid memo is refused whole with
// an error and changes nothing. The memo trusts the blob: import only what
// the job's own trusted cache saved.
func (m *Memo) Import(data []byte, from string) (int, error) {
	entries, err := parseEntries(data)
	if err != nil {
		return 0, fmt.Errorf("import tidy memo: %w", err)
	}
	if len(from) > 1024 {
		return 0, errors.New("import tidy memo: label too long")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now().Unix()
	n := 0
	for _, e := range entries {
		if _, ok := m.entries[e.Key]; ok {
			continue
		}
		e.From, e.Seen = from, min(e.Seen, now) // another machine's clock may run ahead
		m.entries[e.Key] = e
		n++
	}
	if n > 0 {
		m.dirty = true
	}
	return n, nil
}

// Save writes the memo and its stat cache to the directory it was opened
// on (a memo from NewMemo has nowhere to go and Save does nothing). Entries
// another process saved meanwhile are kept; old entries are pruned. The
// files are replaced atomically.
func (m *Memo) Save() error {
	if m.dir == "" {
		return nil
	}
	serr := m.stats.save()
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.dirty {
		return serr
	}
	p := filepath.Join(m.dir, memoFile)
	onDisk, _ := readMemoFile(p)
	for _, e := range onDisk {
		if cur, ok := m.entries[e.Key]; !ok || e.Seen > cur.Seen {
			m.entries[e.Key] = e
		}
	}
	data, err := json.Marshal(memoBlob{Format: memoFormat, Entries: m.pruned()})
	if err == nil {
		err = writeFileAtomic(p, data)
	}
	if err != nil {
		return fmt.Errorf("save tidy memo: %w", err)
	}
	m.dirty = false
	removeLegacyEntries(m.dir)
	return serr
}

// pruned returns the entries seen within staleAfter, at most keepPerModule
// per module, newest first.
func (m *Memo) pruned() []memoEntry {
	oldest := m.now().Add(-staleAfter).Unix()
	byModule := map[string][]memoEntry{}
	for _, e := range m.entries {
		if e.Seen >= oldest {
			byModule[e.Module] = append(byModule[e.Module], e)
		}
	}
	out := []memoEntry{}
	for _, es := range byModule {
		sort.Slice(es, func(i, j int) bool {
			return es[i].Seen > es[j].Seen || es[i].Seen == es[j].Seen && es[i].Key < es[j].Key
		})
		out = append(out, es[:min(len(es), keepPerModule)]...)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Module < out[j].Module || out[i].Module == out[j].Module && out[i].Key < out[j].Key
	})
	return out
}

// removeLegacyEntries deletes the empty files, named by a key, that earlier
// versions kept as memo entries.
func removeLegacyEntries(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if n := e.Name(); len(n) == 64 && e.Type().IsRegular() {
			if _, err := hex.DecodeString(n); err == nil {
				os.Remove(filepath.Join(dir, n))
			}
		}
	}
}
