package cache

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	kzip "github.com/klauspost/compress/zip"
	"golang.org/x/mod/sumdb/dirhash"
)

// Sums are the hashes that go.sum lines give for module versions: what a
// restore of the module cache checks every unit against before it moves
// it into place. Only units of a version some line names are accepted.
type Sums struct {
	byDir map[string]*wantSums // by escaped "PATH@VERSION"
}

// wantSums are the hashes named for one module version. Several go.sum
// files may disagree; a unit matching any of them is accepted.
type wantSums struct {
	path, version string
	h1, mod       []string
}

// NewSums returns the hashes of go.sum lines as SumLines returns them.
func NewSums(lines []string) *Sums {
	s := &Sums{byDir: map[string]*wantSums{}}
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) != 3 {
			continue
		}
		v, isMod := strings.CutSuffix(f[1], "/go.mod")
		ep, ev, err := escape(f[0], v)
		if err != nil {
			continue
		}
		w := s.byDir[ep+"@"+ev]
		if w == nil {
			w = &wantSums{path: f[0], version: v}
			s.byDir[ep+"@"+ev] = w
		}
		if isMod {
			w.mod = append(w.mod, f[2])
		} else {
			w.h1 = append(w.h1, f[2])
		}
	}
	return s
}

// unitKind is what a module cache entry is.
type unitKind int

const (
	kindNone unitKind = iota
	kindInfo
	kindMod
	kindZip
	kindZiphash
	kindLock
	kindTree
)

// Limits of the module system itself (golang.org/x/mod/zip and the go
// command): a unit over them cannot be genuine.
const (
	maxModuleTree = 500 << 20 // the uncompressed files of a module
	maxZip        = 500 << 20
	maxGoMod      = 16 << 20
	maxInfo       = 1 << 20
	maxZiphash    = 1 << 10
)

// classify says which module version and unit an archive entry belongs to,
// and whether the go.sum lines allow it: the download files of a named
// version (.mod only with a /go.mod hash; .zip, .ziphash and the extracted
// tree only with a module hash) and its extracted tree. Everything else
// (other versions, @v/list, sumdb and vcs files, unknown names) is not.
func (s *Sums) classify(name string) (dir string, kind unitKind) {
	if rest, ok := strings.CutPrefix(name, "cache/download/"); ok {
		ep, file, ok := strings.Cut(rest, "/@v/")
		if !ok || strings.Contains(file, "/") {
			return "", kindNone
		}
		i := strings.LastIndexByte(file, '.')
		if i <= 0 {
			return "", kindNone
		}
		dir = ep + "@" + file[:i]
		kind = map[string]unitKind{"info": kindInfo, "mod": kindMod, "zip": kindZip, "ziphash": kindZiphash, "lock": kindLock}[file[i+1:]]
	} else {
		un := unitOf(name)
		if !strings.Contains(path.Base(un), "@") {
			return "", kindNone
		}
		dir, kind = un, kindTree
	}
	w := s.byDir[dir]
	switch {
	case w == nil || kind == kindNone:
		return "", kindNone
	case kind == kindMod && len(w.mod) == 0:
		return "", kindNone
	case (kind == kindZip || kind == kindZiphash || kind == kindTree) && len(w.h1) == 0:
		return "", kindNone
	}
	return dir, kind
}

// fileSum is what extraction learns of a file while writing it.
type fileSum struct {
	sha  [32]byte
	crc  uint32
	size int64
}

// version is what one archive holds of one module version.
type version struct {
	dir     string             // escaped PATH@VERSION
	units   []string           // in archive order
	tree    map[string]fileSum // by path inside the tree
	treeLen int64
	small   map[unitKind][]byte // the content of .mod, .info, .ziphash
	modSum  [32]byte
	zip     string // the zip's path in the temporary directory
	failed  string // why the version is refused, once known
}

// hash1 is dirhash.Hash1 over files whose SHA-256 sums are already known:
// the summary the go command computes for an extracted module tree
// (dirhash.HashDir with the prefix PATH@VERSION).
func hash1(prefix string, files map[string]fileSum) string {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%x  %s\n", files[n].sha, prefix+"/"+n)
	}
	return "h1:" + base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// modHash is the go.sum hash of a go.mod file whose SHA-256 is sum.
func modHash(sum [32]byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "%x  go.mod\n", sum)
	return "h1:" + base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// verify checks what an archive holds of one module version against the
// go.sum hashes and returns why it is refused, or "". full hashes the zip
// even beside a verified tree.
func (s *Sums) verify(v *version, full bool) string {
	if v.failed != "" {
		return v.failed
	}
	w := s.byDir[v.dir]
	if v.tree != nil {
		if len(v.tree) == 0 {
			return "extracted tree is empty"
		}
		if h := hash1(w.path+"@"+w.version, v.tree); !slices.Contains(w.h1, h) {
			return fmt.Sprintf("extracted tree hashes to %s, go.sum says %s", h, strings.Join(w.h1, " or "))
		}
	}
	if data, ok := v.small[kindMod]; ok {
		if h := modHash(sha256.Sum256(data)); !slices.Contains(w.mod, h) {
			return fmt.Sprintf("go.mod hashes to %s, go.sum says %s", h, strings.Join(w.mod, " or "))
		}
	}
	if data, ok := v.small[kindZiphash]; ok {
		if h := strings.TrimSpace(string(data)); !slices.Contains(w.h1, h) {
			return fmt.Sprintf(".ziphash says %q, go.sum says %s", h, strings.Join(w.h1, " or "))
		}
	}
	if data, ok := v.small[kindInfo]; ok {
		var info struct{ Version string }
		if err := json.Unmarshal(data, &info); err != nil || info.Version != w.version {
			return fmt.Sprintf(".info is not the info of %s", w.version)
		}
	}
	if v.zip != "" {
		if msg := s.verifyZip(v, w, full); msg != "" {
			return msg
		}
	}
	return ""
}

// verifyZip checks a module zip. Beside a verified tree (restored with it)
// the zip must list exactly the tree's files with their sizes and CRC-32s,
// which reads only its central directory; with full, or when no tree comes
// with it (the go command would then extract the zip), its hash is
// computed as the go command does.
func (s *Sums) verifyZip(v *version, w *wantSums, full bool) string {
	if full || v.tree == nil {
		h, err := hashZip(v.zip)
		if err != nil {
			return fmt.Sprintf("zip: %v", err)
		}
		if !slices.Contains(w.h1, h) {
			return fmt.Sprintf("zip hashes to %s, go.sum says %s", h, strings.Join(w.h1, " or "))
		}
		return ""
	}
	z, err := zip.OpenReader(v.zip)
	if err != nil {
		return fmt.Sprintf("zip: %v", err)
	}
	defer z.Close()
	prefix := w.path + "@" + w.version + "/"
	seen := 0
	for _, f := range z.File {
		if strings.HasSuffix(f.Name, "/") && f.UncompressedSize64 == 0 {
			continue // a directory entry
		}
		rel, ok := strings.CutPrefix(f.Name, prefix)
		fs, inTree := v.tree[rel]
		if !ok || !inTree || uint64(fs.size) != f.UncompressedSize64 || fs.crc != f.CRC32 {
			return fmt.Sprintf("zip entry %q differs from the extracted tree", f.Name)
		}
		seen++
	}
	if seen != len(v.tree) {
		return "zip and extracted tree hold different files"
	}
	return ""
}

// hashZip is dirhash.HashZip with a faster inflater.
func hashZip(name string) (string, error) {
	z, err := kzip.OpenReader(name)
	if err != nil {
		return "", err
	}
	defer z.Close()
	var names []string
	files := map[string]*kzip.File{}
	for _, f := range z.File {
		names = append(names, f.Name)
		files[f.Name] = f
	}
	return dirhash.Hash1(names, func(n string) (io.ReadCloser, error) { return files[n].Open() })
}

// unitLimit is the largest a unit of kind may be.
func unitLimit(kind unitKind) int64 {
	switch kind {
	case kindMod:
		return maxGoMod
	case kindInfo:
		return maxInfo
	case kindZiphash:
		return maxZiphash
	case kindLock:
		return 0
	case kindZip:
		return maxZip
	}
	return maxModuleTree
}
