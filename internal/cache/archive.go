package cache

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
)

// encoderLevel is the zstd level of new archives: the fastest, because most
// of a module cache is zip files that no level compresses further (see
// docs/cache.md).
var encoderLevel = zstd.SpeedFastest

// epoch is the modification time written for every entry, so that the same
// files always make the same archive.
var epoch = time.Unix(0, 0).UTC()

// writeArchive streams units (slash paths relative to root: files, or
// directories written with everything below them) as tar+zstd to w. It
// returns the number of files written and the size of the tar stream.
// Symbolic links and other special files are left out: the module cache
// has none.
func writeArchive(ctx context.Context, w io.Writer, root string, units []string, threads int) (int, int64, error) {
	if threads < 1 {
		threads = 1
	}
	zw, err := zstd.NewWriter(w, zstd.WithEncoderLevel(encoderLevel), zstd.WithEncoderConcurrency(threads))
	if err != nil {
		return 0, 0, err
	}
	cw := &countWriter{w: zw}
	tw := tar.NewWriter(cw)
	files := 0
	buf := make([]byte, 256*1024)
	add := func(name string, fi fs.FileInfo) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr := &tar.Header{Name: name, Mode: int64(fi.Mode().Perm()), ModTime: epoch, Format: tar.FormatPAX}
		switch {
		case fi.IsDir():
			hdr.Typeflag, hdr.Name = tar.TypeDir, name+"/"
			return tw.WriteHeader(hdr)
		case fi.Mode().IsRegular():
			f, err := os.Open(filepath.Join(root, filepath.FromSlash(name)))
			if err != nil {
				return err
			}
			defer f.Close()
			hdr.Typeflag, hdr.Size = tar.TypeReg, fi.Size()
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			n, err := io.CopyBuffer(tw, io.LimitReader(f, hdr.Size), buf)
			if err == nil && n != hdr.Size {
				err = fmt.Errorf("%s changed size while being archived", name)
			}
			files++
			return err
		}
		return nil
	}
	for _, u := range units {
		top := filepath.Join(root, filepath.FromSlash(u))
		err := filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			return add(filepath.ToSlash(rel), fi)
		})
		if err != nil {
			zw.Close()
			return files, cw.n, err
		}
	}
	if err := tw.Close(); err != nil {
		zw.Close()
		return files, cw.n, err
	}
	return files, cw.n, zw.Close()
}

// countWriter counts what it writes.
type countWriter struct {
	w io.Writer
	n int64
}

// Write writes and counts.
func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Limits bound what an archive may unpack.
type Limits struct {
	// MaxEntry is the largest file accepted; 0 means 1 GiB (module zips are
	// at most 500 MiB).
	MaxEntry int64
	// MaxTotal is the most an archive may unpack in all (its tar stream,
	// headers included); 0 means 64 GiB.
	MaxTotal int64
	// MaxFiles is the most files an archive may hold; 0 means 1,000,000.
	MaxFiles int64
	// MaxRatio is the most an archive may unpack per byte stored, beyond
	// the first 16 MiB; 0 means 64 (a module cache packs to about a third
	// of its size: most of it is zip files).
	MaxRatio int64
}

func (l Limits) entry() int64 { return orDefault(l.MaxEntry, 1<<30) }
func (l Limits) total() int64 { return orDefault(l.MaxTotal, 64<<30) }
func (l Limits) files() int64 { return orDefault(l.MaxFiles, 1_000_000) }
func (l Limits) ratio() int64 { return orDefault(l.MaxRatio, 64) }

func orDefault(v, def int64) int64 {
	if v > 0 {
		return v
	}
	return def
}

// budget returns how many tar bytes and files a shard may unpack: what its
// manifest declares, never more than the limits allow for its stored size.
func (l Limits) budget(sh ShardEntry) (bytes, files int64, err error) {
	bytes = min(l.total(), max(16<<20, l.ratio()*sh.Size))
	if sh.Unpacked > 0 {
		if sh.Unpacked > bytes {
			return 0, 0, fmt.Errorf("the manifest says %d bytes unpack to %d, over the limit of %d", sh.Size, sh.Unpacked, bytes)
		}
		bytes = sh.Unpacked
	}
	files = l.files()
	if sh.Files > 0 {
		if int64(sh.Files) > files {
			return 0, 0, fmt.Errorf("the manifest says %d files, over the limit of %d", sh.Files, files)
		}
		files = int64(sh.Files)
	}
	return bytes, files, nil
}

// unpacked is what extract wrote into its temporary directory.
type unpacked struct {
	dir   string
	units []string         // in archive order, each once
	modes map[string]int64 // directory modes by slash path, applied after the move
	files int              // files written
	bytes int64            // file bytes written
	// Module caches only: what each named version brought, and the number
	// of entries left out because no go.sum line names them.
	versions map[string]*version
	dropped  int
	rejected []string // "PATH@VERSION: why", after verify
	// The archive: its tar bytes and regular files, written or not.
	tarBytes, entries int64
}

// HostileError is an archive entry that extraction refuses.
type HostileError struct {
	Name   string
	Reason string
}

// Error says which entry was refused and why.
func (e *HostileError) Error() string {
	return fmt.Sprintf("archive entry %q refused: %s", e.Name, e.Reason)
}

// extraction is one archive being unpacked.
type extraction struct {
	ctx      context.Context
	dir      string
	lim      Limits
	maxFiles int64
	sums     *Sums
	u        *unpacked
	seenUnit map[string]bool
	made     map[string]bool
	buf      []byte
}

// extract unpacks a tar+zstd stream into dir (which must be empty and
// private to the caller), refusing absolute paths, "..", links, special
// and sparse files, duplicates and entries over the limits; the stream may
// unpack to at most maxBytes tar bytes and maxFiles files. With sums (a
// module cache), only the units of module versions that go.sum lines name
// are written, each file hashed as it is written; the rest is read past.
// Directories are created writable; their recorded modes are applied by
// commit.
func extract(ctx context.Context, r io.Reader, dir string, lim Limits, maxBytes, maxFiles int64, sums *Sums, threads int) (*unpacked, error) {
	if threads < 1 {
		threads = 1
	}
	zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(threads), zstd.WithDecoderMaxWindow(64<<20), zstd.WithDecoderMaxMemory(1<<32))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	x := &extraction{ctx: ctx, dir: dir, lim: lim, maxFiles: maxFiles, sums: sums,
		u:        &unpacked{dir: dir, modes: map[string]int64{}, versions: map[string]*version{}},
		seenUnit: map[string]bool{}, made: map[string]bool{".": true}, buf: make([]byte, 256*1024)}
	cr := &budgetReader{r: zr, left: maxBytes}
	tr := tar.NewReader(cr)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if cr.over {
				return nil, &HostileError{hdr0(hdr), fmt.Sprintf("archive unpacks to more than %d bytes", maxBytes)}
			}
			return nil, fmt.Errorf("reading archive: %w", err)
		}
		if err := x.entry(tr, hdr); err != nil {
			if cr.over {
				return nil, &HostileError{hdr.Name, fmt.Sprintf("archive unpacks to more than %d bytes", maxBytes)}
			}
			return nil, err
		}
	}
	// Read to the end of the zstd stream, so that trailing garbage or a
	// truncated frame is noticed and the checksum covers everything.
	if _, err := io.Copy(io.Discard, cr); err != nil {
		if cr.over {
			return nil, &HostileError{"", fmt.Sprintf("archive unpacks to more than %d bytes", maxBytes)}
		}
		return nil, fmt.Errorf("reading archive: %w", err)
	}
	x.u.tarBytes = cr.n
	return x.u, nil
}

func hdr0(h *tar.Header) string {
	if h == nil {
		return ""
	}
	return h.Name
}

// budgetReader counts what it reads and fails past a budget.
type budgetReader struct {
	r    io.Reader
	n    int64
	left int64
	over bool
}

// Read reads up to the budget.
func (b *budgetReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a stream that ends here from one that goes on.
		var one [1]byte
		n, err := b.r.Read(one[:])
		if n > 0 {
			b.over = true
			return 0, errors.New("unpack budget exceeded")
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	b.left -= int64(n)
	return n, err
}

// entry checks one archive entry and writes it when it is wanted.
func (x *extraction) entry(tr *tar.Reader, hdr *tar.Header) error {
	name, err := checkName(hdr)
	if err != nil {
		return err
	}
	if reason := sparse(hdr); reason != "" {
		return &HostileError{hdr.Name, reason}
	}
	switch hdr.Typeflag {
	case tar.TypeDir, tar.TypeReg:
	case tar.TypeSymlink, tar.TypeLink:
		return &HostileError{hdr.Name, "links are never part of a Go cache (link to " + hdr.Linkname + ")"}
	default:
		return &HostileError{hdr.Name, fmt.Sprintf("unsupported entry type %q", hdr.Typeflag)}
	}
	if hdr.Typeflag == tar.TypeReg {
		if x.u.entries++; x.u.entries > x.maxFiles {
			return &HostileError{hdr.Name, fmt.Sprintf("archive holds more than %d files", x.maxFiles)}
		}
		if hdr.Size < 0 || hdr.Size > x.lim.entry() {
			return &HostileError{hdr.Name, fmt.Sprintf("size %d over the limit of %d bytes", hdr.Size, x.lim.entry())}
		}
	}
	un := unitOf(name)
	var v *version
	kind := kindNone
	if x.sums != nil {
		var vdir string
		vdir, kind = x.sums.classify(name)
		if kind == kindNone {
			x.u.dropped++
			return nil // read past: tar.Reader skips the data
		}
		if v = x.u.versions[vdir]; v == nil {
			v = &version{dir: vdir, small: map[unitKind][]byte{}}
			x.u.versions[vdir] = v
		}
		if v.failed != "" {
			return nil
		}
	}
	if hdr.Typeflag == tar.TypeDir {
		if err := x.mkdirs(name); err != nil {
			return err
		}
		x.u.modes[name] = hdr.Mode & 0o777
	} else if err := x.file(tr, hdr, name, v, kind); err != nil {
		return err
	}
	if v != nil && v.failed != "" {
		return nil
	}
	if !x.seenUnit[un] {
		x.seenUnit[un] = true
		x.u.units = append(x.u.units, un)
		if v != nil {
			v.units = append(v.units, un)
		}
	}
	return nil
}

// sparse says why a sparse entry is refused: a Go cache holds none, and a
// few bytes of sparse map can stand for gigabytes of zeros.
func sparse(hdr *tar.Header) string {
	if hdr.Typeflag == tar.TypeGNUSparse {
		return "sparse files are never part of a Go cache"
	}
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return "sparse files are never part of a Go cache"
		}
	}
	return ""
}

func (x *extraction) mkdirs(d string) error {
	if x.made[d] {
		return nil
	}
	if err := os.MkdirAll(filepath.Join(x.dir, filepath.FromSlash(d)), 0o755); err != nil {
		return err
	}
	for ; d != "." && !x.made[d]; d = path.Dir(d) {
		x.made[d] = true
	}
	return nil
}

// file writes one regular file, hashing it when it belongs to a module
// version (v not nil). A unit over the module system's own limits makes
// its version fail; the rest of it is read past.
func (x *extraction) file(tr *tar.Reader, hdr *tar.Header, name string, v *version, kind unitKind) error {
	if v != nil {
		size := hdr.Size
		if kind == kindTree {
			size += v.treeLen
		}
		if size > unitLimit(kind) {
			v.failed = fmt.Sprintf("%s is over the module system's limit of %d bytes", name, unitLimit(kind))
			return nil
		}
	}
	if err := x.mkdirs(path.Dir(name)); err != nil {
		return err
	}
	dst := filepath.Join(x.dir, filepath.FromSlash(name))
	f, modeSet, err := createFile(dst, fs.FileMode(hdr.Mode&0o777))
	if err != nil {
		if os.IsExist(err) {
			return &HostileError{hdr.Name, "duplicate entry"}
		}
		return err
	}
	sum, err := x.copy(f, tr, hdr.Size, kind)
	if err == nil && !modeSet {
		err = f.Chmod(fs.FileMode(hdr.Mode & 0o777))
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	x.u.files++
	x.u.bytes += hdr.Size
	if v == nil {
		return nil
	}
	switch kind {
	case kindTree:
		if v.tree == nil {
			v.tree = map[string]fileSum{}
		}
		rel := strings.TrimPrefix(name, v.dir+"/")
		v.tree[rel] = sum
		v.treeLen += hdr.Size
	case kindZip:
		v.zip = dst
	case kindMod, kindInfo, kindZiphash:
		data, err := os.ReadFile(dst)
		if err != nil {
			return err
		}
		v.small[kind] = data
	}
	return nil
}

// copy streams size bytes of the archive into f; for a file of a module
// tree it also computes the SHA-256 and CRC-32 on the way.
func (x *extraction) copy(f io.Writer, r io.Reader, size int64, kind unitKind) (fileSum, error) {
	var sum fileSum
	var h hash.Hash
	if kind == kindTree {
		h = sha256.New()
	}
	for sum.size < size {
		if err := x.ctx.Err(); err != nil {
			return sum, err
		}
		n, err := r.Read(x.buf[:min(int64(len(x.buf)), size-sum.size)])
		if n > 0 {
			if h != nil {
				h.Write(x.buf[:n])
				sum.crc = crc32.Update(sum.crc, crc32.IEEETable, x.buf[:n])
			}
			if _, werr := f.Write(x.buf[:n]); werr != nil {
				return sum, werr
			}
			sum.size += int64(n)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return sum, fmt.Errorf("reading archive: %w", err)
		}
	}
	if sum.size != size {
		return sum, fmt.Errorf("reading archive: %w", io.ErrUnexpectedEOF)
	}
	if h != nil {
		h.Sum(sum.sha[:0])
	}
	return sum, nil
}

// checkName returns the clean slash path of an entry or a *HostileError.
func checkName(hdr *tar.Header) (string, error) {
	name := hdr.Name
	if hdr.Typeflag == tar.TypeDir && len(name) > 1 && name[len(name)-1] == '/' {
		name = name[:len(name)-1]
	}
	switch {
	case name == "" || name == ".":
		return "", &HostileError{hdr.Name, "empty path"}
	case path.IsAbs(name) || filepath.IsAbs(name) || name[0] == '\\':
		return "", &HostileError{hdr.Name, "absolute path"}
	case path.Clean(name) != name:
		return "", &HostileError{hdr.Name, "path is not clean"}
	case name == ".." || len(name) > 2 && (name[:3] == "../") || containsDotDot(name):
		return "", &HostileError{hdr.Name, `path contains ".."`}
	case !filepath.IsLocal(filepath.FromSlash(name)):
		return "", &HostileError{hdr.Name, "path is not local"}
	}
	for i := 0; i < len(name); i++ {
		if name[i] == 0 || name[i] == '\\' {
			return "", &HostileError{hdr.Name, "invalid character in path"}
		}
	}
	return name, nil
}

func containsDotDot(name string) bool {
	for _, e := range splitSlash(name) {
		if e == ".." {
			return true
		}
	}
	return false
}

func splitSlash(s string) []string {
	var out []string
	for {
		i := 0
		for i < len(s) && s[i] != '/' {
			i++
		}
		out = append(out, s[:i])
		if i == len(s) {
			return out
		}
		s = s[i+1:]
	}
}

// writeCloseChmoder is a file being extracted.
type writeCloseChmoder interface {
	io.Writer
	Chmod(fs.FileMode) error
	Close() error
}
