package cache

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/modhygiene/modhygiene/internal/cache/store"
	"github.com/modhygiene/modhygiene/internal/cache/store/local"
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// fixture returns a module cache holding the versions of testSum plus one
// stale version, and its keys.
func fixture(t *testing.T, shards int) (string, *Keys) {
	root := filepath.Join(t.TempDir(), "mod")
	writeVersion(t, root, "example.com/a", "v1.0.0", false)
	writeVersion(t, root, "example.com/B", "v1.2.0", false)
	writeVersion(t, root, "example.com/modonly", "v0.1.0", true)
	writeVersion(t, root, "example.com/c/v2", "v2.0.1", false)
	writeVersion(t, root, "example.com/a", "v0.9.0", false) // stale: no go.sum names it
	t.Cleanup(func() { removeAll(root) })
	return root, ModuleKeys(SumLines([]byte(testSum)), shards)
}

// tree describes every file and directory below root with its mode and
// content hash, leaving out dot directories.
func tree(t *testing.T, root string) string {
	t.Helper()
	var lines []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			t.Fatal(err)
		}
		if d.IsDir() && p != root && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		rel, _ := filepath.Rel(root, p)
		fi, _ := d.Info()
		line := fmt.Sprintf("%s %v", filepath.ToSlash(rel), fi.Mode())
		if fi.Mode().IsRegular() {
			data, _ := os.ReadFile(p)
			line += fmt.Sprintf(" %x", sha256.Sum256(data))
		}
		lines = append(lines, line)
		return nil
	})
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) opts() Options {
	return Options{Warn: func(m string) { w.mu.Lock(); w.msgs = append(w.msgs, m); w.mu.Unlock() }}
}

func (w *warnings) String() string { return strings.Join(w.msgs, "\n") }

func TestRoundTripPruned(t *testing.T) {
	for _, n := range []int{1, 3, 16} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			src, k := fixture(t, n)
			st := local.New(t.TempDir())
			var w warnings
			res := Save(context.Background(), st, ModuleSet(src, k), w.opts())
			if res.Status != Hit || res.Uploaded == 0 {
				t.Fatalf("save: %+v\n%s", res, &w)
			}
			// The expected cache: the source pruned to the go.sum versions.
			want := filepath.Join(t.TempDir(), "want")
			copyTree(t, src, want)
			t.Cleanup(func() { removeAll(want) })
			if _, err := Prune(want, Versions(SumLines([]byte(testSum))), false); err != nil {
				t.Fatal(err)
			}
			dst := filepath.Join(t.TempDir(), "mod")
			t.Cleanup(func() { removeAll(dst) })
			rr := Restore(context.Background(), st, ModuleSet(dst, k), w.opts())
			if rr.Status != Hit {
				t.Fatalf("restore: %+v\n%s", rr, &w)
			}
			if got, want := tree(t, dst), tree(t, want); got != want {
				t.Errorf("restored tree differs:\n got:\n%s\nwant:\n%s", got, want)
			}
			if strings.Contains(tree(t, dst), "v0.9.0") {
				t.Error("stale version restored")
			}
			// A second save of the same state is up to date.
			if res := Save(context.Background(), st, ModuleSet(src, k), w.opts()); !res.UpToDate {
				t.Errorf("second save: %+v", res)
			}
		})
	}
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	var dirs []string
	modes := map[string]fs.FileMode{}
	filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		must(t, err)
		rel, _ := filepath.Rel(src, p)
		q := filepath.Join(dst, rel)
		fi, _ := d.Info()
		if d.IsDir() {
			must(t, os.MkdirAll(q, 0o755))
			dirs = append(dirs, q)
			modes[q] = fi.Mode().Perm()
			return nil
		}
		data, err := os.ReadFile(p)
		must(t, err)
		must(t, os.WriteFile(q, data, fi.Mode().Perm()))
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		must(t, os.Chmod(dirs[i], modes[dirs[i]]))
	}
}

func TestBumpUploadsOneShard(t *testing.T) {
	src, k := fixture(t, 16)
	st := local.New(t.TempDir())
	var w warnings
	first := Save(context.Background(), st, ModuleSet(src, k), w.opts())
	writeVersion(t, src, "example.com/c/v2", "v2.0.2", false)
	sum2 := sumText(bumped()...)
	k2 := ModuleKeys(SumLines([]byte(sum2)), 16)
	second := Save(context.Background(), st, ModuleSet(src, k2), w.opts())
	if second.Uploaded != 1 || second.Reused != first.Uploaded-1 {
		t.Errorf("after a bump: uploaded %d, reused %d; first save uploaded %d\n%s", second.Uploaded, second.Reused, first.Uploaded, &w)
	}
	// Restoring the new key with a fallback to nothing else is a hit.
	dst := filepath.Join(t.TempDir(), "mod")
	t.Cleanup(func() { removeAll(dst) })
	if rr := Restore(context.Background(), st, ModuleSet(dst, k2), w.opts()); rr.Status != Hit {
		t.Errorf("restore: %+v", rr)
	}
}

func TestFallbackIsPartial(t *testing.T) {
	src, k := fixture(t, 4)
	st := local.New(t.TempDir())
	var w warnings
	Save(context.Background(), st, ModuleSet(src, k), w.opts())
	k2 := ModuleKeys(SumLines([]byte(testSum+"example.com/new v1.0.0/go.mod h1:hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh=\n")), 4)
	dst := filepath.Join(t.TempDir(), "mod")
	t.Cleanup(func() { removeAll(dst) })
	rr := Restore(context.Background(), st, ModuleSet(dst, k2), w.opts())
	if rr.Status != Partial || rr.Matched != k.Module {
		t.Errorf("restore with a new go.sum line: %+v", rr)
	}
}

func TestMissingShardIsPartial(t *testing.T) {
	src, k := fixture(t, 16)
	dir := t.TempDir()
	st := local.New(dir)
	var w warnings
	Save(context.Background(), st, ModuleSet(src, k), w.opts())
	removed := false
	for _, sh := range k.Shards {
		if len(sh.Versions) > 0 && !removed {
			removed = os.Remove(filepath.Join(dir, sh.Key)) == nil
		}
	}
	dst := filepath.Join(t.TempDir(), "mod")
	t.Cleanup(func() { removeAll(dst) })
	rr := Restore(context.Background(), st, ModuleSet(dst, k), w.opts())
	if rr.Status != Partial || rr.Restored != rr.Shards-1 {
		t.Errorf("restore with a shard missing: %+v\n%s", rr, &w)
	}
}

func TestRestoreOverReadOnlyFiles(t *testing.T) {
	src, k := fixture(t, 2)
	st := local.New(t.TempDir())
	var w warnings
	Save(context.Background(), st, ModuleSet(src, k), w.opts())
	// The destination already holds one version, read-only, with a
	// different file than the archive: it is left alone.
	dst := filepath.Join(t.TempDir(), "mod")
	t.Cleanup(func() { removeAll(dst) })
	writeVersion(t, dst, "example.com/a", "v1.0.0", false)
	rr := Restore(context.Background(), st, ModuleSet(dst, k), w.opts())
	if rr.Status != Hit || rr.Existing == 0 {
		t.Fatalf("restore over read-only files: %+v\n%s", rr, &w)
	}
	if _, err := os.Stat(filepath.Join(dst, "example.com", "!b@v1.2.0", "go.mod")); err != nil {
		t.Error(err)
	}
}

// hostile is one tar entry of a crafted archive.
type hostile struct {
	name, link string
	typ        byte
	size       int64
	body       string
}

func craft(t *testing.T, entries []hostile, truncate bool) []byte {
	var buf bytes.Buffer
	zw, _ := zstd.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: e.typ, Mode: 0o644, Size: e.size}
		if e.typ == tar.TypeReg && e.size == 0 {
			h.Size = int64(len(e.body))
		}
		if e.typ != tar.TypeReg {
			h.Size = 0
		}
		must(t, tw.WriteHeader(h))
		if e.typ == tar.TypeReg {
			if _, err := io.WriteString(tw, e.body); err != nil && e.size == 0 {
				t.Fatal(err)
			}
			if e.size > int64(len(e.body)) {
				io.Copy(tw, io.LimitReader(zeros{}, e.size-int64(len(e.body))))
			}
		}
	}
	tw.Close()
	zw.Close()
	data := buf.Bytes()
	if truncate {
		data = data[:len(data)*2/3]
	}
	return data
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// plant stores data as the only shard of a manifest under k.Module.
func plant(t *testing.T, dir string, k *Keys, data []byte, sum string) {
	if sum == "" {
		s := sha256.Sum256(data)
		sum = hex.EncodeToString(s[:])
	}
	key := k.Shards[0].Key
	must(t, os.WriteFile(filepath.Join(dir, key), data, 0o644))
	m := Manifest{Format: Format, Key: k.Module, Shards: []ShardEntry{{Key: key, SHA256: sum, Size: int64(len(data))}}}
	j, _ := json.Marshal(m)
	must(t, os.WriteFile(filepath.Join(dir, k.Module), j, 0o644))
}

func TestHostileArchives(t *testing.T) {
	reg := byte(tar.TypeReg)
	good := hostile{name: "example.com/a@v1.0.0/ok.go", typ: reg, body: "package a\n"}
	cases := map[string]struct {
		entries  []hostile
		truncate bool
		badSum   bool
		limits   Limits
	}{
		"tar-slip":         {entries: []hostile{good, {name: "../../evil", typ: reg, body: "x"}}},
		"tar-slip-inner":   {entries: []hostile{{name: "example.com/a@v1.0.0/../../../evil", typ: reg, body: "x"}}},
		"absolute":         {entries: []hostile{{name: "/tmp/evil", typ: reg, body: "x"}}},
		"symlink-escape":   {entries: []hostile{{name: "example.com/a@v1.0.0/l", link: "/etc", typ: tar.TypeSymlink}, {name: "example.com/a@v1.0.0/l/passwd", typ: reg, body: "x"}}},
		"symlink-relative": {entries: []hostile{{name: "example.com/a@v1.0.0/l", link: "../../../..", typ: tar.TypeSymlink}}},
		"hardlink":         {entries: []hostile{{name: "example.com/a@v1.0.0/h", link: "/etc/passwd", typ: tar.TypeLink}}},
		"device":           {entries: []hostile{{name: "example.com/a@v1.0.0/dev", typ: tar.TypeChar}}},
		"oversized":        {entries: []hostile{good, {name: "example.com/a@v1.0.0/big", typ: reg, size: 2 << 20}}, limits: Limits{MaxEntry: 1 << 20}},
		"over-total":       {entries: []hostile{{name: "example.com/a@v1.0.0/b1", typ: reg, size: 600 << 10}, {name: "example.com/a@v1.0.0/b2", typ: reg, size: 600 << 10}}, limits: Limits{MaxTotal: 1 << 20}},
		"truncated":        {entries: []hostile{good, {name: "example.com/a@v1.0.0/big", typ: reg, size: 1 << 20, body: strings.Repeat("random-ish ", 5000)}}, truncate: true},
		"wrong-checksum":   {entries: []hostile{good}, badSum: true},
		"duplicate":        {entries: []hostile{good, good}},
		"unclean":          {entries: []hostile{{name: "example.com//a@v1.0.0/x", typ: reg, body: "x"}}},
		"backslash":        {entries: []hostile{{name: `example.com\..\..\evil`, typ: reg, body: "x"}}},
		"dot":              {entries: []hostile{{name: "./", typ: tar.TypeDir}}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "store")
			must(t, os.MkdirAll(dir, 0o755))
			k := ModuleKeys(SumLines([]byte(testSum)), 1)
			sum := ""
			if c.badSum {
				sum = strings.Repeat("0", 64)
			}
			plant(t, dir, k, craft(t, c.entries, c.truncate), sum)
			dst := filepath.Join(parent, "root", "mod")
			t.Cleanup(func() { removeAll(dst) })
			writeVersion(t, dst, "example.com/B", "v1.2.0", false)
			before := tree(t, filepath.Join(parent, "root"))
			var w warnings
			o := w.opts()
			o.Limits = c.limits
			rr := Restore(context.Background(), local.New(dir), ModuleSet(dst, k), o)
			if rr.Status != Miss {
				t.Errorf("status %s, want miss", rr.Status)
			}
			if len(w.msgs) == 0 {
				t.Error("no warning")
			}
			if after := tree(t, filepath.Join(parent, "root")); after != before {
				t.Errorf("module cache changed:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			if _, err := os.Lstat(filepath.Join(parent, "evil")); err == nil {
				t.Error("file written outside the cache")
			}
			ents, _ := os.ReadDir(dst)
			for _, e := range ents {
				if strings.HasPrefix(e.Name(), ".modhygiene") {
					t.Errorf("temporary directory %s left behind", e.Name())
				}
			}
			t.Log(w.String())
		})
	}
}

func TestStoreDown(t *testing.T) {
	src, k := fixture(t, 4)
	var w warnings
	st := &failing{}
	if res := Save(context.Background(), st, ModuleSet(src, k), w.opts()); res.Status != Miss {
		t.Errorf("save to a store that is down: %+v", res)
	}
	dst := filepath.Join(t.TempDir(), "mod")
	if rr := Restore(context.Background(), st, ModuleSet(dst, k), w.opts()); rr.Status != Miss {
		t.Errorf("restore from a store that is down: %+v", rr)
	}
	if len(w.msgs) < 2 {
		t.Errorf("warnings: %q", w.msgs)
	}
}

type failing struct{}

func (failing) Open(context.Context, string, ...string) (*store.Entry, error) {
	return nil, fmt.Errorf("dial tcp 127.0.0.1:9: connection refused")
}
func (failing) Put(context.Context, string, io.Reader) (int64, error) {
	return 0, fmt.Errorf("dial tcp 127.0.0.1:9: connection refused")
}
func (failing) String() string { return "failing" }

func TestConcurrentSaves(t *testing.T) {
	src, k := fixture(t, 4)
	dir := t.TempDir()
	var wg sync.WaitGroup
	var w warnings
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			Save(context.Background(), local.New(dir), ModuleSet(src, k), w.opts())
		}()
	}
	wg.Wait()
	dst := filepath.Join(t.TempDir(), "mod")
	t.Cleanup(func() { removeAll(dst) })
	if rr := Restore(context.Background(), local.New(dir), ModuleSet(dst, k), w.opts()); rr.Status != Hit {
		t.Errorf("restore after concurrent saves: %+v\n%s", rr, &w)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left", e.Name())
		}
	}
}

func TestPrune(t *testing.T) {
	root, _ := fixture(t, 1)
	res, err := Prune(root, Versions(SumLines([]byte(testSum))), false)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(res.Removed, "\n")
	want := strings.Join([]string{
		"example.com/a@v0.9.0",
		"cache/download/example.com/a/@v/v0.9.0.info",
		"cache/download/example.com/a/@v/v0.9.0.lock",
		"cache/download/example.com/a/@v/v0.9.0.mod",
		"cache/download/example.com/a/@v/v0.9.0.zip",
		"cache/download/example.com/a/@v/v0.9.0.ziphash",
	}, "\n")
	if got != want {
		t.Errorf("removed:\n%s\nwant:\n%s", got, want)
	}
}

func TestKeysStable(t *testing.T) {
	a := ModuleKeys(SumLines([]byte(testSum)), 16)
	// Order, duplicates and blank or malformed lines do not change the key.
	shuffled := "garbage\n\n" + strings.Join(reverse(strings.Split(testSum, "\n")), "\n") + "\n" + testSum
	b := ModuleKeys(SumLines([]byte(shuffled)), 16)
	if a.Module != b.Module {
		t.Errorf("keys differ: %s %s", a.Module, b.Module)
	}
	// A bump changes the key of one shard only.
	c := ModuleKeys(SumLines([]byte(sumText(bumped()...))), 16)
	changed := 0
	for i := range a.Shards {
		if a.Shards[i].Key != c.Shards[i].Key {
			changed++
		}
	}
	if changed != 1 || a.Module == c.Module {
		t.Errorf("a bump changed %d shard keys", changed)
	}
	for _, s := range a.Shards {
		if err := store.CheckKey(s.Key); err != nil || strings.HasPrefix(s.Key, ModPrefix) {
			t.Errorf("shard key %s: %v", s.Key, err)
		}
	}
}

func reverse(s []string) []string {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
	return s
}

func TestUnitOf(t *testing.T) {
	for in, want := range map[string]string{
		"cache/download/x.com/a/@v/v1.0.0.zip": "cache/download/x.com/a/@v/v1.0.0.zip",
		"x.com/a@v1.0.0":                       "x.com/a@v1.0.0",
		"x.com/a@v1.0.0/b/c.go":                "x.com/a@v1.0.0/b/c.go"[:len("x.com/a@v1.0.0")],
		"00/abcdef-a":                          "00/abcdef-a",
	} {
		if got := unitOf(in); got != want {
			t.Errorf("unitOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBuildCache(t *testing.T) {
	ctx := context.Background()
	lines := SumLines([]byte(testSum))
	key, prefix := BuildKeys("go1.26.1", "linux", "amd64", lines)
	if !strings.HasPrefix(key, prefix) || !strings.Contains(prefix, "-go1.26.1-linux-amd64-") {
		t.Fatalf("build keys %s %s", key, prefix)
	}
	if k2, _ := BuildKeys("go1.26.2", "linux", "amd64", lines); k2 == key {
		t.Error("a Go patch release does not change the build cache key")
	}
	src := filepath.Join(t.TempDir(), "gocache")
	for _, f := range []string{"README", "trim.txt", "00/0011-a", "00/0011-d", "ab/ab22-a"} {
		p := filepath.Join(src, filepath.FromSlash(f))
		must(t, os.MkdirAll(filepath.Dir(p), 0o777))
		must(t, os.WriteFile(p, []byte(f), 0o666))
	}
	st := local.New(t.TempDir())
	var w warnings
	set, err := BuildSet(src, prefix, lines)
	must(t, err)
	if res := Save(ctx, st, set, w.opts()); res.Status != Hit || res.Files != 5 {
		t.Fatalf("save: %+v\n%s", res, &w)
	}
	dst := filepath.Join(t.TempDir(), "gocache")
	rr := Restore(ctx, st, BuildRestoreSet(dst, prefix, lines), w.opts())
	if rr.Status != Partial || rr.Files != 5 {
		t.Fatalf("restore: %+v\n%s", rr, &w)
	}
	must(t, MarkRestored(dst))
	// Restored entries look old; the go command refreshes the time of the
	// ones it uses. Only those, and new ones, are saved next.
	fi, err := os.Stat(filepath.Join(dst, "00", "0011-a"))
	must(t, err)
	if time.Since(fi.ModTime()) < time.Hour {
		t.Errorf("restored entry is %v old, want over an hour", time.Since(fi.ModTime()))
	}
	now := time.Now()
	must(t, os.Chtimes(filepath.Join(dst, "00", "0011-a"), now, now))
	must(t, os.MkdirAll(filepath.Join(dst, "cd"), 0o777))
	must(t, os.WriteFile(filepath.Join(dst, "cd", "cd33-a"), nil, 0o666))
	set2, err := BuildSet(dst, prefix, lines)
	must(t, err)
	var got []string
	for _, sh := range set2.Shards {
		got = append(got, sh.Units...)
	}
	if strings.Join(got, " ") != "00/0011-a cd/cd33-a" {
		t.Errorf("saved after use: %q, want the used and the new entry", got)
	}
	if set2.Key == set.Key {
		t.Error("a changed build cache keeps its key")
	}
}

func TestEvictedShardUploadedAgain(t *testing.T) {
	src, k := fixture(t, 4)
	dir := t.TempDir()
	st := local.New(dir)
	var w warnings
	first := Save(context.Background(), st, ModuleSet(src, k), w.opts())
	// The store evicts one shard; the next state's save must not keep
	// pointing at it.
	var evicted string
	for _, sh := range k.Shards {
		if len(sh.Versions) > 0 && !strings.Contains(strings.Join(sh.Lines, " "), "example.com/c/v2") {
			evicted = sh.Key
			break
		}
	}
	must(t, os.Remove(filepath.Join(dir, evicted)))
	writeVersion(t, src, "example.com/c/v2", "v2.0.2", false)
	k2 := ModuleKeys(SumLines([]byte(sumText(bumped()...))), 4)
	second := Save(context.Background(), st, ModuleSet(src, k2), w.opts())
	if second.Uploaded != 2 || second.Reused != first.Uploaded-2 {
		t.Errorf("after an eviction and a bump: uploaded %d, reused %d (first save %d)\n%s", second.Uploaded, second.Reused, first.Uploaded, &w)
	}
	dst := filepath.Join(t.TempDir(), "mod")
	t.Cleanup(func() { removeAll(dst) })
	if rr := Restore(context.Background(), st, ModuleSet(dst, k2), w.opts()); rr.Status != Hit {
		t.Errorf("restore: %+v\n%s", rr, &w)
	}
}
