// Package gocmd is the only code in modhygiene that executes the go command.
//
// Every call takes an explicit environment: the process environment is never
// read or changed here, so concurrent calls with different settings (a
// GOFLAGS for one module, a GOPROXY for another) cannot interfere.
package gocmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Runner runs the go command. A Runner is safe for concurrent use; each call
// starts its own process.
type Runner struct {
	// Go is the path of the go binary. When empty, "go" is looked up in the
	// PATH of Env.
	Go string
	// Env is the complete environment of every call (KEY=value). Nothing is
	// inherited from the process.
	Env []string
}

// Call describes one execution of the go command.
type Call struct {
	// Dir is the working directory.
	Dir string
	// Args are the arguments after "go".
	Args []string
	// Env holds KEY=value pairs that override the Runner's Env for this call.
	Env []string
	// Stdin, if set, is the command's standard input.
	Stdin []byte
}

// Result is what a finished call produced.
type Result struct {
	Stdout   []byte
	Stderr   []byte
	Duration time.Duration
}

// Run runs go with args in dir.
func (r *Runner) Run(ctx context.Context, dir string, args ...string) (*Result, error) {
	return r.Do(ctx, Call{Dir: dir, Args: args})
}

// Do runs one call. When the command exits non-zero, Do returns the Result
// together with an *Error that classifies the failure; when the context is
// cancelled, the process is killed and the error has Kind Canceled.
func (r *Runner) Do(ctx context.Context, c Call) (*Result, error) {
	env := Merge(r.Env, c.Env)
	bin, err := r.goPath(env)
	if err != nil {
		return nil, &Error{Args: c.Args, Dir: c.Dir, Kind: NotInstalled, Err: err}
	}
	cmd := exec.CommandContext(ctx, bin, c.Args...)
	cmd.Dir = c.Dir
	cmd.Env = env
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if c.Stdin != nil {
		cmd.Stdin = bytes.NewReader(c.Stdin)
	}
	start := time.Now()
	err = cmd.Run()
	res := &Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), Duration: time.Since(start)}
	if err == nil {
		return res, nil
	}
	return res, classify(ctx, c, res, err)
}

func (r *Runner) goPath(env []string) (string, error) {
	if r.Go != "" {
		return r.Go, nil
	}
	for _, dir := range filepath.SplitList(Lookup(env, "PATH")) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, "go")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("go command not found in PATH: %w", fs.ErrNotExist)
}

// Lookup returns the value of name in env (the last one wins, as in exec).
func Lookup(env []string, name string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == name {
			v = val
		}
	}
	return v
}

// Merge returns base with each KEY=value of over replacing the same key.
func Merge(base, over []string) []string {
	if len(over) == 0 {
		return base
	}
	replaced := make(map[string]bool, len(over))
	for _, kv := range over {
		k, _, _ := strings.Cut(kv, "=")
		replaced[k] = true
	}
	out := make([]string, 0, len(base)+len(over))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if !replaced[k] {
			out = append(out, kv)
		}
	}
	return append(out, over...)
}

// classify turns a failed run into an *Error with its Kind.
func classify(ctx context.Context, c Call, res *Result, err error) error {
	e := &Error{Args: c.Args, Dir: c.Dir, Stderr: strings.TrimSpace(string(res.Stderr)), Err: err}
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		e.Kind = Canceled
		e.Err = ctx.Err()
	case errors.As(err, &exit):
		e.ExitCode = exit.ExitCode()
		e.Kind = classifyStderr(e.Stderr)
	default:
		e.Kind = NotInstalled
	}
	return e
}
