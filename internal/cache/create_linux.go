//go:build linux

package cache

import (
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"unsafe"
)

// rawFile is a file being extracted, created and closed with plain system
// calls rather than through os.File, whose poller registration and
// finalizer cost more than the calls themselves for tens of thousands of
// small files. The create goes through syscall.Syscall6, which lets the
// runtime give the processor to another goroutine while the file system
// takes its time (under load a create can take milliseconds, and the other
// shards' decoding and hashing must go on meanwhile); the close and chmod
// of a file just written are short and stay raw.
type rawFile struct {
	fd   int
	name string
}

// createFile creates a new file with mode perm for writing and reports
// whether the file already has that mode (the umask removed nothing).
func createFile(name string, perm fs.FileMode) (writeCloseChmoder, bool, error) {
	p, err := syscall.BytePtrFromString(name)
	if err != nil {
		return nil, false, &os.PathError{Op: "open", Path: name, Err: err}
	}
	dirfd := atFDCWD
	r, _, e := syscall.Syscall6(syscall.SYS_OPENAT, uintptr(dirfd), uintptr(unsafe.Pointer(p)),
		uintptr(syscall.O_WRONLY|syscall.O_CREAT|syscall.O_EXCL|syscall.O_CLOEXEC), uintptr(perm), 0, 0)
	if e != 0 {
		return nil, false, &os.PathError{Op: "open", Path: name, Err: e}
	}
	return &rawFile{fd: int(r), name: name}, uint32(perm)&umask() == 0, nil
}

const atFDCWD = -0x64

// Write writes b with the usual system call: a write may wait for the
// kernel to write back dirty pages, and that wait must not hold a processor.
func (f *rawFile) Write(b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := syscall.Write(f.fd, b[n:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return n, &os.PathError{Op: "write", Path: f.name, Err: err}
		}
		if m == 0 {
			return n, &os.PathError{Op: "write", Path: f.name, Err: io.ErrShortWrite}
		}
		n += m
	}
	return n, nil
}

// Chmod sets the file's mode.
func (f *rawFile) Chmod(mode fs.FileMode) error {
	if _, _, e := syscall.RawSyscall(syscall.SYS_FCHMOD, uintptr(f.fd), uintptr(mode.Perm()), 0); e != 0 {
		return &os.PathError{Op: "chmod", Path: f.name, Err: e}
	}
	return nil
}

// Close closes the file.
func (f *rawFile) Close() error {
	if _, _, e := syscall.RawSyscall(syscall.SYS_CLOSE, uintptr(f.fd), 0, 0); e != 0 {
		return &os.PathError{Op: "close", Path: f.name, Err: e}
	}
	return nil
}

var umaskOnce = sync.OnceValue(func() uint32 {
	// Linux reports the umask without changing it.
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
