//go:build !unix

package local

import (
	"io/fs"
	"os"
	"time"
)

// openRegular opens name for reading after checking that it is a regular
// file (a check and an open, not one call, outside Unix).
func openRegular(name string) (*os.File, error) {
	fi, err := os.Lstat(name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &os.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	return os.Open(name)
}

// accessTime returns the modification time: access times are not kept
// everywhere.
func accessTime(fi fs.FileInfo) time.Time { return fi.ModTime() }
