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
		long:  help("report"),
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
