// Package exitcode names the process exit codes of modhygiene and the error
// type that carries them from the stages up to main.
package exitcode

import "errors"

// The exit codes, documented for users in cmd/modhygiene/doc.go.
const (
	// OK means the run was clean: no findings at or above --fail-on.
	OK = 0
	// Findings means at least one finding is at or above --fail-on.
	Findings = 1
	// Usage means a usage or configuration error: bad flags, no module, a malformed config file.
	Usage = 2
	// Failure means the tool or the go command failed, so the result is unknown.
	Failure = 3
)

// Error is an error that carries an exit code.
type Error struct {
	Code int
	Err  error
}

// Error returns the message of the wrapped error.
func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e *Error) Unwrap() error { return e.Err }

// ExitCode returns the exit code the error asks for.
func (e *Error) ExitCode() int { return e.Code }

// UsageError wraps err as a usage or configuration error (exit 2).
func UsageError(err error) error { return &Error{Code: Usage, Err: err} }

// FailureError wraps err as a tool failure (exit 3).
func FailureError(err error) error { return &Error{Code: Failure, Err: err} }

// FailureErrorIf wraps err as a tool failure (exit 3) when it is not nil.
func FailureErrorIf(err error) error {
	if err == nil {
		return nil
	}
	return FailureError(err)
}

// FindingsError returns an error that makes the process exit 1 with msg.
func FindingsError(msg string) error { return &Error{Code: Findings, Err: errors.New(msg)} }

// Of returns the exit code for err: 0 for nil, the code of an error with an
// ExitCode method anywhere in its chain, and Failure otherwise.
func Of(err error) int {
	if err == nil {
		return OK
	}
	var c interface{ ExitCode() int }
	if errors.As(err, &c) {
		return c.ExitCode()
	}
	return Failure
}
