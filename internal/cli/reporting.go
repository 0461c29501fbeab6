package cli

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/modhygiene/modhygiene/internal/config"
	"github.com/modhygiene/modhygiene/internal/exitcode"
	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/report"
)

// reportFlags are the flags shared by every command that produces findings.
type reportFlags struct {
	format   string
	jsonFile string
	failOn   string
	baseline string
}

func (r *reportFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&r.format, "format", "text", "output format on stdout: "+strings.Join(report.Formats, ", "))
	fs.StringVar(&r.jsonFile, "json", "", "also write the canonical JSON stream to `FILE`")
	fs.StringVar(&r.failOn, "fail-on", "warning", "lowest severity that makes the exit code 1: info, warning, error or never")
	fs.StringVar(&r.baseline, "baseline", "", "a JSON stream from the base branch: its findings are reported as existing and do not fail the run")
}

// outcome is what a command produced, ready to be reported.
type outcome struct {
	command  string
	header   report.Header
	stages   []report.Stage
	findings []finding.Finding
	// config, when set, applies severities and ignores.
	config *config.File
}

// emit applies the configuration and baseline to the findings, renders
// them in every requested format, and returns the verdict as an error with
// exit code 1 when new findings reach --fail-on.
func (a *app) emit(rf *reportFlags, out *outcome) error {
	failOn, err := report.ParseFailOn(rf.failOn)
	if err != nil {
		return exitcode.UsageError(err)
	}
	fs := out.config.Apply(out.findings, time.Now())
	for i := range fs {
		fs[i].Normalize()
	}
	if rf.baseline != "" {
		if err := markBaseline(rf.baseline, fs); err != nil {
			return err
		}
	}
	run := &report.Run{Header: out.header, Stages: out.stages, Findings: fs}
	run.Header.Protocol, run.Header.Tool, run.Header.Version = report.Protocol, "modhygiene", version()
	if run.Header.Command == "" {
		run.Header.Command = out.command
	}
	if err := a.render(rf, run); err != nil {
		return exitcode.FailureError(err)
	}
	c := report.Verdict(fs, failOn)
	if c.Failing > 0 {
		return silent(exitcode.Findings)
	}
	return nil
}

func (a *app) render(rf *reportFlags, run *report.Run) error {
	h, err := report.New(rf.format, a.stdout, report.Options{Color: a.color(), ToolVersion: version()})
	if err != nil {
		return exitcode.UsageError(err)
	}
	if err := report.Replay(run, h); err != nil {
		return err
	}
	if rf.jsonFile != "" {
		if err := writeFileWith(rf.jsonFile, func(f *os.File) error { return report.Replay(run, report.NewJSONHandler(f)) }); err != nil {
			return err
		}
	}
	return nil
}

func markBaseline(path string, fs []finding.Finding) error {
	f, err := os.Open(path)
	if err != nil {
		return exitcode.UsageError(fmt.Errorf("--baseline: %w", err))
	}
	defer f.Close()
	base, err := report.ReadJSON(f)
	if err != nil {
		return exitcode.UsageError(fmt.Errorf("--baseline %s: %w", path, err))
	}
	seen := map[string]bool{}
	for _, b := range base.Findings {
		b.Normalize()
		seen[b.Fingerprint] = true
	}
	for i := range fs {
		fs[i].Existing = seen[fs[i].Fingerprint]
	}
	return nil
}

// color reports whether text output may use colour: stdout is a terminal
// and NO_COLOR is not set.
func (a *app) color() bool {
	if a.getenv("NO_COLOR") != "" || a.getenv("TERM") == "dumb" {
		return false
	}
	f, ok := a.stdout.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// writeFileWith creates path and lets write fill it.
func writeFileWith(path string, write func(*os.File) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
