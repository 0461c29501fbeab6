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

func reportCommand() *command {
	var (
		from string
		rf   reportFlags
	)
	return &command{
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
unreadable stream, 3 the run recorded a failure (an MH000 finding).`,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&from, "from", "", "the saved JSON stream to render (`FILE`, or - for standard input)")
			rf.define(fs)
		},
		run: func(ctx context.Context, a *app, args []string) error {
			if err := noArgs("report", args, "; run 'modhygiene report --help'"); err != nil {
				return err
			}
			return a.replay(from, &rf)
		},
	}
}

func (a *app) replay(from string, rf *reportFlags) error {
	rp, err := rf.resolve()
	if err != nil {
		return err
	}
	if from == "" {
		return exitcode.UsageError(fmt.Errorf("report: --from FILE is required; run 'modhygiene report --help'"))
	}
	var r io.Reader = a.stdin
	name := "standard input"
	if from != "-" {
		file, err := os.Open(from)
		if err != nil {
			return exitcode.UsageError(fmt.Errorf("report: %w", err))
		}
		defer file.Close()
		r, name = file, from
	}
	run, err := report.ReadJSON(r)
	if err != nil {
		return exitcode.UsageError(fmt.Errorf("report --from %s: %w", name, err))
	}
	return a.emit(rp, &outcome{header: run.Header, stages: run.Stages, findings: run.Findings, replay: true})
}
