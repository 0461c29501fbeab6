// Package cli is modhygiene's command line: commands, flags and the wiring
// between the stages. It is the only package that knows every other one.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/modhygiene/modhygiene/internal/exitcode"
	"github.com/modhygiene/modhygiene/internal/gocmd"
)

// Version is the tool's version, stamped at build time with
// -ldflags "-X github.com/modhygiene/modhygiene/internal/cli.Version=v1.2.3".
// When empty, the module version from the build info is used.
var Version = ""

// app is one invocation: its streams, environment and working directory.
// Nothing below the cli package reads the process environment; it gets what
// it needs from here.
type app struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	env    []string
	cwd    string
	// live is set while a live progress line is on stderr.
	live bool
}

// getenv returns the value of name in the invocation's environment.
func (a *app) getenv(name string) string { return gocmd.Lookup(a.env, name) }

// goRunner returns a runner for the go command with the invocation's environment.
func (a *app) goRunner() *gocmd.Runner { return &gocmd.Runner{Env: a.env} }

// Main runs modhygiene with args (without the program name) and returns the
// process exit code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env []string) int {
	cwd, err := os.Getwd()
	if err != nil {
		fmt.Fprintf(stderr, "modhygiene: %v\n", err)
		return exitcode.Failure
	}
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, env: env, cwd: cwd}
	a.maskSecrets() // before anything can print a token
	err = a.dispatch(ctx, args)
	code := exitcode.Of(err)
	if err != nil && !errors.Is(err, errSilent) {
		fmt.Fprintf(stderr, "modhygiene: %v\n", err)
	}
	return code
}

// errSilent marks an error whose message has already been shown.
var errSilent = errors.New("reported")

// silent returns an error with code that prints nothing more.
func silent(code int) error { return &exitcode.Error{Code: code, Err: errSilent} }

func (a *app) dispatch(ctx context.Context, args []string) error {
	if len(args) == 0 {
		a.printUsage(a.stderr)
		return silent(exitcode.Usage)
	}
	name := args[0]
	switch name {
	case "-h", "--help", "-help":
		a.printUsage(a.stdout)
		return nil
	case "--version", "-version":
		name = "version"
	}
	cmd := lookup(name)
	if cmd == nil {
		return exitcode.UsageError(fmt.Errorf("unknown command %q; run 'modhygiene help' for the list", name))
	}
	return cmd.execute(ctx, a, args[1:])
}

func (a *app) printUsage(w io.Writer) {
	var b strings.Builder
	b.WriteString("modhygiene keeps Go module dependencies fast to fetch and healthy.\n\n")
	b.WriteString("Usage:\n\n\tmodhygiene <command> [flags] [arguments]\n\nCommands:\n\n")
	for _, c := range commands() {
		fmt.Fprintf(&b, "\t%-10s %s\n", c.name, c.short)
	}
	b.WriteString("\nRun 'modhygiene <command> --help' for a command's flags.\n")
	b.WriteString("Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage or configuration error, 3 the tool or the go command failed.\n")
	io.WriteString(w, b.String())
}

func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

func init() {
	register(&command{
		name:  "version",
		short: "print the version of modhygiene",
		usage: "version",
		run: func(ctx context.Context, a *app, args []string) error {
			fmt.Fprintf(a.stdout, "modhygiene %s\n", version())
			return nil
		},
	})
	register(&command{
		name:  "help",
		short: "show help for modhygiene or a command",
		usage: "help [command]",
		run: func(ctx context.Context, a *app, args []string) error {
			if len(args) == 0 {
				a.printUsage(a.stdout)
				return nil
			}
			c := lookup(args[0])
			if c == nil {
				return exitcode.UsageError(fmt.Errorf("unknown command %q", args[0]))
			}
			return c.execute(ctx, a, append(args[1:], "--help"))
		},
	})
}
