// Package fserr trims file system errors for messages that name the
// user's file rather than the temporary one an operation worked on.
package fserr

import (
	"errors"
	"io/fs"
	"os"
)

// Bare drops the operation and path of a *fs.PathError or *os.LinkError,
// which may name a temporary file, and returns the cause; other errors
// are returned as they are.
func Bare(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
