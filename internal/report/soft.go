package report

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/fserr"
)

// Soft wraps h so that its failure is a warning, not the run's: the first
// error any of h's methods returns (Flush included) is passed to warn, h
// gets no further calls, and the wrapper's methods always return nil. So in
// a Fanout one broken reporter (a report file in a missing directory, a
// summary file that cannot be appended to, a GitLab API that refuses the
// note) loses only its own output and every other reporter still runs.
//
// The command layer wraps every reporter but the one that writes the
// requested format on stdout: the --json, --sarif and --codequality files
// (made with File), GitHub's annotations, summary and outputs, GitLab's
// note. warn prints "modhygiene: warning: <err>" on stderr; the exit code
// does not change.
func Soft(h Handler, warn func(error)) Handler {
	return &soft{h: h, warn: warn}
}

type soft struct {
	h      Handler
	warn   func(error)
	broken bool
}

var _ Handler = (*soft)(nil)
var _ Flusher = (*soft)(nil)

func (s *soft) try(call func() error) error {
	if s.broken {
		return nil
	}
	if err := call(); err != nil {
		s.broken = true
		if s.warn != nil {
			s.warn(err)
		}
	}
	return nil
}

// Header passes h on unless the handler has failed.
func (s *soft) Header(h *Header) error { return s.try(func() error { return s.h.Header(h) }) }

// Stage passes st on unless the handler has failed.
func (s *soft) Stage(st *Stage) error { return s.try(func() error { return s.h.Stage(st) }) }

// Finding passes fd on unless the handler has failed.
func (s *soft) Finding(fd *finding.Finding) error {
	return s.try(func() error { return s.h.Finding(fd) })
}

// Flush flushes the handler unless it has failed.
func (s *soft) Flush() error {
	fl, ok := s.h.(Flusher)
	if !ok {
		return nil
	}
	return s.try(fl.Flush)
}

// File returns a handler that renders into memory with the handler that
// make returns, and on Flush writes the result to the file path: into a
// temporary file in the same directory first, renamed over path once
// complete, so a failed write leaves no half-written report. Nothing is
// created before Flush, so a path that cannot be written fails only at
// the end, with an error that names what and path (such as "sarif report
// out/x.sarif: open ...: no such file or directory"): wrap the handler in
// Soft to make that a warning.
func File(what, path string, make func(io.Writer) Handler) Handler {
	f := &file{what: what, path: path}
	f.h = make(&f.buf)
	return f
}

type file struct {
	what, path string
	buf        bytes.Buffer
	h          Handler
}

var _ Handler = (*file)(nil)
var _ Flusher = (*file)(nil)

// Header passes h on.
func (f *file) Header(h *Header) error { return f.h.Header(h) }

// Stage passes s on.
func (f *file) Stage(s *Stage) error { return f.h.Stage(s) }

// Finding passes fd on.
func (f *file) Finding(fd *finding.Finding) error { return f.h.Finding(fd) }

// Flush flushes the inner handler and writes the file.
func (f *file) Flush() error {
	if fl, ok := f.h.(Flusher); ok {
		if err := fl.Flush(); err != nil {
			return fmt.Errorf("%s %s: %w", f.what, f.path, err)
		}
	}
	if err := writeFile(f.path, f.buf.Bytes()); err != nil {
		return fmt.Errorf("%s %s: %w", f.what, f.path, err)
	}
	return nil
}

// writeFile writes data to path through a temporary file in the same
// directory, renamed into place once complete. A path that exists and is
// not a regular file (/dev/stdout, a named pipe) is written directly. The
// error names no temporary file: the caller names path.
func writeFile(path string, data []byte) error {
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			return fserr.Bare(err)
		}
		_, err = f.Write(data)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return fserr.Bare(err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".modhygiene-report-*")
	if err != nil {
		return fserr.Bare(err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	return fserr.Bare(err)
}
