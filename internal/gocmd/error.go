package gocmd

import (
	"fmt"
	"regexp"
	"strings"
)

// Kind says why the go command failed.
type Kind int

// The kinds of failure.
const (
	// Exited is a non-zero exit that matched no more specific kind.
	Exited Kind = iota
	// NotInstalled means the go binary could not be found or started.
	NotInstalled
	// Canceled means the context ended before the command finished.
	Canceled
	// Network means a module could not be fetched: DNS, TLS, a refused or
	// timed-out connection, a proxy answering 5xx, or GOPROXY=off.
	Network
	// ModuleNotFound means a module or version does not exist.
	ModuleNotFound
	// Syntax means a go.mod, go.work or go.sum could not be parsed.
	Syntax
	// Checksum means a checksum did not verify.
	Checksum
)

var kindNames = [...]string{"exited", "not installed", "canceled", "network", "module not found", "syntax", "checksum"}

// String names the kind.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Error is a failed call of the go command.
type Error struct {
	Args     []string
	Dir      string
	ExitCode int
	Stderr   string
	Kind     Kind
	Err      error
}

// Error reports the command and the go command's own message, without the
// progress lines (see IsProgress).
func (e *Error) Error() string {
	cmd := "go " + strings.Join(e.Args, " ")
	if r := e.Reason(); r != "" {
		return fmt.Sprintf("%s: %s", cmd, r)
	}
	return fmt.Sprintf("%s: %v", cmd, e.Err)
}

// Reason returns what the go command said on stderr without its progress
// lines: the error itself.
func (e *Error) Reason() string {
	return dropProgress(e.Stderr)
}

// FirstLine splits Reason into its first error line and the rest. The
// first line takes in the lines that continue it: the indented lines of an
// import stack ("go: m imports\n\tp: cannot find module ...") and, after a
// line ending in a colon, the next line ("go: errors parsing go.mod:\n
// go.mod:3: unknown directive: x"), joined with single spaces. Without
// stderr it is the error that ended the command (a signal, a missing
// binary).
func (e *Error) FirstLine() (first, rest string) {
	r := e.Reason()
	if r == "" && e.Err != nil {
		return e.Err.Error(), ""
	}
	return SplitFirst(r)
}

// SplitFirst splits a go command's message (progress lines already
// removed) into its first error line, continuation lines joined, and the
// rest.
func SplitFirst(msg string) (first, rest string) {
	lines := strings.Split(strings.TrimSpace(msg), "\n")
	first = strings.TrimSpace(lines[0])
	i := 1
	for ; i < len(lines); i++ {
		l := lines[i]
		indented := strings.HasPrefix(l, "\t") || strings.HasPrefix(l, " ")
		if !indented && !strings.HasSuffix(first, ":") {
			break
		}
		first += " " + strings.TrimSpace(l)
		if !indented {
			i++
			break
		}
	}
	return first, strings.TrimSpace(strings.Join(lines[i:], "\n"))
}

// IsProgress reports whether line is one of the progress lines the go
// command prints on stderr as it works ("go: downloading m v1.2.3",
// "go: finding module for package p", "go: found p in m v1.2.3",
// "go: extracting m v1.2.3"), as opposed to an error.
func IsProgress(line string) bool {
	return progressRE.MatchString(line)
}

var progressRE = regexp.MustCompile(`^go: (downloading \S+ \S+|extracting \S+ \S+|finding module for package \S+|found \S+ in \S+ \S+)\s*$`)

func dropProgress(stderr string) string {
	if !strings.Contains(stderr, "go: ") {
		return strings.TrimSpace(stderr)
	}
	var keep []string
	for _, l := range strings.Split(stderr, "\n") {
		if !IsProgress(l) {
			keep = append(keep, l)
		}
	}
	return strings.TrimSpace(strings.Join(keep, "\n"))
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

var (
	syntaxRE   = regexp.MustCompile(`(?m)(go\.mod|go\.work|go\.sum):\d+(:\d+)?: `)
	notFoundRE = regexp.MustCompile(`(?mi)(unknown revision|invalid version|no matching versions|not found: |reading .*: 404|reading .*: 410|no required module provides|cannot find module providing|module .* not found)`)
	networkRE  = regexp.MustCompile(`(?mi)(dial tcp|no such host|connection refused|connection reset|i/o timeout|TLS handshake|tls: |EOF$|: 5\d\d |module lookup disabled by GOPROXY=off|GOPROXY=off|context deadline exceeded|timeout awaiting)`)
	checksumRE = regexp.MustCompile(`(?mi)(checksum mismatch|SECURITY ERROR|verifying .*: .*(checksum|go.sum))`)
)

func classifyStderr(stderr string) Kind {
	switch {
	case checksumRE.MatchString(stderr):
		return Checksum
	case syntaxRE.MatchString(stderr):
		return Syntax
	case networkRE.MatchString(stderr):
		return Network
	case notFoundRE.MatchString(stderr):
		return ModuleNotFound
	}
	return Exited
}
