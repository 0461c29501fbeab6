package cli

import (
	"context"
	"errors"
	"flag"
	"strings"

	"github.com/modhygiene/modhygiene/internal/exitcode"
	"github.com/modhygiene/modhygiene/internal/mirror"
	"github.com/modhygiene/modhygiene/internal/stage"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

// mirrorsFlags are the flags of the mirrors command.
type mirrorsFlags struct {
	m         stage.Mirrors
	private   string
	direct    bool
	export    string
	dir       string
	sumdbURLs string
	rf        reportFlags
}

func mirrorsCommand() *command {
	var f mirrorsFlags
	var c *command
	c = &command{
		name:  "mirrors",
		short: "measure candidate module proxies and export a resilient GOPROXY chain",
		usage: "mirrors [--candidates LIST] [--private PATTERNS] [--timeout DURATION] [--export auto|github|gitlab|shell|json] [--direct=true|false] [--dir DIR]",
		long:  help("mirrors"),
		flags: f.define,
		run: func(ctx context.Context, a *app, args []string) error {
			if err := noArgs("mirrors", args, ""); err != nil {
				return err
			}
			return a.runMirrors(ctx, &f, c.set["private"])
		},
	}
	return c
}

func (f *mirrorsFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&f.m.Candidates, "candidates", mirror.DefaultList, "comma-separated preset names (current, default, aliyun, goproxy.cn, goproxy.io, tencent) and proxy URLs")
	fs.StringVar(&f.private, "private", "", "comma-separated module path `PATTERNS` kept off every mirror and the checksum database (default: GONOPROXY/GOPRIVATE as set now)")
	fs.DurationVar(&f.m.Timeout, "timeout", stage.DefaultMirrorTimeout, "bound on probing each candidate")
	fs.StringVar(&f.export, "export", "auto", "where the choice goes: auto, github, gitlab, shell or json")
	fs.BoolVar(&f.direct, "direct", true, "end the chain with direct (fetch from the origin when every mirror fails)")
	fs.StringVar(&f.dir, "dir", "", "the repository root, to find the modules it requires (default: the current directory)")
	fs.StringVar(&f.sumdbURLs, "sumdb-url", "", "comma-separated alternative `URLS` of the checksum database (same name and key), used in GOSUMDB when no chosen mirror serves it and one answers")
	fs.StringVar(&f.m.Dotenv, "dotenv", "", "the dotenv `FILE` of --export gitlab (default: "+stage.DefaultDotenvFile+" in $CI_PROJECT_DIR or the current directory)")
	f.rf.define(fs)
}

func (a *app) runMirrors(ctx context.Context, f *mirrorsFlags, privateSet bool) error {
	rp, err := f.rf.resolve()
	if err != nil {
		return err
	}
	if f.m.Timeout <= 0 {
		return stage.Usagef("mirrors: --timeout must be positive")
	}
	mode, err := stage.ExportTarget(a.ci, f.export)
	if err != nil {
		return exitcode.UsageError(err)
	}
	env, err := a.mirrorsEnv(f.dir)
	if err != nil {
		return err
	}
	m := f.m
	m.Private, m.PrivateSet, m.NoDirect = f.private, privateSet, !f.direct
	m.SumDBURLs, m.Export, m.ExportRequired, m.Environment = splitList(f.sumdbURLs), mode, true, true
	if m.Dotenv != "" {
		m.Dotenv = a.abs(m.Dotenv)
	}
	// stdout carries the export for shell and json; the table and the
	// findings go beside it.
	out := &outcome{}
	m.Table, m.Out = a.stdout, a.stdout
	if mode == stage.ExportShell || mode == stage.ExportJSON {
		m.Table, out.stdout = a.stderr, a.stderr
	}
	return a.runPlan(ctx, env, planOf(&m), rp, "mirrors", out)
}

// mirrorsEnv is the stage environment of the mirrors command: the
// workspace under dir when there is one.
func (a *app) mirrorsEnv(dir string) (*stage.Env, error) {
	abs := a.abs(dir)
	ws, err := workspace.Discover(abs)
	if errors.Is(err, workspace.ErrNoModule) {
		return a.newEnv(abs, nil, nil), nil
	}
	if err != nil {
		return nil, discoverError(err)
	}
	return a.newEnv(abs, ws, nil), nil
}

// planOf is the plan of a single stage.
func planOf(s stage.Stage) stage.Plan { return stage.Plan{Stages: []stage.Stage{s}} }

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
