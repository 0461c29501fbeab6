package stage

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/net/http/httpproxy"

	"github.com/modhygiene/modhygiene/internal/ci"
	"github.com/modhygiene/modhygiene/internal/envcheck"
	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/gocmd"
	"github.com/modhygiene/modhygiene/internal/mirror"
)

// The places the mirrors' choice can be exported to.
const (
	// ExportGitHub appends to the step's GITHUB_ENV file.
	ExportGitHub = "github"
	// ExportGitLab writes a dotenv file for artifacts: reports: dotenv.
	ExportGitLab = "gitlab"
	// ExportShell prints export lines for eval on Mirrors.Out.
	ExportShell = "shell"
	// ExportJSON prints the decision with every measurement on Mirrors.Out.
	ExportJSON = "json"
)

// DefaultDotenvFile is the GitLab dotenv report written unless another
// file is named, in CI_PROJECT_DIR.
const DefaultDotenvFile = "modhygiene-mirrors.env"

// DefaultMirrorTimeout bounds the probe of each candidate.
const DefaultMirrorTimeout = 3 * time.Second

// Mirrors probes candidate module proxies, chooses a GOPROXY chain, exports
// it and passes it to the later stages. The zero value probes the built-in
// candidates for DefaultMirrorTimeout each, ends the chain with direct and
// uses the choice for this run only.
type Mirrors struct {
	// Candidates are preset names and proxy URLs, comma-separated; ""
	// means mirror.DefaultList.
	Candidates string
	// Private replaces the environment's private patterns when PrivateSet.
	Private    string
	PrivateSet bool
	// Timeout bounds the probe of each candidate; 0 means
	// DefaultMirrorTimeout.
	Timeout time.Duration
	// NoDirect leaves direct off the end of the chain.
	NoDirect bool
	// SumDBURLs are alternative URLs of the checksum database.
	SumDBURLs []string
	// Export is where the choice goes besides this run: ExportGitHub,
	// ExportGitLab, ExportShell, ExportJSON, or "" for nowhere.
	Export string
	// Dotenv is the file of ExportGitLab; "" means DefaultDotenvFile in
	// CI_PROJECT_DIR, or in Dir outside GitLab.
	Dotenv string
	// ExportRequired makes a failed export fail the stage (the mirrors
	// command, whose job it is); otherwise it is a warning.
	ExportRequired bool
	// Environment reports MH009 for the environment as it came in. A plan
	// reports MH009 from one stage only.
	Environment bool
	// PreferCurrent keeps the current GOPROXY while it is healthy and within
	// a clear margin of the best candidate (what mirrors: auto wants).
	PreferCurrent bool
	// ForProxy measures the candidates for the local module proxy, which
	// hedges between them: the chain is neither exported nor used.
	ForProxy bool
	// Table receives the candidate table; nil means env.Log.
	Table io.Writer
	// Out receives ExportShell and ExportJSON; nil means env.Log.
	Out io.Writer

	// Decision is the choice, set by Run.
	Decision mirror.Decision
}

var _ Stage = (*Mirrors)(nil)

// Name is "mirrors".
func (m *Mirrors) Name() string { return "mirrors" }

// ExportTarget resolves an --export setting: "auto" (or "") picks github or
// gitlab in their CI (github only when GITHUB_ENV is set), else shell.
func ExportTarget(e *ci.Env, mode string) (string, error) {
	switch mode {
	case ExportGitHub, ExportGitLab, ExportShell, ExportJSON:
		return mode, nil
	case "auto", "":
		switch {
		case e.Platform == ci.GitHub && e.GitHub.EnvFile != "":
			return ExportGitHub, nil
		case e.Platform == ci.GitLab:
			return ExportGitLab, nil
		}
		return ExportShell, nil
	}
	return "", fmt.Errorf("--export %q: want auto, github, gitlab, shell or json", mode)
}

// Run measures the candidates, chooses and exports the chain. A mirror
// problem is a warning: GOPROXY then stays as it is.
func (m *Mirrors) Run(ctx context.Context, env *Env) (Result, error) {
	if err := m.validate(); err != nil {
		return Result{}, err
	}
	start := time.Now()
	p, err := m.probe(ctx, env)
	if err != nil {
		if IsUsage(err) || ctx.Err() != nil {
			return Result{}, err
		}
		warn(env, "mirrors: %v; GOPROXY stays as it is", err)
		return Result{Status: Warning, Summary: "not measured: " + firstLine(err.Error())}, nil
	}
	m.Decision = p.decision
	d := &m.Decision
	res := Result{Findings: p.findings, Summary: mirrorsSummary(d), Outputs: d.StepOutputs()}
	if d.NothingUsable() {
		// Going direct-only would throw away a GOPROXY that may work
		// better than its probe suggests (a private network's proxy).
		mirror.WriteTable(m.table(env), d)
		if m.NoDirect {
			fmt.Fprintf(env.Log, "modhygiene: mirrors: no usable mirror among %d candidates and --direct=false: GOPROXY left unchanged\n", len(d.Results))
			res.Status = Failed
			return res, nil
		}
		warn(env, "mirrors: no candidate is usable; GOPROXY stays as it is")
		res.Status = Warning
		return res, nil
	}
	if m.ForProxy {
		mirror.WriteTable(m.table(env), d)
		return res, nil
	}
	if err := m.export(env, d, time.Since(start)); err != nil {
		if IsUsage(err) {
			return Result{}, err
		}
		if m.ExportRequired {
			fmt.Fprintf(env.Log, "modhygiene: mirrors: exporting the choice: %v\n", err)
			res.Status, res.Summary = Failed, res.Summary+"; not exported: "+firstLine(err.Error())
			return res, nil
		}
		warn(env, "mirrors: exporting the choice: %v", err)
		res.Status = Warning
	}
	for _, v := range d.Vars() {
		res.Exports = append(res.Exports, v.Name+"="+v.Value)
	}
	return res, nil
}

func (m *Mirrors) validate() error {
	if m.Timeout < 0 {
		return Usagef("mirrors: --timeout must be positive")
	}
	if m.PrivateSet {
		if err := mirror.CheckPrivate(m.Private); err != nil {
			return Usagef("--private: %v", err)
		}
	}
	for _, u := range m.SumDBURLs {
		if pu, err := url.Parse(u); err != nil || pu.Scheme != "https" && pu.Scheme != "http" || pu.Host == "" {
			return Usagef("--sumdb-url %q: want an http(s) URL", u)
		}
	}
	return nil
}

func (m *Mirrors) table(env *Env) io.Writer {
	if m.Table != nil {
		return m.Table
	}
	return env.Log
}

func (m *Mirrors) out(env *Env) io.Writer {
	if m.Out != nil {
		return m.Out
	}
	return env.Log
}

// mirrorsSummary is the stage's one line.
func mirrorsSummary(d *mirror.Decision) string {
	count := map[mirror.Status]int{}
	for _, r := range d.Results {
		count[r.Status]++
	}
	return fmt.Sprintf("%d candidates: %d healthy, %d slow, %d failing, %d unreachable", len(d.Results),
		count[mirror.Healthy], count[mirror.Slow], count[mirror.Failing], count[mirror.Unreachable])
}

// probed is what the probe found.
type probed struct {
	decision mirror.Decision
	findings []finding.Finding
}

// probe asks the go command for the environment, measures the candidates
// and chooses the chain, and checks the environment as it came in (MH009).
func (m *Mirrors) probe(ctx context.Context, env *Env) (*probed, error) {
	dir := env.Dir
	if env.Workspace == nil {
		notice(env, "no go.mod under %s: mirrors are measured on the checksum-database endpoint only", dir)
	}
	goenv, defs, err := mirrorGoEnv(ctx, env.Go, dir)
	if err != nil {
		return nil, err
	}
	list := m.Candidates
	if list == "" {
		list = mirror.DefaultList
	}
	cands, err := mirror.Candidates(list, mirror.Sources{Current: goenv["GOPROXY"], Default: defs.GOPROXY})
	if err != nil {
		return nil, Usagef("--candidates: %v", err)
	}
	if env.CI.Platform == ci.GitHub {
		// A company proxy's URL may carry credentials, and so may values
		// set with go env -w, which the process environment lacks; the
		// runner hides them from every later line of the log.
		for _, u := range append([]string{goenv["GOPROXY"], goenv["GOSUMDB"]}, m.SumDBURLs...) {
			ci.MaskURL(env.Log, u)
		}
		for _, c := range cands {
			ci.MaskURL(env.Log, c.URL)
		}
	}
	private := goenv["GONOPROXY"] // the go command's default is GOPRIVATE
	if m.PrivateSet {
		private = m.Private
	}
	results, endpoints, err := m.measure(ctx, env, cands, private, goenv, defs)
	if err != nil {
		return nil, err
	}
	d := mirror.Choose(results, mirror.ChooseOptions{
		NoDirect: m.NoDirect, GOSUMDB: goenv["GOSUMDB"], DefaultGOSUMDB: defs.GOSUMDB,
		Private: m.Private, PrivateSet: m.PrivateSet, SumDBEndpoints: endpoints,
		Current: goenv["GOPROXY"], PreferCurrent: m.PreferCurrent,
	})
	p := &probed{decision: d}
	if m.Environment {
		p.findings = m.envFindings(env, goenv)
	}
	return p, nil
}

// mirrorGoEnv asks the go command for the variables MH009 reads, the
// private patterns, and its built-in defaults, at once.
func mirrorGoEnv(ctx context.Context, r *gocmd.Runner, dir string) (map[string]string, mirror.GoDefaults, error) {
	var (
		defs    mirror.GoDefaults
		defsErr error
		done    = make(chan struct{})
	)
	go func() {
		defer close(done)
		defs, defsErr = mirror.Defaults(ctx, r, dir)
	}()
	goenv, err := r.GoEnv(ctx, dir, append(append([]string(nil), envcheck.Vars...), "GONOPROXY", "GONOSUMDB")...)
	<-done
	if err == nil {
		err = defsErr
	}
	return goenv, defs, err
}

// measure probes the candidates and the alternative checksum database
// endpoints at once.
func (m *Mirrors) measure(ctx context.Context, env *Env, cands []mirror.Candidate, private string, goenv map[string]string, defs mirror.GoDefaults) ([]mirror.Result, []mirror.Endpoint, error) {
	p := m.prober(env, private, goenv, defs)
	defer p.Client.CloseIdleConnections()
	var endpoints []mirror.Endpoint
	epDone := make(chan struct{})
	go func() {
		defer close(epDone)
		if len(m.SumDBURLs) > 0 {
			endpoints = p.ProbeEndpoints(ctx, m.SumDBURLs)
		}
	}()
	results := p.Probe(ctx, cands)
	<-epDone
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	return results, endpoints, nil
}

// prober sets up the probe: the HTTP client, the modules to ask for, and
// the checksum database's name, key and the module a lookup verifies.
func (m *Mirrors) prober(env *Env, private string, goenv map[string]string, defs mirror.GoDefaults) *mirror.Prober {
	dbName := mirror.SumDBName(goenv["GOSUMDB"])
	if dbName == "" {
		dbName = mirror.SumDBName(defs.GOSUMDB)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = httpProxy(env.Go.Env)
	timeout := m.Timeout
	if timeout == 0 {
		timeout = DefaultMirrorTimeout
	}
	p := &mirror.Prober{Client: &http.Client{Transport: tr}, Timeout: timeout,
		Modules: mirror.ProbeModules(env.Workspace, private, 3), SumDB: dbName}
	if key, err := mirror.SumDBKey(goenv["GOSUMDB"], defs.GOSUMDB); err == nil {
		p.SumDBKey = key
	} else if dbName != "" {
		notice(env, "%v; no mirror is trusted with the checksum database", err)
	}
	nosumdb := goenv["GONOSUMDB"]
	if m.PrivateSet {
		nosumdb = m.Private
	}
	probe, err := mirror.SumDBProbe(env.Workspace, private, nosumdb)
	if err != nil {
		warn(env, "%v", err)
	}
	p.SumDBProbe = probe
	return p
}

// envFindings checks the environment as it came in (MH009), with
// --private standing for the private patterns it replaces.
func (m *Mirrors) envFindings(env *Env, goenv map[string]string) []finding.Finding {
	in := envcheck.Collect(goenv, env.Go.Env)
	if m.PrivateSet {
		in = append(in, "GOPRIVATE="+m.Private, "GONOSUMDB="+m.Private)
	}
	var required []string
	if env.Workspace != nil {
		required = envcheck.RequiredPaths(env.Workspace)
	}
	return envcheck.Findings(in, required)
}

// export prints the candidate table and writes the chosen variables where
// m.Export says; with no export it says how to keep the choice.
func (m *Mirrors) export(env *Env, d *mirror.Decision, probed time.Duration) error {
	if err := mirror.WriteTable(m.table(env), d); err != nil {
		return err
	}
	vars := d.Vars()
	switch m.Export {
	case "":
		fmt.Fprintf(env.Log, "modhygiene: GOPROXY=%s for this run; to keep it: eval \"$(modhygiene mirrors --export shell)\"\n", d.RedactedGOPROXY())
	case ExportShell:
		return mirror.WriteShell(m.out(env), vars)
	case ExportJSON:
		timeout := m.Timeout
		if timeout == 0 {
			timeout = DefaultMirrorTimeout
		}
		return mirror.WriteJSON(m.out(env), d, timeout, probed)
	case ExportGitHub:
		path := env.CI.GitHub.EnvFile
		if path == "" {
			return Usagef("--export github: GITHUB_ENV is not set; run inside a GitHub Actions step or use --export shell")
		}
		return ci.AppendFile(path, func(w io.Writer) error { return mirror.WriteGitHubEnv(w, vars, nil) })
	case ExportGitLab:
		path := m.dotenvPath(env)
		if err := ci.CreateFile(path, func(w io.Writer) error { return mirror.WriteDotenv(w, vars) }); err != nil {
			return err
		}
		fmt.Fprintf(env.Log, "modhygiene: wrote %s (use it with artifacts: reports: dotenv)\n", path)
	}
	return nil
}

// dotenvPath is the file of ExportGitLab.
func (m *Mirrors) dotenvPath(env *Env) string {
	if m.Dotenv != "" {
		return m.Dotenv
	}
	dir := env.CI.GitLab.ProjectDir
	if dir == "" {
		dir = env.Dir
	}
	return filepath.Join(dir, DefaultDotenvFile)
}

// EnsureDotenv writes, on GitLab, an empty dotenv file where the mirrors
// stage writes one (path, relative to the working directory, or its
// default) unless a file is there, so that a job whose artifacts: reports:
// dotenv names it does not fail when the mirrors stage is off or found no
// usable candidate. A problem is a warning.
func EnsureDotenv(env *Env, path string) {
	if env.CI.Platform != ci.GitLab {
		return
	}
	if path != "" && !filepath.IsAbs(path) {
		path = filepath.Join(env.Cwd, path)
	}
	p := (&Mirrors{Dotenv: path}).dotenvPath(env)
	if _, err := os.Stat(p); err == nil {
		return
	}
	if err := ci.CreateFile(p, func(io.Writer) error { return nil }); err != nil {
		warn(env, "dotenv: %v", err)
	}
}

// httpProxy returns the HTTP proxy settings of env (HTTPS_PROXY,
// HTTP_PROXY, NO_PROXY), as the go command uses them.
func httpProxy(env []string) func(*http.Request) (*url.URL, error) {
	get := func(names ...string) string {
		for _, n := range names {
			if v := gocmd.Lookup(env, n); v != "" {
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
