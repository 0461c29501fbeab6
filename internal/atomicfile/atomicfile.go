// Package atomicfile writes a file whole or not at all, through a
// temporary file and a rename, so that no reader sees half a file and a
// failed write leaves the old one in place.
package atomicfile

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Write makes path's directory, writes data to a temporary file named by
// pattern (as os.CreateTemp takes it) in tmpDir, or beside path when tmpDir
// is "", gives it perm and renames it to path. tmpDir must be on path's
// file system. On failure the temporary file is removed and path is as it
// was.
func Write(path, tmpDir, pattern string, data []byte, perm fs.FileMode) error {
	_, err := WriteFrom(path, tmpDir, pattern, bytes.NewReader(data), perm)
	return err
}

// WriteFrom is Write for what r holds, and returns how many bytes it
// wrote.
func WriteFrom(path, tmpDir, pattern string, r io.Reader, perm fs.FileMode) (int64, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return 0, err
	}
	if tmpDir == "" {
		tmpDir = filepath.Dir(path)
	}
	f, err := os.CreateTemp(tmpDir, pattern)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(f, r)
	if err == nil {
		err = f.Chmod(perm)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return 0, err
	}
	return n, nil
}
