package cache

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"golang.org/x/mod/sumdb/dirhash"

	"github.com/modhygiene/modhygiene/internal/cache/store"
	"github.com/modhygiene/modhygiene/internal/cache/store/local"
)

// TestHash1IsDirhash checks that the tree hash computed from the sums taken
// while extracting is the go command's (dirhash.HashDir), and the go.mod
// hash its dirhash.Hash1 of "go.mod".
func TestHash1IsDirhash(t *testing.T) {
	root := t.TempDir()
	writeVersion(t, root, "example.com/B", "v1.2.0", false)
	dir := filepath.Join(root, "example.com", "!b@v1.2.0")
	want, err := dirhash.HashDir(dir, "example.com/B@v1.2.0", dirhash.DefaultHash)
	must(t, err)
	files := map[string]fileSum{}
	for name, f := range treeFiles("example.com/B", "v1.2.0") {
		files[name] = fileSum{sha: sha256.Sum256([]byte(f.data))}
	}
	if got := hash1("example.com/B@v1.2.0", files); got != want {
		t.Errorf("hash1 = %s, dirhash.HashDir = %s", got, want)
	}
	h1, mod := sumsOf("example.com/B", "v1.2.0")
	if h1 != want {
		t.Errorf("fixture h1 %s, want %s", h1, want)
	}
	if got := modHash(sha256.Sum256([]byte("module example.com/B\n"))); got != mod {
		t.Errorf("modHash = %s, want %s", got, mod)
	}
	zh, err := hashZip(filepath.Join(root, "cache", "download", "example.com", "!b", "@v", "v1.2.0.zip"))
	must(t, err)
	if zh != want {
		t.Errorf("hashZip = %s, want %s", zh, want)
	}
}

func TestClassify(t *testing.T) {
	s := NewSums(SumLines([]byte(testSum)))
	for name, want := range map[string]unitKind{
		"cache/download/example.com/a/@v/v1.0.0.zip":         kindZip,
		"cache/download/example.com/a/@v/v1.0.0.ziphash":     kindZiphash,
		"cache/download/example.com/a/@v/v1.0.0.mod":         kindMod,
		"cache/download/example.com/a/@v/v1.0.0.info":        kindInfo,
		"cache/download/example.com/a/@v/v1.0.0.lock":        kindLock,
		"cache/download/example.com/a/@v/v1.0.0.partial":     kindNone,
		"cache/download/example.com/a/@v/list":               kindNone,
		"cache/download/example.com/a/@v/v0.9.0.zip":         kindNone, // no go.sum line
		"cache/download/example.com/modonly/@v/v0.1.0.mod":   kindMod,
		"cache/download/example.com/modonly/@v/v0.1.0.zip":   kindNone, // only a /go.mod line
		"example.com/modonly@v0.1.0/go.mod":                  kindNone,
		"cache/download/sumdb/sum.example/lookup/x@v1.0.0":   kindNone,
		"cache/vcs/0123/config":                              kindNone,
		"example.com/a@v1.0.0/sub/x.go":                      kindTree,
		"example.com/!b@v1.2.0/go.mod":                       kindTree,
		"example.com/a@v0.9.0/x.go":                          kindNone,
		"example.com/other/a@v1.0.0/x.go":                    kindNone,
		"cache/download/example.com/a/@v/sub/v1.0.0.zip":     kindNone,
		"modhygiene-gomod-v1-m-0123456789abcdef0123456789ab": kindNone,
	} {
		if _, got := s.classify(name); got != want {
			t.Errorf("classify(%q) = %d, want %d", name, got, want)
		}
	}
}

// poison changes the saved cache at root in one way, go.sum staying as it is.
var poisons = map[string]func(t *testing.T, root string){
	"tree": func(t *testing.T, root string) {
		rewrite(t, filepath.Join(root, "example.com", "a@v1.0.0", "sub", "x.go"), "package sub\n\nfunc init() { panic(\"planted\") }\n")
	},
	"tree-extra-file": func(t *testing.T, root string) {
		p := filepath.Join(root, "example.com", "a@v1.0.0", "sub")
		os.Chmod(p, 0o755)
		must(t, os.WriteFile(filepath.Join(p, "planted.go"), []byte("package sub\n"), 0o444))
	},
	"zip": func(t *testing.T, root string) {
		dl := filepath.Join(root, "cache", "download", "example.com", "a", "@v")
		rewrite(t, filepath.Join(dl, "v1.0.0.zip"), string(zipOf(t, "example.com/a", "v1.0.1")))
	},
	"zip-without-tree": func(t *testing.T, root string) {
		tree := filepath.Join(root, "example.com", "a@v1.0.0")
		removeAll(tree)
		dl := filepath.Join(root, "cache", "download", "example.com", "a", "@v")
		rewrite(t, filepath.Join(dl, "v1.0.0.zip"), string(zipOf(t, "example.com/a", "v1.0.1")))
	},
	"ziphash": func(t *testing.T, root string) {
		rewrite(t, filepath.Join(root, "cache", "download", "example.com", "a", "@v", "v1.0.0.ziphash"), "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	},
	"mod": func(t *testing.T, root string) {
		rewrite(t, filepath.Join(root, "cache", "download", "example.com", "a", "@v", "v1.0.0.mod"), "module example.com/a\n\nrequire example.com/evil v1.0.0\n")
	},
	"info": func(t *testing.T, root string) {
		rewrite(t, filepath.Join(root, "cache", "download", "example.com", "a", "@v", "v1.0.0.info"), `{"Version":"v9.9.9"}`)
	},
}

func rewrite(t *testing.T, p, data string) {
	t.Helper()
	os.Chmod(filepath.Dir(p), 0o755)
	os.Remove(p)
	must(t, os.WriteFile(p, []byte(data), 0o444))
}

// TestPoisonedShard saves a cache of which one unit was altered (the
// manifest's sums are then those of the altered archive) and restores it
// under the exact key and as a fallback: the altered module version is
// left out whole, with a warning naming it, and the others are restored.
func TestPoisonedShard(t *testing.T) {
	for name, poison := range poisons {
		for _, fallback := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/fallback=%v", name, fallback), func(t *testing.T) {
				src, k := fixture(t, 2)
				poison(t, src)
				st := local.New(t.TempDir())
				var w warnings
				if res := Save(context.Background(), st, ModuleSet(src, k), w.opts()); res.Status != Hit {
					t.Fatalf("save: %+v\n%s", res, &w)
				}
				if fallback {
					k = ModuleKeys(SumLines([]byte(testSum+"example.com/new v1.0.0/go.mod h1:hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh=\n")), 2)
				}
				dst := filepath.Join(t.TempDir(), "mod")
				t.Cleanup(func() { removeAll(dst) })
				rr := Restore(context.Background(), st, ModuleSet(dst, k), w.opts())
				if rr.Status != Partial || strings.Join(rr.Rejected, " ") != "example.com/a@v1.0.0" {
					t.Fatalf("restore: %+v\n%s", rr, &w)
				}
				if !strings.Contains(w.String(), "example.com/a@v1.0.0: ") {
					t.Errorf("no warning names the module:\n%s", &w)
				}
				got := tree(t, dst)
				if strings.Contains(got, "example.com/a@") || strings.Contains(got, "example.com/a/@v/v1.0.0") {
					t.Errorf("a unit of the poisoned version was restored:\n%s", got)
				}
				if !strings.Contains(got, "example.com/!b@v1.2.0/sub/x.go") || !strings.Contains(got, "example.com/c/v2@v2.0.1/go.mod") {
					t.Errorf("the other versions were not restored:\n%s", got)
				}
			})
		}
	}
}

// TestHashZips restores with every zip hashed in full.
func TestHashZips(t *testing.T) {
	src, k := fixture(t, 1)
	st := local.New(t.TempDir())
	var w warnings
	Save(context.Background(), st, ModuleSet(src, k), w.opts())
	dst := filepath.Join(t.TempDir(), "mod")
	t.Cleanup(func() { removeAll(dst) })
	o := w.opts()
	o.HashZips = true
	if rr := Restore(context.Background(), st, ModuleSet(dst, k), o); rr.Status != Hit {
		t.Fatalf("restore with HashZips: %+v\n%s", rr, &w)
	}
}

// TestDropped checks that what no go.sum names is never written: another
// version, the proxy's version list, checksum database and VCS files, and a
// manifest planted in the archive.
func TestDropped(t *testing.T) {
	src, k := fixture(t, 1)
	extra := []string{
		"cache/download/example.com/a/@v/v0.9.0.zip", "cache/download/example.com/a/@v/v0.9.0.mod",
		"example.com/a@v0.9.0", "cache/download/example.com/a/@v/list",
		"cache/download/sumdb/sum.example/lookup/example.com!a@v1.0.0", "cache/vcs/0123/config",
		"modhygiene-gomod-v1-m-planted",
	}
	for _, f := range extra[3:] {
		p := filepath.Join(src, filepath.FromSlash(f))
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.WriteFile(p, []byte("planted"), 0o644))
	}
	set := ModuleSet(src, k)
	set.Shards[0].Units = append(set.Shards[0].Units, extra...)
	st := local.New(t.TempDir())
	var w warnings
	if res := Save(context.Background(), st, set, w.opts()); res.Status != Hit {
		t.Fatalf("save: %+v\n%s", res, &w)
	}
	dst := filepath.Join(t.TempDir(), "mod")
	t.Cleanup(func() { removeAll(dst) })
	rr := Restore(context.Background(), st, ModuleSet(dst, k), w.opts())
	if rr.Status != Partial || rr.Dropped < len(extra) || len(rr.Rejected) > 0 || !strings.Contains(w.String(), "archive entries that no go.sum names") {
		t.Fatalf("restore: %+v\n%s", rr, &w)
	}
	got := tree(t, dst)
	for _, bad := range []string{"v0.9.0", "@v/list", "sumdb", "vcs", "planted"} {
		if strings.Contains(got, bad) {
			t.Errorf("%s restored:\n%s", bad, got)
		}
	}
}

// shardOf writes a crafted tar stream as the only shard of k, zstd
// compressed, with an honest manifest (files and tar bytes declared).
func shardOf(t *testing.T, dir string, k *Keys, tarData []byte, files int) {
	var z bytes.Buffer
	zw, _ := zstd.NewWriter(&z, zstd.WithEncoderLevel(zstd.SpeedBestCompression))
	zw.Write(tarData)
	zw.Close()
	s := sha256.Sum256(z.Bytes())
	key := k.Shards[0].Key
	must(t, os.WriteFile(filepath.Join(dir, key), z.Bytes(), 0o644))
	m := Manifest{Format: Format, Key: k.Module, Shards: []ShardEntry{{Key: key, SHA256: hex.EncodeToString(s[:]), Size: int64(z.Len()), Files: files, Unpacked: int64(len(tarData))}}}
	j, _ := json.Marshal(m)
	must(t, os.WriteFile(filepath.Join(dir, k.Module), j, 0o644))
}

// TestUnpackLimits: a decompression bomb, a flood of files and a sparse
// entry are refused before they fill the disk, though the manifest
// declares them honestly.
func TestUnpackLimits(t *testing.T) {
	k := ModuleKeys(SumLines([]byte(testSum)), 1)
	bomb := func() []byte {
		var b bytes.Buffer
		tw := tar.NewWriter(&b)
		tw.WriteHeader(&tar.Header{Name: "example.com/a@v1.0.0/zeros", Typeflag: tar.TypeReg, Mode: 0o444, Size: 200 << 20})
		tw.Write(make([]byte, 200<<20))
		tw.Close()
		return b.Bytes()
	}
	flood := func() []byte {
		var b bytes.Buffer
		tw := tar.NewWriter(&b)
		for i := range 60000 {
			tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("example.com/a@v1.0.0/f%d", i), Typeflag: tar.TypeReg, Mode: 0o444})
		}
		tw.Close()
		return b.Bytes()
	}
	for name, c := range map[string]struct {
		data  func() []byte
		files int
		want  string
	}{
		"bomb":   {bomb, 1, "over the limit"},
		"flood":  {flood, 60000, "over the limit"},
		"sparse": {func() []byte { return sparseTar("example.com/a@v1.0.0/sparse", 900<<20) }, 1, "sparse"},
	} {
		t.Run(name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "store")
			must(t, os.MkdirAll(dir, 0o755))
			shardOf(t, dir, k, c.data(), c.files)
			dst := filepath.Join(parent, "mod")
			var w warnings
			rr := Restore(context.Background(), local.New(dir), ModuleSet(dst, k), w.opts())
			if rr.Status != Miss || !strings.Contains(w.String(), c.want) {
				t.Errorf("restore: %+v\n%s", rr, &w)
			}
			if n := du(dst); n > 1<<20 {
				t.Errorf("%d bytes left in the module cache", n)
			}
		})
	}
	// An undeclared bomb (an old manifest without sizes) stops at the
	// ratio budget while unpacking.
	parent := t.TempDir()
	dir := filepath.Join(parent, "store")
	must(t, os.MkdirAll(dir, 0o755))
	shardOf(t, dir, k, bomb(), 0)
	rewriteManifest(t, dir, k, func(m *Manifest) { m.Shards[0].Unpacked = 0 })
	var w warnings
	rr := Restore(context.Background(), local.New(dir), ModuleSet(filepath.Join(parent, "mod"), k), w.opts())
	if rr.Status != Miss || !strings.Contains(w.String(), "unpacks to more than") {
		t.Errorf("undeclared bomb: %+v\n%s", rr, &w)
	}
}

func rewriteManifest(t *testing.T, dir string, k *Keys, f func(*Manifest)) {
	data, err := os.ReadFile(filepath.Join(dir, k.Module))
	must(t, err)
	var m Manifest
	must(t, json.Unmarshal(data, &m))
	f(&m)
	data, _ = json.Marshal(m)
	must(t, os.WriteFile(filepath.Join(dir, k.Module), data, 0o644))
}

func du(dir string) int64 {
	return duSize(dir)
}

// sparseTar is a tar stream of one PAX 1.0 sparse file of the given size
// whose data is a single hole: a few hundred bytes standing for size
// zeros. archive/tar writes no sparse files, so the headers are made here.
func sparseTar(name string, size int64) []byte {
	recs := ""
	for _, kv := range [][2]string{{"GNU.sparse.major", "1"}, {"GNU.sparse.minor", "0"}, {"GNU.sparse.name", name}, {"GNU.sparse.realsize", fmt.Sprint(size)}} {
		rec := " " + kv[0] + "=" + kv[1] + "\n"
		n := len(rec) + 1
		for len(fmt.Sprint(n))+len(rec) != n {
			n = len(fmt.Sprint(n)) + len(rec)
		}
		recs += fmt.Sprint(n) + rec
	}
	var b bytes.Buffer
	b.Write(ustar("PaxHeaders/x", 'x', int64(len(recs))))
	b.Write(pad([]byte(recs)))
	sparseMap := pad([]byte("1\n" + fmt.Sprint(size-1) + "\n1\n"))
	data := append(sparseMap, pad([]byte{0})...)
	b.Write(ustar("GNUSparseFile.0/x", '0', int64(len(sparseMap)+1)))
	b.Write(data)
	b.Write(make([]byte, 1024))
	return b.Bytes()
}

func pad(b []byte) []byte {
	return append(b, make([]byte, (512-len(b)%512)%512)...)
}

// ustar is one 512-byte ustar header.
func ustar(name string, typ byte, size int64) []byte {
	h := make([]byte, 512)
	copy(h, name)
	copy(h[100:], "0000644\x00")
	copy(h[108:], "0000000\x00")
	copy(h[116:], "0000000\x00")
	copy(h[124:], fmt.Sprintf("%011o\x00", size))
	copy(h[136:], fmt.Sprintf("%011o\x00", time.Unix(0, 0).Unix()))
	h[156] = typ
	copy(h[257:], "ustar\x0000")
	copy(h[148:], "        ")
	sum := 0
	for _, c := range h {
		sum += int(c)
	}
	copy(h[148:], fmt.Sprintf("%06o\x00 ", sum))
	return h
}

// TestRestoreBudget: a store that never answers stops the restore when its
// budget runs out, leaving no temporary directory.
func TestRestoreBudget(t *testing.T) {
	src, k := fixture(t, 2)
	dir := t.TempDir()
	var w warnings
	Save(context.Background(), local.New(dir), ModuleSet(src, k), w.opts())
	st := &stalling{Store: local.New(dir), after: 600}
	dst := filepath.Join(t.TempDir(), "mod")
	o := w.opts()
	o.RestoreBudget = 300 * time.Millisecond
	rr := Restore(context.Background(), st, ModuleSet(dst, k), o)
	if rr.Status != Miss || !strings.Contains(w.String(), "longer than its budget of 300ms") {
		t.Errorf("restore: %+v\n%s", rr, &w)
	}
	assertNoTemp(t, dst)
	// Cancelled from outside (SIGTERM): the same, with the cause.
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	w = warnings{}
	rr = Restore(ctx, st, ModuleSet(dst, k), w.opts())
	if rr.Status != Miss || !strings.Contains(w.String(), "context canceled") {
		t.Errorf("cancelled restore: %+v\n%s", rr, &w)
	}
	assertNoTemp(t, dst)
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".modhygiene") {
			t.Errorf("temporary directory %s left behind", e.Name())
		}
	}
}

// stalling serves the manifest, then shard bodies that stop after some
// bytes until ctx ends, as a store that stops answering mid-download.
type stalling struct {
	store.Store
	after int
}

func (s *stalling) Open(ctx context.Context, key string, prefixes ...string) (*store.Entry, error) {
	e, err := s.Store.Open(ctx, key, prefixes...)
	if err != nil || strings.HasPrefix(e.Key, ModPrefix) {
		return e, err
	}
	e.Body = &stallBody{ctx: ctx, body: e.Body, left: s.after}
	return e, nil
}

type stallBody struct {
	ctx  context.Context
	body interface {
		Read([]byte) (int, error)
		Close() error
	}
	left int
}

func (b *stallBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		<-b.ctx.Done()
		return 0, context.Cause(b.ctx)
	}
	n, err := b.body.Read(p[:min(len(p), b.left)])
	b.left -= n
	return n, err
}

func (b *stallBody) Close() error { return b.body.Close() }
