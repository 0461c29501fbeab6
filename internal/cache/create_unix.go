//go:build unix

package cache

import (
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// createFile creates a new file with mode perm for writing. It opens the
// file with one system call and hands it to os.NewFile, which keeps a
// regular file out of the runtime poller: extraction creates tens of
// thousands of files, and each avoided call counts.
func createFile(name string, perm fs.FileMode) (*os.File, bool, error) {
	fd, err := syscall.Open(name, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_EXCL|syscall.O_CLOEXEC, uint32(perm))
	if err != nil {
		return nil, false, &os.PathError{Op: "open", Path: name, Err: err}
	}
	// The file has perm unless the umask removed bits from it.
	return os.NewFile(uintptr(fd), name), uint32(perm)&umask() == 0, nil
}

var umaskOnce = sync.OnceValue(func() uint32 {
	// Linux reports the umask without changing it; elsewhere assume the
	// worst, so that the mode is always set explicitly.
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0o777
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "Umask:"); ok {
			if m, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32); err == nil {
				return uint32(m)
			}
		}
	}
	return 0o777
})

func umask() uint32 { return umaskOnce() }
