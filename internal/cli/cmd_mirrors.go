package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"golang.org/x/net/http/httpproxy"

	"github.com/modhygiene/modhygiene/internal/ci"
	"github.com/modhygiene/modhygiene/internal/envcheck"
	"github.com/modhygiene/modhygiene/internal/exitcode"
	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/mirror"
	"github.com/modhygiene/modhygiene/internal/report"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

// optString is a string flag that remembers whether it was given.
type optString struct {
	val string
	set bool
}

func (o *optString) String() string { return o.val }

func (o *optString) Set(s string) error { o.val, o.set = s, true; return nil }

type mirrorsFlags struct {
	candidates string
	private    optString
	timeout    time.Duration
	export     string
	direct     bool
	dir        string
	dotenv     string
	sumdbURLs  string
	report     reportFlags
}

// defaultDotenvFile is the GitLab dotenv report --export gitlab writes
// unless --dotenv names another file.
const defaultDotenvFile = "modhygiene-mirrors.env"

func init() {
	var f mirrorsFlags
	register(&command{
		name:  "mirrors",
		short: "measure candidate module proxies and export a resilient GOPROXY chain",
		usage: "mirrors [--candidates LIST] [--private PATTERNS] [--timeout DURATION] [--export auto|github|gitlab|shell|json] [--direct=true|false] [--dir DIR]",
		long: `Probes every candidate module proxy at once, each bounded by --timeout: a
few .info requests for modules the repository requires (never a private one),
and <proxy>/sumdb/<checksum database>/supported. Each candidate is healthy,
slow (median latency above a third of the timeout), failing (5xx, 404, wrong
or truncated answers, or hanging on some requests) or unreachable.

The chosen GOPROXY lists the healthy mirrors by latency, then the slow ones,
joined with "|" so the go command falls back on any error (not only on 404
and 410 as with ","), and "direct" last unless --direct=false.

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

Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage error, 3 no
usable mirror with --direct=false, or the go command failed.`,
		flags: func(fs *flag.FlagSet) {
			f.define(fs)
			f.report.define(fs)
		},
		run: func(ctx context.Context, a *app, args []string) error { return a.runMirrors(ctx, &f, args) },
	})
}

// define defines the mirrors flags (not the report flags) on fs, so that
// other commands (run) can offer the same ones.
func (f *mirrorsFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&f.candidates, "candidates", mirror.DefaultList, "comma-separated preset names (current, default, aliyun, goproxy.cn, goproxy.io, tencent) and proxy URLs")
	fs.Var(&f.private, "private", "comma-separated module path `PATTERNS` kept off every mirror and the checksum database (default: GONOPROXY/GOPRIVATE as set now)")
	fs.DurationVar(&f.timeout, "timeout", 3*time.Second, "bound on probing each candidate")
	fs.StringVar(&f.export, "export", "auto", "where the choice goes: auto, github, gitlab, shell or json")
	fs.BoolVar(&f.direct, "direct", true, "end the chain with direct (fetch from the origin when every mirror fails)")
	fs.StringVar(&f.dir, "dir", "", "the repository root, to find the modules it requires (default: the current directory)")
	fs.StringVar(&f.sumdbURLs, "sumdb-url", "", "comma-separated alternative `URLS` of the checksum database (same name and key), used in GOSUMDB when no chosen mirror serves it and one answers")
	fs.StringVar(&f.dotenv, "dotenv", "", "the dotenv `FILE` of --export gitlab (default: "+defaultDotenvFile+" in $CI_PROJECT_DIR or the current directory)")
}

func (a *app) runMirrors(ctx context.Context, f *mirrorsFlags, args []string) error {
	if len(args) > 0 {
		return exitcode.UsageError(fmt.Errorf("mirrors: unexpected argument %q", args[0]))
	}
	mode, err := a.mirrorsExport(f.export)
	if err != nil {
		return exitcode.UsageError(err)
	}
	m, err := a.probeMirrors(ctx, f)
	if err != nil {
		return err
	}
	// stdout carries the export for shell and json; the table and the
	// findings go beside it.
	human, rep := a.stdout, a
	if mode == "shell" || mode == "json" {
		human = a.stderr
		quiet := *a
		quiet.stdout = a.stderr
		rep = &quiet
	}
	if err := a.exportMirrors(mode, f, m, human); err != nil {
		return err
	}
	out := &outcome{command: "mirrors", header: report.Header{Command: "mirrors"}, stages: []report.Stage{m.stage}, findings: m.findings}
	if m.ws != nil {
		out.header.Modules = moduleInfos(m.ws)
	}
	if err := rep.emit(&f.report, out); err != nil {
		return err
	}
	if m.decision.GOPROXY == "" {
		return exitcode.FailureError(fmt.Errorf("no usable mirror among %d candidates and --direct=false: GOPROXY left unchanged", len(m.decision.Results)))
	}
	return nil
}

// mirrorsRun is what the mirrors stage produced.
type mirrorsRun struct {
	decision mirror.Decision
	findings []finding.Finding
	stage    report.Stage
	// ws is the workspace, nil when there is no go.mod.
	ws *workspace.Workspace
	// probed is the wall time of probing.
	probed time.Duration
}

// probeMirrors checks the flags, measures the candidates, chooses the chain
// and checks the environment (MH009). It prints only notices, on stderr;
// exportMirrors and emit do the rest, so that run can use it as a stage.
func (a *app) probeMirrors(ctx context.Context, f *mirrorsFlags) (*mirrorsRun, error) {
	if f.timeout <= 0 {
		return nil, exitcode.UsageError(errors.New("mirrors: --timeout must be positive"))
	}
	for _, u := range splitList(f.sumdbURLs) {
		if pu, err := url.Parse(u); err != nil || pu.Scheme != "https" && pu.Scheme != "http" || pu.Host == "" {
			return nil, exitcode.UsageError(fmt.Errorf("--sumdb-url %q: want an http(s) URL", u))
		}
	}
	start := time.Now()
	dir := a.abs(f.dir)
	ws, err := workspace.Discover(dir)
	switch {
	case errors.Is(err, workspace.ErrNoModule):
		ws = nil
		fmt.Fprintf(a.stderr, "modhygiene: notice: no go.mod under %s: mirrors are measured on the checksum-database endpoint only\n", dir)
	case errors.Is(err, fs.ErrNotExist):
		return nil, exitcode.UsageError(err)
	case err != nil:
		return nil, exitcode.UsageError(fmt.Errorf("finding modules: %w", err))
	}

	r := a.goRunner()
	var (
		defs    mirror.GoDefaults
		defsErr error
		done    = make(chan struct{})
	)
	go func() {
		defer close(done)
		defs, defsErr = mirror.Defaults(ctx, r, dir)
	}()
	goenv, err := r.GoEnv(ctx, dir, append(append([]string(nil), envcheck.Vars...), "GONOPROXY")...)
	<-done
	if err != nil {
		return nil, exitcode.FailureError(err)
	}
	if defsErr != nil {
		return nil, exitcode.FailureError(defsErr)
	}
	cands, err := mirror.Candidates(f.candidates, mirror.Sources{Current: goenv["GOPROXY"], Default: defs.GOPROXY})
	if err != nil {
		return nil, exitcode.UsageError(fmt.Errorf("--candidates: %w", err))
	}
	if ci.Detect(a.getenv) == ci.GitHub {
		// A company proxy's URL may carry credentials; the runner hides
		// them from every later line of the log.
		for _, c := range cands {
			ci.MaskURL(a.stderr, c.URL)
		}
	}
	private := goenv["GONOPROXY"] // the go command's default is GOPRIVATE
	if f.private.set {
		private = f.private.val
	}
	sumdb := goenv["GOSUMDB"]
	dbName := mirror.SumDBName(sumdb)
	if dbName == "" {
		dbName = mirror.SumDBName(defs.GOSUMDB)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = a.httpProxy()
	defer tr.CloseIdleConnections()
	p := &mirror.Prober{Client: &http.Client{Transport: tr}, Timeout: f.timeout, Modules: mirror.ProbeModules(ws, private, 3), SumDB: dbName}
	var endpoints []mirror.Endpoint
	probeStart := time.Now()
	epDone := make(chan struct{})
	go func() {
		defer close(epDone)
		if urls := splitList(f.sumdbURLs); len(urls) > 0 {
			endpoints = p.ProbeEndpoints(ctx, urls)
		}
	}()
	results := p.Probe(ctx, cands)
	<-epDone
	probed := time.Since(probeStart)
	if ctx.Err() != nil {
		return nil, exitcode.FailureError(ctx.Err())
	}
	d := mirror.Choose(results, mirror.ChooseOptions{
		NoDirect: !f.direct, GOSUMDB: sumdb, DefaultGOSUMDB: defs.GOSUMDB,
		Private: f.private.val, PrivateSet: f.private.set, SumDBEndpoints: endpoints,
	})

	// MH009 on the environment as it came in, with --private standing for
	// the private patterns it replaces.
	in := envcheck.Collect(goenv, a.env)
	if f.private.set {
		in = append(in, "GOPRIVATE="+f.private.val, "GONOSUMDB="+f.private.val)
	}
	var required []string
	if ws != nil {
		required = envcheck.RequiredPaths(ws)
	}
	findings := envcheck.Findings(in, required)

	return &mirrorsRun{decision: d, findings: findings, stage: mirrorsStage(&d, findings, time.Since(start)), ws: ws, probed: probed}, nil
}

// exportMirrors prints the candidate table to human and writes the chosen
// variables where mode says.
func (a *app) exportMirrors(mode string, f *mirrorsFlags, m *mirrorsRun, human io.Writer) error {
	if err := mirror.WriteTable(human, &m.decision); err != nil {
		return exitcode.FailureError(err)
	}
	return a.writeMirrorsExport(mode, f, &m.decision, m.probed)
}

// mirrorsExport resolves --export, auto included.
func (a *app) mirrorsExport(mode string) (string, error) {
	switch mode {
	case "github", "gitlab", "shell", "json":
		return mode, nil
	case "auto", "":
		switch ci.Detect(a.getenv) {
		case ci.GitHub:
			if a.getenv("GITHUB_ENV") != "" {
				return "github", nil
			}
		case ci.GitLab:
			return "gitlab", nil
		}
		return "shell", nil
	}
	return "", fmt.Errorf("--export %q: want auto, github, gitlab, shell or json", mode)
}

func (a *app) writeMirrorsExport(mode string, f *mirrorsFlags, d *mirror.Decision, probed time.Duration) error {
	vars := d.Vars()
	switch mode {
	case "shell":
		return failure(mirror.WriteShell(a.stdout, vars))
	case "json":
		return failure(mirror.WriteJSON(a.stdout, d, f.timeout, probed))
	case "github":
		path := a.getenv("GITHUB_ENV")
		if path == "" {
			return exitcode.UsageError(errors.New("--export github: GITHUB_ENV is not set; run inside a GitHub Actions step or use --export shell"))
		}
		return failure(appendFile(path, func(w io.Writer) error { return mirror.WriteGitHubEnv(w, vars, nil) }))
	case "gitlab":
		path := f.dotenv
		if path == "" {
			path = defaultDotenvFile
			if d := a.getenv("CI_PROJECT_DIR"); d != "" {
				path = d + string(os.PathSeparator) + path
			}
		}
		path = a.abs(path)
		if err := createFile(path, func(w io.Writer) error { return mirror.WriteDotenv(w, vars) }); err != nil {
			return exitcode.FailureError(err)
		}
		fmt.Fprintf(a.stderr, "modhygiene: wrote %s (use it with artifacts: reports: dotenv)\n", path)
	}
	return nil
}

func failure(err error) error {
	if err != nil {
		return exitcode.FailureError(err)
	}
	return nil
}

// appendFile opens path for appending and lets write add to it.
func appendFile(path string, write func(io.Writer) error) error {
	return openWith(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, write)
}

// createFile creates or truncates path and lets write fill it.
func createFile(path string, write func(io.Writer) error) error {
	return openWith(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, write)
}

func openWith(path string, flags int, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// mirrorsStage summarises the probe for the report.
func mirrorsStage(d *mirror.Decision, findings []finding.Finding, took time.Duration) report.Stage {
	count := map[mirror.Status]int{}
	for _, r := range d.Results {
		count[r.Status]++
	}
	s := report.Stage{Name: "mirrors", Duration: took, Status: "ok",
		Summary: fmt.Sprintf("%d candidates: %d healthy, %d slow, %d failing, %d unreachable", len(d.Results),
			count[mirror.Healthy], count[mirror.Slow], count[mirror.Failing], count[mirror.Unreachable]),
		Outputs: map[string]string{"goproxy": d.GOPROXY},
	}
	if d.GOSUMDB != "" {
		s.Outputs["gosumdb"] = d.GOSUMDB
	}
	switch {
	case len(d.Chain) == 0:
		s.Status = "warning"
	case len(findings) > 0:
		s.Status = "findings"
	}
	return s
}

// httpProxy returns the HTTP proxy settings of the invocation's
// environment (HTTPS_PROXY, HTTP_PROXY, NO_PROXY), as the go command uses
// them.
func (a *app) httpProxy() func(*http.Request) (*url.URL, error) {
	get := func(names ...string) string {
		for _, n := range names {
			if v := a.getenv(n); v != "" {
				return v
			}
		}
		return ""
	}
	cfg := &httpproxy.Config{
		HTTPProxy:  get("HTTP_PROXY", "http_proxy"),
		HTTPSProxy: get("HTTPS_PROXY", "https_proxy"),
		NoProxy:    get("NO_PROXY", "no_proxy"),
	}
	pf := cfg.ProxyFunc()
	return func(r *http.Request) (*url.URL, error) { return pf(r.URL) }
}

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
