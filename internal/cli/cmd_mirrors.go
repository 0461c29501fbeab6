package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
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
		long:  mirrorsHelp,
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

const mirrorsHelp = `Probes every candidate module proxy at once, each bounded by --timeout: a
few .info requests for modules the repository requires (never a private one),
and <proxy>/sumdb/<checksum database>/supported. Each candidate is healthy,
slow (median latency above a third of the timeout), failing (5xx, 404, wrong
or truncated answers, or hanging on some requests) or unreachable.

The chosen GOPROXY lists the healthy mirrors by latency, then the slow ones,
joined with "|" so the go command falls back on any error (not only on 404
and 410 as with ","), and "direct" last unless --direct=false. When no
candidate is usable, nothing is exported: GOPROXY stays as it is.

The checksum database stays on: GOSUMDB is never exported as off, and
GOINSECURE, GONOSUMCHECK and GOFLAGS are never exported. When GOSUMDB is off,
the go command's default is exported. When no chosen mirror serves the
database, the go command reaches it directly, unless another candidate
answered that it serves it, or an endpoint named with --sumdb-url answered
with the database's signed tree head; GOSUMDB then names that endpoint for
the same database (same name and key).

Candidates are preset names and URLs, comma-separated: current (GOPROXY as
it is now), default (the go command's default proxy), aliyun, goproxy.cn,
goproxy.io, tencent, or the URL of a company proxy (Athens, Artifactory,
Nexus). --private sets GOPRIVATE, GONOPROXY and GONOSUMDB; without it the
environment's private patterns are kept (and not exported).

Exports: github appends to $GITHUB_ENV, gitlab writes a dotenv file for
artifacts: reports: dotenv (--dotenv), shell prints export lines for eval,
json prints the decision with every measurement; auto picks github or
gitlab in their CI, else shell. The candidate table always prints; it and
the findings go to stderr when stdout carries shell or json, else to stdout.

MH009 findings report an environment that weakens checksum verification or
relies on one fetch path (GOSUMDB=off, GOINSECURE, wide GOPRIVATE or
GONOSUMDB, GOPROXY=direct alone).

    eval "$(modhygiene mirrors --export shell)"

Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage error, 3 the
choice could not be exported, or the go command failed.`

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
	switch {
	case errors.Is(err, workspace.ErrNoModule):
		ws = nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, exitcode.UsageError(err)
	case err != nil:
		return nil, exitcode.UsageError(fmt.Errorf("finding modules: %w", err))
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
