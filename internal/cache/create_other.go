//go:build !linux

package cache

import (
	"io/fs"
	"os"
)

// createFile creates a new file for writing; the caller sets its mode.
func createFile(name string, perm fs.FileMode) (writeCloseChmoder, bool, error) {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, false, err
	}
	return f, false, nil
}
