package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/modhygiene/modhygiene/internal/exitcode"
	"github.com/modhygiene/modhygiene/internal/report"
)

type reportCmdFlags struct {
	from   string
	report reportFlags
}

func init() {
	var f reportCmdFlags
	register(&command{
		name:  "report",
		short: "render a saved JSON run in another format, or to the CI platform",
		usage: "report --from FILE [--format text|json|sarif|codequality] [--sarif FILE] [--codequality FILE] [--fail-on LEVEL] [--baseline FILE]",
		long: `Reads a run saved with --json (or --format json) and renders it again: on
stdout in --format, into the files named by --json, --sarif and --codequality,
and, on a CI platform, to its reporters (GitHub annotations, job summary and
step outputs; GitLab Code Quality file and merge-request note). Each format
comes out byte for byte as the original run would have written it.
--from - reads standard input.

The exit code follows --fail-on and --baseline, as for the command that made
the run: 0 clean, 1 new findings at or above --fail-on, 2 a usage error or an
unreadable stream.`,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&f.from, "from", "", "the saved JSON stream to render (`FILE`, or - for standard input)")
			f.report.define(fs)
		},
		run: func(ctx context.Context, a *app, args []string) error { return runReport(ctx, a, &f, args) },
	})
}

func runReport(ctx context.Context, a *app, f *reportCmdFlags, args []string) error {
	if len(args) > 0 {
		return exitcode.UsageError(fmt.Errorf("report: unexpected argument %q; run 'modhygiene report --help'", args[0]))
	}
	if f.from == "" {
		return exitcode.UsageError(fmt.Errorf("report: --from FILE is required; run 'modhygiene report --help'"))
	}
	var r io.Reader = a.stdin
	name := "standard input"
	if f.from != "-" {
		file, err := os.Open(f.from)
		if err != nil {
			return exitcode.UsageError(fmt.Errorf("report: %w", err))
		}
		defer file.Close()
		r, name = file, f.from
	}
	run, err := report.ReadJSON(r)
	if err != nil {
		return exitcode.UsageError(fmt.Errorf("report --from %s: %w", name, err))
	}
	return a.emit(&f.report, &outcome{
		command:  run.Header.Command,
		header:   run.Header,
		stages:   run.Stages,
		findings: run.Findings,
		replay:   true,
	})
}
