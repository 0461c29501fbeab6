// Package gocmdtest helps tests count the go commands a run starts.
package gocmdtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Recorder is a wrapper of the real go command that logs every invocation
// (its arguments, one line per process) before it execs the real go. Put
// Dir first in the PATH of the environment under test (or use Go as the
// binary) and read the log with Calls or Count.
type Recorder struct {
	// Dir holds the wrapper, named go.
	Dir string
	// Go is the wrapper's path.
	Go  string
	log string
}

// Wrap writes a wrapper of the go command found in the test's PATH into a
// new temporary directory.
func Wrap(t testing.TB) *Recorder {
	t.Helper()
	real, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("gocmdtest: %v", err)
	}
	r, err := WrapIn(t.TempDir(), real)
	if err != nil {
		t.Fatalf("gocmdtest: %v", err)
	}
	return r
}

// WrapIn writes a wrapper of the go binary real into dir, with its log
// beside it, for callers without a testing.TB (a testscript command).
func WrapIn(dir, real string) (*Recorder, error) {
	r := &Recorder{Dir: dir, Go: filepath.Join(dir, "go"), log: filepath.Join(dir, "go-calls.log")}
	script := fmt.Sprintf("#!/bin/sh\nprintf '%%s\\n' \"$*\" >> %s\nexec %s \"$@\"\n", shellQuote(r.log), shellQuote(real))
	if err := os.WriteFile(r.Go, []byte(script), 0o755); err != nil {
		return nil, err
	}
	return r, nil
}

// Calls returns the arguments of every go command started so far, in the
// order they started.
func (r *Recorder) Calls() []string {
	data, err := os.ReadFile(r.log)
	if err != nil {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// Count returns how many go commands started so far had arguments
// beginning with prefix, such as "mod tidy".
func (r *Recorder) Count(prefix string) int {
	n := 0
	for _, c := range r.Calls() {
		if c == prefix || strings.HasPrefix(c, prefix+" ") {
			n++
		}
	}
	return n
}

// Reset forgets the calls so far.
func (r *Recorder) Reset() { os.Remove(r.log) }

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
