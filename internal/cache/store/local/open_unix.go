//go:build unix

package local

import (
	"io/fs"
	"os"
	"syscall"
	"time"
)

// openRegular opens name for reading without following a symbolic link
// and without waiting for a writer if it is a FIFO; the caller checks
// that it is a regular file.
func openRegular(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOFOLLOW, 0)
}

// accessTime returns the time fi was last used.
func accessTime(fi fs.FileInfo) time.Time {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return statAtime(st)
	}
	return fi.ModTime()
}
