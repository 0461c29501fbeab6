package cache

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
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
// returns the number of files written. Symbolic links and other special
// files are left out: the module cache has none.
func writeArchive(ctx context.Context, w io.Writer, root string, units []string, threads int) (int, error) {
	if threads < 1 {
		threads = 1
	}
	zw, err := zstd.NewWriter(w, zstd.WithEncoderLevel(encoderLevel), zstd.WithEncoderConcurrency(threads))
	if err != nil {
		return 0, err
	}
	tw := tar.NewWriter(zw)
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
			return files, err
		}
	}
	if err := tw.Close(); err != nil {
		zw.Close()
		return files, err
	}
	return files, zw.Close()
}

// Limits bound what an archive may unpack.
type Limits struct {
	// MaxEntry is the largest file accepted; 0 means 1 GiB (module zips are
	// at most 500 MiB).
	MaxEntry int64
	// MaxTotal is the most an archive may unpack in all; 0 means 64 GiB.
	MaxTotal int64
}

func (l Limits) entry() int64 {
	if l.MaxEntry > 0 {
		return l.MaxEntry
	}
	return 1 << 30
}

func (l Limits) total() int64 {
	if l.MaxTotal > 0 {
		return l.MaxTotal
	}
	return 64 << 30
}

// unpacked is what extract wrote into its temporary directory.
type unpacked struct {
	dir   string
	units []string         // in archive order, each once
	modes map[string]int64 // directory modes by slash path, applied after the move
	files int
	bytes int64
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

// extract unpacks a tar+zstd stream into dir (which must be empty and
// private to the caller), refusing absolute paths, "..", links, special
// files, duplicates and entries over the limits. Directories are created
// writable; their recorded modes are applied by commit.
func extract(ctx context.Context, r io.Reader, dir string, lim Limits, threads int) (*unpacked, error) {
	if threads < 1 {
		threads = 1
	}
	zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(threads), zstd.WithDecoderMaxWindow(64<<20), zstd.WithDecoderMaxMemory(1<<32))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	u := &unpacked{dir: dir, modes: map[string]int64{}}
	seenUnit := map[string]bool{}
	made := map[string]bool{".": true}
	buf := make([]byte, 256*1024)
	mkdirs := func(d string) error {
		if made[d] {
			return nil
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.FromSlash(d)), 0o755); err != nil {
			return err
		}
		for ; d != "." && !made[d]; d = path.Dir(d) {
			made[d] = true
		}
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading archive: %w", err)
		}
		name, err := checkName(hdr)
		if err != nil {
			return nil, err
		}
		dst := filepath.Join(dir, filepath.FromSlash(name))
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := mkdirs(name); err != nil {
				return nil, err
			}
			u.modes[name] = hdr.Mode & 0o777
		case tar.TypeReg:
			if hdr.Size < 0 || hdr.Size > lim.entry() {
				return nil, &HostileError{hdr.Name, fmt.Sprintf("size %d over the limit of %d bytes", hdr.Size, lim.entry())}
			}
			if u.bytes+hdr.Size > lim.total() {
				return nil, &HostileError{hdr.Name, fmt.Sprintf("archive unpacks to more than %d bytes", lim.total())}
			}
			if err := mkdirs(path.Dir(name)); err != nil {
				return nil, err
			}
			f, modeSet, err := createFile(dst, fs.FileMode(hdr.Mode&0o777))
			if err != nil {
				if os.IsExist(err) {
					return nil, &HostileError{hdr.Name, "duplicate entry"}
				}
				return nil, err
			}
			n, err := io.CopyBuffer(f, io.LimitReader(tr, hdr.Size), buf)
			if err == nil && n != hdr.Size {
				err = fmt.Errorf("reading archive: %s: %w", name, io.ErrUnexpectedEOF)
			}
			if err == nil && !modeSet {
				err = f.Chmod(fs.FileMode(hdr.Mode & 0o777))
			}
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return nil, err
			}
			u.files++
			u.bytes += n
		case tar.TypeSymlink, tar.TypeLink:
			return nil, &HostileError{hdr.Name, "links are never part of a Go cache (link to " + hdr.Linkname + ")"}
		default:
			return nil, &HostileError{hdr.Name, fmt.Sprintf("unsupported entry type %q", hdr.Typeflag)}
		}
		if un := unitOf(name); !seenUnit[un] {
			seenUnit[un] = true
			u.units = append(u.units, un)
		}
	}
	// Read to the end of the zstd stream, so that trailing garbage or a
	// truncated frame is noticed and the checksum covers everything.
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return nil, fmt.Errorf("reading archive: %w", err)
	}
	return u, nil
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
