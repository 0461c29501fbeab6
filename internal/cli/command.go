package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/modhygiene/modhygiene/internal/exitcode"
)

// command is one modhygiene command, or a subcommand of one. Commands are
// built anew for each invocation, with their flag values, so that nothing
// is shared between two invocations in one process.
type command struct {
	// name is the word that selects the command.
	name string
	// short is a one-line description for the command list.
	short string
	// usage is the synopsis after "modhygiene ", such as "tidy [--fix] [MODULE_DIR...]".
	usage string
	// long is the help text shown by --help, after the synopsis.
	long string
	// flags defines the command's flags on fs.
	flags func(fs *flag.FlagSet)
	// run runs the command with its positional arguments and its parsed
	// flag set.
	run func(ctx context.Context, a *app, args []string) error
	// subs are subcommands (cache key, cache save, ...); a command with
	// subcommands and no run needs one.
	subs []*command
	// set records the flags given on the command line, by name, once
	// parsed; values holds every flag's value as a string.
	set    map[string]bool
	values map[string]string
}

func (c *command) execute(ctx context.Context, a *app, args []string) error {
	if len(c.subs) > 0 && len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		for _, s := range c.subs {
			if s.name == args[0] {
				return s.execute(ctx, a, args[1:])
			}
		}
		if c.run == nil {
			return exitcode.UsageError(fmt.Errorf("%s: unknown subcommand %q; run 'modhygiene %s --help'", c.name, args[0], c.name))
		}
	}
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if c.flags != nil {
		c.flags(fs)
	}
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		c.printHelp(a.stdout, fs)
		return nil
	}
	if err != nil {
		return exitcode.UsageError(fmt.Errorf("%s: %v; run 'modhygiene %s --help'", c.usageName(), err, c.usageName()))
	}
	if c.run == nil {
		c.printHelp(a.stderr, fs)
		return silent(exitcode.Usage)
	}
	c.set, c.values = map[string]bool{}, map[string]string{}
	fs.Visit(func(f *flag.Flag) { c.set[f.Name] = true })
	fs.VisitAll(func(f *flag.Flag) { c.values[f.Name] = f.Value.String() })
	return c.run(ctx, a, pos)
}

func (c *command) usageName() string {
	name, _, _ := strings.Cut(c.usage, " [")
	if i := strings.Index(name, " <"); i >= 0 {
		name = name[:i]
	}
	return name
}

// parseInterspersed parses flags that may stand before, between or after
// positional arguments; "--" ends the flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// fs.Parse stops at the first positional argument or after "--".
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func (c *command) printHelp(w io.Writer, fs *flag.FlagSet) {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: modhygiene %s\n", c.usage)
	if c.short != "" {
		fmt.Fprintf(&b, "\n%s%s.\n", strings.ToUpper(c.short[:1]), c.short[1:])
	}
	if c.long != "" {
		fmt.Fprintf(&b, "\n%s\n", strings.TrimSpace(c.long))
	}
	if len(c.subs) > 0 {
		b.WriteString("\nSubcommands:\n\n")
		for _, s := range c.subs {
			fmt.Fprintf(&b, "\t%-10s %s\n", s.name, s.short)
		}
	}
	hasFlags := false
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		b.WriteString("\nFlags:\n\n")
		fs.SetOutput(&b)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	io.WriteString(w, b.String())
}

// noArgs refuses positional arguments for a command that takes none.
func noArgs(name string, args []string, hint string) error {
	if len(args) > 0 {
		return exitcode.UsageError(fmt.Errorf("%s: unexpected argument %q%s", name, args[0], hint))
	}
	return nil
}
