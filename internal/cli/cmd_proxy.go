package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/modhygiene/modhygiene/internal/cache/stores"
	"github.com/modhygiene/modhygiene/internal/exitcode"
	"github.com/modhygiene/modhygiene/internal/mirror"
	"github.com/modhygiene/modhygiene/internal/proxy"
	"github.com/modhygiene/modhygiene/internal/stage"
)

// proxyFlags are the flags of `modhygiene proxy`.
type proxyFlags struct {
	listen, mirrors, store, dir string
	detach, stop                bool
	export                      string
	// state and mirrorsFile are how a background proxy is started: where
	// it leaves its state, and the mirrors measured by its starter.
	state, mirrorsFile string
}

func proxyCommand() *command {
	var f proxyFlags
	return &command{
		name:  "proxy",
		short: "serve a module proxy on loopback: local cache, shared store, hedged mirrors",
		usage: "proxy [--listen 127.0.0.1:PORT] [--mirrors LIST] [--store URL] [--detach|--stop]",
		long:  help("proxy"),
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&f.listen, "listen", "127.0.0.1:0", "loopback `ADDRESS` to serve on (port 0: any free port)")
			fs.StringVar(&f.mirrors, "mirrors", mirror.DefaultList, "mirrors to probe and hedge between: presets and URLs, as for mirrors --candidates")
			fs.StringVar(&f.store, "store", "", "shared store for a fleet of runners: file:///PATH, s3://BUCKET/PREFIX?..., github")
			fs.StringVar(&f.dir, "dir", "", "the repository whose requirements the probe asks for (default: the current directory)")
			fs.BoolVar(&f.detach, "detach", false, "start the proxy in the background, print its URL and export GOPROXY (see --export)")
			fs.BoolVar(&f.stop, "stop", false, "stop the proxy started with --detach and print what it served")
			fs.StringVar(&f.export, "export", "auto", "with --detach, where GOPROXY goes: auto, github, gitlab, shell or none")
			fs.StringVar(&f.state, "state", "", "write the proxy's state (URL, process) to `FILE` once it serves")
			fs.StringVar(&f.mirrorsFile, "mirrors-file", "", "measured mirrors as JSON (from the process that starts this one); nothing is probed")
		},
		run: func(ctx context.Context, a *app, args []string) error {
			if err := noArgs("proxy", args, ""); err != nil {
				return err
			}
			return a.runProxy(ctx, &f)
		},
	}
}

func (a *app) runProxy(ctx context.Context, f *proxyFlags) error {
	env, err := a.mirrorsEnv(f.dir)
	if err != nil {
		return err
	}
	switch {
	case f.stop:
		return a.stopProxy(ctx, env)
	case f.detach:
		return a.detachProxy(ctx, env, f)
	}
	if err := checkLoopback(f.listen); err != nil {
		return err
	}
	setup := stage.ProxySetup{Candidates: f.mirrors}
	if err := a.proxyStore(env, f.store, &setup); err != nil {
		return err
	}
	if f.mirrorsFile != "" {
		data, err := os.ReadFile(f.mirrorsFile)
		if err == nil {
			err = json.Unmarshal(data, &setup.Mirrors)
		}
		if err != nil {
			return exitcode.UsageError(fmt.Errorf("--mirrors-file: %w", err))
		}
	}
	opts, err := stage.ProxyOptions(ctx, env, setup)
	if err != nil {
		return err
	}
	s, err := proxy.New(opts)
	if err != nil {
		return exitcode.UsageError(err)
	}
	return exitcode.FailureErrorIf(s.Serve(ctx, f.listen, f.state, a.stdout, a.stderr))
}

// checkLoopback refuses an address other hosts could reach: the proxy
// carries the mirrors' credentials.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return exitcode.UsageError(fmt.Errorf("--listen %q: want a loopback address such as 127.0.0.1:PORT (the proxy carries the mirrors' credentials)", addr))
	}
	return nil
}

// proxyStore opens the shared store --store names into setup.
func (a *app) proxyStore(env *stage.Env, spec string, setup *stage.ProxySetup) error {
	if spec == "" {
		return nil
	}
	st, _, err := stores.Open(spec, a.ci, stores.Options{CacheDir: env.ToolDir, Getenv: a.getenv, Log: a.stderr})
	if err != nil {
		return exitcode.UsageError(fmt.Errorf("--store: %w", err))
	}
	setup.Store = st
	return nil
}

// detachProxy starts the proxy in the background, prints its URL and
// exports GOPROXY.
func (a *app) detachProxy(ctx context.Context, env *stage.Env, f *proxyFlags) error {
	mode, err := stage.ExportTarget(a.ci, f.export)
	if f.export == "none" {
		mode, err = "", nil
	}
	if err != nil {
		return exitcode.UsageError(err)
	}
	p := &stage.Proxy{Setup: stage.ProxySetup{Candidates: f.mirrors}, Export: mode, Start: a.proxyStarter(env, f.store)}
	out, err := stage.Run(ctx, env, planOf(p))
	if err != nil {
		return err
	}
	if p.State.URL == "" {
		return exitcode.FailureError(fmt.Errorf("proxy: %s", out.Stages[0].Summary))
	}
	if mode == stage.ExportShell {
		// stdout is for eval: the URL goes beside it.
		fmt.Fprintf(a.stderr, "modhygiene: proxy serving on %s\n", p.State.URL)
		return exitcode.FailureErrorIf(mirror.WriteShell(a.stdout, []mirror.Var{{Name: "GOPROXY", Value: p.GOPROXY}}))
	}
	fmt.Fprintln(a.stdout, p.State.URL)
	return nil
}

// stopProxy stops the proxy started with --detach and prints its stats.
func (a *app) stopProxy(ctx context.Context, env *stage.Env) error {
	stop := &stage.ProxyStop{StateFile: proxyStateFile(env)}
	out, err := stage.Run(ctx, env, planOf(stop))
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "proxy: %s\n", out.Stages[0].Summary)
	return nil
}

// proxyStateFile is where a background proxy leaves its state.
func proxyStateFile(env *stage.Env) string {
	return filepath.Join(stage.ProxyDir(env), "state.json")
}

// proxyStarter returns the function that starts a proxy in the
// background: this program again, as `modhygiene proxy --state FILE`,
// handed the mirrors measured here.
func (a *app) proxyStarter(env *stage.Env, storeSpec string) func(context.Context, []proxy.Mirror) (proxy.State, error) {
	return func(ctx context.Context, mirrors []proxy.Mirror) (proxy.State, error) {
		dir := stage.ProxyDir(env)
		if err := proxy.StateDir(dir); err != nil {
			return proxy.State{}, err
		}
		mf := filepath.Join(dir, "mirrors.json")
		data, err := json.Marshal(mirrors)
		if err == nil {
			err = os.WriteFile(mf, data, 0o644)
		}
		if err != nil {
			return proxy.State{}, err
		}
		b := proxy.Background{Program: a.self, Env: a.env, Dir: a.cwd,
			StateFile: proxyStateFile(env), LogFile: filepath.Join(dir, "proxy.log"),
			Args: []string{"proxy", "--state", proxyStateFile(env), "--mirrors-file", mf, "--dir", env.Dir}}
		if storeSpec != "" {
			b.Args = append(b.Args, "--store", storeSpec)
		}
		return b.Start(ctx)
	}
}
