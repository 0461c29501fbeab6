package ci

import (
	"io"
	"os"
)

// AppendFile opens path for appending (the runner's environment files are
// append-only) and lets write add to it.
func AppendFile(path string, write func(io.Writer) error) error {
	return openWith(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, write)
}

// CreateFile creates or truncates path and lets write fill it.
func CreateFile(path string, write func(io.Writer) error) error {
	return openWith(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, write)
}

func openWith(path string, flags int, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
