//go:build !unix

package cache

import (
	"io/fs"
	"os"
)

// createFile creates a new file for writing; the caller sets its mode.
func createFile(name string, perm fs.FileMode) (*os.File, bool, error) {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	return f, false, err
}
