// Package cli is modhygiene's command line: commands, flags, the settings
// they resolve, and the wiring of the stages (package stage) to the
// reporters (package report). It is the only package that knows every
// other one, and it does no stage's work itself.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/modhygiene/modhygiene/internal/ci"
	"github.com/modhygiene/modhygiene/internal/exitcode"
	"github.com/modhygiene/modhygiene/internal/gocmd"
)

// Version is the tool's version, stamped at build time with
// -ldflags "-X github.com/modhygiene/modhygiene/internal/cli.Version=v1.2.3".
// When empty, the module version from the build info is used.
var Version = ""

// Invocation is one run of modhygiene: its arguments (without the program
// name), streams, environment and working directory.
type Invocation struct {
	Args   []string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Env is the whole environment, as KEY=value.
	Env []string
	// Dir is the working directory relative paths are resolved against.
	Dir string
	// Self is the path of this program, to start it again in the
	// background (the proxy of --detach and of run's proxy setting).
	Self string
}

// app is one invocation being run. Nothing below the cli package reads the
// process environment; it gets what it needs from here.
type app struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	env    []string
	cwd    string
	// ci is what the runner's variables say, read once.
	ci *ci.Env
	// self is this program's path (Invocation.Self).
	self string
}

// getenv returns the value of name in the invocation's environment.
func (a *app) getenv(name string) string { return gocmd.Lookup(a.env, name) }

// Main runs modhygiene and returns the process exit code. Several calls may
// run at once: each builds its own commands, flags and settings.
func Main(ctx context.Context, inv Invocation) int {
	a := &app{stdin: inv.Stdin, stdout: inv.Stdout, stderr: inv.Stderr, env: inv.Env, cwd: inv.Dir,
		ci: ci.ReadEnviron(inv.Env), self: inv.Self}
	if a.ci.Platform == ci.GitHub {
		// No line we print can start a workflow command but our own:
		// text from outside (retraction messages, directory names,
		// inputs) is neutralised where it is written.
		out, errs := ci.SafeLines(inv.Stdout), ci.SafeLines(inv.Stderr)
		defer out.Flush()
		defer errs.Flush()
		a.stdout, a.stderr = out, errs
		ci.MaskEnv(a.stderr, a.env) // before anything can print a token
	}
	err := a.dispatch(ctx, inv.Args)
	if err != nil && ctx.Err() != nil && !errors.Is(err, errSilent) {
		err = exitcode.FailureError(fmt.Errorf("interrupted: %w", context.Cause(ctx)))
	}
	code := exitcode.Of(err)
	if err != nil && !errors.Is(err, errSilent) {
		fmt.Fprintf(a.stderr, "modhygiene: %s\n", err)
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
	cmd := a.lookup(name)
	if cmd == nil {
		return exitcode.UsageError(fmt.Errorf("unknown command %q; run 'modhygiene help' for the list", name))
	}
	return cmd.execute(ctx, a, args[1:])
}

func (a *app) printUsage(w io.Writer) {
	var b strings.Builder
	b.WriteString("modhygiene keeps Go module dependencies fast to fetch and healthy.\n\n")
	b.WriteString("Usage:\n\n\tmodhygiene <command> [flags] [arguments]\n\nCommands:\n\n")
	for _, c := range a.commands() {
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

// commands returns every top-level command, sorted by name, with fresh
// flag values.
func (a *app) commands() []*command {
	return []*command{
		cacheCommand(), checkCommand(), helpCommand(), mirrorsCommand(), proxyCommand(), reportCommand(),
		runCommand(), tidyCommand(), versionCommand(), vulnCommand(),
	}
}

func (a *app) lookup(name string) *command {
	for _, c := range a.commands() {
		if c.name == name {
			return c
		}
	}
	return nil
}

func versionCommand() *command {
	return &command{
		name:  "version",
		short: "print the version of modhygiene",
		usage: "version",
		run: func(ctx context.Context, a *app, args []string) error {
			fmt.Fprintf(a.stdout, "modhygiene %s\n", version())
			return nil
		},
	}
}

func helpCommand() *command {
	return &command{
		name:  "help",
		short: "show help for modhygiene or a command",
		usage: "help [command]",
		run: func(ctx context.Context, a *app, args []string) error {
			if len(args) == 0 {
				a.printUsage(a.stdout)
				return nil
			}
			c := a.lookup(args[0])
			if c == nil {
				return exitcode.UsageError(fmt.Errorf("unknown command %q", args[0]))
			}
			return c.execute(ctx, a, append(args[1:], "--help"))
		},
	}
}
