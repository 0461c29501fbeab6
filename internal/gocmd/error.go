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

// Error reports the command and the go command's own message.
func (e *Error) Error() string {
	cmd := "go " + strings.Join(e.Args, " ")
	if e.Stderr != "" {
		return fmt.Sprintf("%s: %s", cmd, e.Stderr)
	}
	return fmt.Sprintf("%s: %v", cmd, e.Err)
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
