package stage

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/modhygiene/modhygiene/internal/cache/store"
	"github.com/modhygiene/modhygiene/internal/ci"
	"github.com/modhygiene/modhygiene/internal/gocmd"
	"github.com/modhygiene/modhygiene/internal/mirror"
	"github.com/modhygiene/modhygiene/internal/proxy"
)

// ProxySetup says how to set up the local module proxy. The zero value
// probes the built-in candidates and shares nothing.
type ProxySetup struct {
	// Candidates are the mirrors to probe, as for Mirrors; "" means
	// mirror.DefaultList.
	Candidates string
	// Mirrors are mirrors measured already (by the mirrors stage, or by
	// the process that started this one); when set, nothing is probed.
	Mirrors []proxy.Mirror
	// Store is the shared store for a fleet of runners; nil for none.
	Store store.Store
	// Dir is the proxy's own directory; "" means ProxyDir.
	Dir string
}

// ProxyDir is where the proxy keeps what it fetched, its state and its
// stats: below RUNNER_TEMP on GitHub Actions (one job), else below the
// user cache directory; "" when there is neither.
func ProxyDir(env *Env) string {
	if t := env.CI.GitHub.RunnerTemp; env.CI.Platform == ci.GitHub && t != "" {
		return filepath.Join(t, "modhygiene-proxy")
	}
	if env.ToolDir == "" {
		return ""
	}
	return filepath.Join(env.ToolDir, "proxy")
}

// ProxyOptions returns the proxy's options for env: the mirrors (probed
// now unless s has them), the module cache, the checksum database with its
// key, the private patterns, the credentials of .netrc and the HTTP proxy
// of the environment. The error is a usage problem (a malformed candidate
// list) or the go command's failure.
func ProxyOptions(ctx context.Context, env *Env, s ProxySetup) (proxy.Options, error) {
	goenv, defs, err := mirrorGoEnv(ctx, env.Go, env.Dir)
	if err != nil {
		return proxy.Options{}, err
	}
	mc, _ := env.Go.GoEnv(ctx, env.Dir, "GOMODCACHE")
	o := proxy.Options{
		Mirrors: s.Mirrors, ModCache: mc["GOMODCACHE"], Dir: s.Dir, Store: s.Store,
		NoProxy: goenv["GONOPROXY"], NoSumDB: goenv["GONOSUMDB"], Netrc: netrc(env.Go.Env), Log: env.Log,
	}
	if o.Dir == "" {
		if d := ProxyDir(env); d != "" {
			o.Dir = filepath.Join(d, "files")
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = httpProxy(env.Go.Env)
	o.Client = &http.Client{Transport: tr}
	if key, err := mirror.SumDBKey(goenv["GOSUMDB"], defs.GOSUMDB); err == nil {
		o.SumDB = key
		if f := strings.Fields(goenv["GOSUMDB"]); len(f) == 2 {
			o.SumDB += " " + f[1] // the database's own URL, when GOSUMDB names one
		}
	} else {
		warn(env, "proxy: %v; nothing is written to the shared store (it cannot be verified)", err)
	}
	if o.Mirrors == nil {
		m := &Mirrors{Candidates: s.Candidates}
		p, err := m.probe(ctx, env)
		if err != nil {
			return proxy.Options{}, err
		}
		o.Mirrors = proxy.MirrorsFromProbe(p.decision.Results)
	}
	return o, nil
}

// netrc is the .netrc file the go command would read ($NETRC, else
// $HOME/.netrc), "" when there is none.
func netrc(env []string) string {
	path := gocmd.Lookup(env, "NETRC")
	if path == "" {
		if home := gocmd.Lookup(env, "HOME"); home != "" {
			path = filepath.Join(home, ".netrc")
		}
	}
	if path == "" {
		return ""
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(data)
}

// Proxy starts the local module proxy for the rest of the job and sends
// every later go command to it: the stages after it and, exported, the
// job's later steps. A proxy that cannot start is a warning: the job goes
// on with GOPROXY as it was.
type Proxy struct {
	// Setup says how to set the proxy up.
	Setup ProxySetup
	// Mirrors, when set, is the plan's mirrors stage, which ran before:
	// its measurements are reused and nothing is probed again.
	Mirrors *Mirrors
	// Export is where GOPROXY goes besides this run, as Mirrors.Export.
	Export string
	// Dotenv is the file of ExportGitLab, as Mirrors.Dotenv.
	Dotenv string
	// Start starts a proxy with these mirrors that outlives this process
	// (the command line runs itself as `modhygiene proxy` in the
	// background) and returns its state.
	Start func(ctx context.Context, mirrors []proxy.Mirror) (proxy.State, error)

	// State is the proxy started and GOPROXY the value that sends the go
	// command to it, set by Run.
	State   proxy.State
	GOPROXY string
}

var _ Stage = (*Proxy)(nil)

// Name is "proxy".
func (p *Proxy) Name() string { return "proxy" }

// Run starts the proxy and exports its URL.
func (p *Proxy) Run(ctx context.Context, env *Env) (Result, error) {
	mirrors := p.Setup.Mirrors
	if mirrors == nil && p.Mirrors != nil && len(p.Mirrors.Decision.Results) > 0 {
		mirrors = proxy.MirrorsFromProbe(p.Mirrors.Decision.Results)
	}
	if mirrors == nil {
		m := &Mirrors{Candidates: p.Setup.Candidates}
		pr, err := m.probe(ctx, env)
		if err != nil {
			if IsUsage(err) || ctx.Err() != nil {
				return Result{}, err
			}
			warn(env, "proxy: %v; GOPROXY stays as it is", err)
			return Result{Status: Warning, Summary: "not started: " + firstLine(err.Error())}, nil
		}
		mirrors = proxy.MirrorsFromProbe(pr.decision.Results)
	}
	st, err := p.Start(ctx, mirrors)
	if err != nil {
		warn(env, "proxy: not started: %v; GOPROXY stays as it is", err)
		return Result{Status: Warning, Summary: "not started: " + firstLine(err.Error())}, nil
	}
	p.State = st
	return p.export(env, st, len(mirrors))
}

// export sends the later go commands to the proxy: this run's stages and,
// where p.Export says, the job's later steps.
func (p *Proxy) export(env *Env, st proxy.State, mirrors int) (Result, error) {
	current := gocmd.Lookup(env.Go.Env, "GOPROXY")
	if m, err := env.Go.GoEnv(context.Background(), env.Dir, "GOPROXY"); err == nil {
		current = m["GOPROXY"]
	}
	p.GOPROXY = proxy.GOPROXY(st.URL, current)
	v := []mirror.Var{{Name: "GOPROXY", Value: p.GOPROXY}}
	res := Result{Summary: fmt.Sprintf("serving on %s in front of %d %s", st.URL, mirrors, Plural(mirrors, "mirror", "mirrors")),
		Outputs: map[string]string{"goproxy": ci.RedactURL(v[0].Value), "proxy-url": st.URL},
		Exports: []string{"GOPROXY=" + v[0].Value}}
	var err error
	switch p.Export {
	case ExportGitHub:
		err = ci.AppendFile(env.CI.GitHub.EnvFile, func(w io.Writer) error { return mirror.WriteGitHubEnv(w, v, nil) })
	case ExportGitLab:
		err = ci.CreateFile((&Mirrors{Dotenv: p.Dotenv}).dotenvPath(env), func(w io.Writer) error { return mirror.WriteDotenv(w, v) })
	}
	if err != nil {
		warn(env, "proxy: exporting GOPROXY: %v", err)
		res.Status = Warning
	}
	return res, nil
}

// ProxyStop stops a proxy started in the background (found in its state
// file) and reports what it served. A proxy that is gone or does not answer
// is a warning.
type ProxyStop struct {
	// StateFile is the proxy's state file.
	StateFile string
	// Stats are the proxy's figures, set by Run.
	Stats proxy.Stats
}

var _ Stage = (*ProxyStop)(nil)

// Name is "proxy-stats".
func (p *ProxyStop) Name() string { return "proxy-stats" }

// Run stops the proxy and reads its stats.
func (p *ProxyStop) Run(ctx context.Context, env *Env) (Result, error) {
	st, err := proxy.ReadState(p.StateFile)
	if err != nil {
		return Result{Status: Skipped, Summary: "no proxy was started"}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	stats, err := proxy.Stop(ctx, st)
	os.Remove(p.StateFile)
	if err != nil {
		warn(env, "proxy: %v", err)
		return Result{Status: Warning, Summary: "stopped without stats: " + firstLine(err.Error())}, nil
	}
	p.Stats = stats
	stats.WriteText(env.Log)
	return Result{Summary: stats.Summary()}, nil
}
