package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime"

	"github.com/modhygiene/modhygiene/internal/cache"
	"github.com/modhygiene/modhygiene/internal/ci"
	"github.com/modhygiene/modhygiene/internal/exitcode"
	"github.com/modhygiene/modhygiene/internal/mirror"
	"github.com/modhygiene/modhygiene/internal/report"
	"github.com/modhygiene/modhygiene/internal/stage"
)

// runFlags are the flags of `modhygiene run` that are not settings (the
// settings are read through the command's flag values; see runKeys).
type runFlags struct {
	post   bool
	dotenv string
	jobs   int
	rf     reportFlags
}

func runCommand() *command {
	var f runFlags
	var c *command
	c = &command{
		name:  "run",
		short: "the whole job: mirrors, cache restore, tidy, check, vuln and one report",
		usage: "run [--post] [--dir DIR] [--mirrors auto|off|LIST] [--cache auto|off|STORE] [--tidy check|fix|off] [--checks all|off|RULES] [--vuln] [report flags]",
		long:  help("run"),
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&f.post, "post", false, "only save the caches (the GitHub Action's post step)")
			fs.String("dir", ".", "the repository `DIR` (input working-directory)")
			fs.String("mirrors", "auto", "mirrors to probe: auto (the built-in candidates in CI, off elsewhere), off, or a comma-separated `LIST` of presets and URLs")
			fs.String("cache", "auto", "cache store: auto (the platform's), off, or file:///PATH, s3://BUCKET/PREFIX?..., github, gitlab")
			fs.Var(&autoBool{"auto"}, "build-cache", "also restore and save the build cache (GOCACHE): true, false or auto (true on GitHub Actions)")
			fs.String("tidy", "check", "tidy stage: check, fix or off")
			fs.String("checks", "all", "graph rules: all, off, or comma-separated rule IDs and names")
			fs.Bool("vuln", false, "scan for known vulnerabilities")
			fs.String("vuln-db", "official", "vulnerability database of the vuln stage: official, module, module@VERSION, file:///PATH or a URL")
			fs.String("config", "", "configuration `FILE`, relative to --dir (default: .modhygiene.yaml at the repository root)")
			fs.StringVar(&f.dotenv, "dotenv", "", "the dotenv `FILE` for the mirrors' choice (GitLab: artifacts: reports: dotenv; default: "+stage.DefaultDotenvFile+" in $CI_PROJECT_DIR)")
			fs.IntVar(&f.jobs, "jobs", 0, "how many modules to work on at once (0: the number of CPUs)")
			fs.Duration("restore-timeout", cache.DefaultRestoreBudget, "the longest the cache restore may take; then it is a miss")
			fs.Duration("save-timeout", cache.DefaultSaveBudget, "the longest the cache save may take; then nothing is saved")
			fs.String("proxy", "off", "the local module proxy for the job: off, on, or the URL of a shared store for a fleet of runners")
			f.rf.define(fs)
		},
		run: func(ctx context.Context, a *app, args []string) error { return a.runJob(ctx, c, &f, args) },
	}
	return c
}

func (a *app) runJob(ctx context.Context, c *command, f *runFlags, args []string) error {
	if err := noArgs("run", args, "; --dir names the repository"); err != nil {
		return err
	}
	if f.jobs < 0 {
		return exitcode.UsageError(fmt.Errorf("run: --jobs must not be negative"))
	}
	if f.jobs == 0 {
		f.jobs = runtime.NumCPU()
	}
	s, err := a.resolveRun(c)
	if err != nil {
		return err
	}
	// fail-on and sarif are settings; the sarif file is relative to the
	// current directory (the workspace on GitHub), where the upload step
	// looks for it.
	f.rf.failOn, f.rf.sarifFile, f.rf.onlyNew = s.values["fail-on"], s.values["sarif"], s.onlyNew
	rp, err := f.rf.resolve()
	if err != nil {
		return err
	}
	env := a.newEnv(s.dir, s.ws, s.cfg)
	if !s.cacheOff {
		if err := a.openStore(env, s.store); err != nil {
			return exitcode.UsageError(fmt.Errorf("run: cache (from %s): %w", s.from["cache"], err))
		}
	}
	if f.post {
		return a.runPost(ctx, env, s)
	}
	fmt.Fprintf(a.stderr, "modhygiene run on %s, %d %s: %s\n", a.ci.Platform, len(s.ws.Modules), stage.Plural(len(s.ws.Modules), "module", "modules"), s.describe())
	out := &outcome{sayFailed: true, after: func(res *stage.Outcome) {
		res.DefaultOutputs(ctx, env)
		stage.EnsureDotenv(env, f.dotenv)
	}}
	if a.ci.Platform == ci.GitHub && rp.flags.format == "text" {
		// The step's log shows the annotations in order with the report.
		out.annotations = a.stdout
	}
	return a.runPlan(ctx, env, a.jobPlan(env, s, f), rp, "run", out)
}

// jobPlan is the plan of a run: the stages its settings turn on, in order.
// MH009 comes from the mirrors stage when it runs (the environment as it
// came in), else from check.
func (a *app) jobPlan(env *stage.Env, s *runSettings, f *runFlags) stage.Plan {
	plan := stage.Plan{Rules: s.rules(), State: &stage.State{ID: stage.StateID(s.ws)}}
	cache := &stage.Cache{BuildCache: s.buildCache, RestoreBudget: s.budgets[0], SaveBudget: s.budgets[1]}
	if s.mirrors != "" {
		m := &stage.Mirrors{Candidates: s.mirrors, Environment: true, Dotenv: f.dotenv, PreferCurrent: s.autoMirror}
		// In CI the choice is exported for the later steps; elsewhere it
		// serves this run (a shell export would print on stdout).
		switch m.Export, _ = stage.ExportTarget(a.ci, "auto"); {
		case f.dotenv != "" && m.Export != stage.ExportGitHub:
			m.Export = stage.ExportGitLab
		case m.Export == stage.ExportShell:
			m.Export = ""
		}
		if m.Dotenv != "" {
			m.Dotenv = a.abs(m.Dotenv)
		}
		plan.Stages = append(plan.Stages, m)
	}
	if s.proxy {
		plan.Stages = append(plan.Stages, a.proxyStage(env, s, plan.Stages))
	}
	if !s.cacheOff {
		plan.Stages = append(plan.Stages, &stage.Restore{Cache: cache})
	}
	if s.tidy != "off" {
		plan.Stages = append(plan.Stages, &stage.Tidy{Fix: s.tidy == "fix", Jobs: f.jobs})
	}
	var check *stage.Check
	if !s.checksOff() {
		check = &stage.Check{Jobs: max(2, f.jobs), Environment: s.mirrors == ""}
		plan.Stages = append(plan.Stages, check)
	}
	if s.vuln {
		plan.Stages = append(plan.Stages, &stage.Vuln{Source: s.vulnSource, Jobs: 1, Check: check})
	}
	if !s.cacheOff && a.ci.Platform != ci.GitHub {
		// No post step outside GitHub Actions: save now, after the stages
		// have filled the module cache.
		plan.Stages = append(plan.Stages, &stage.Save{Cache: cache})
	}
	if s.proxy && a.ci.Platform != ci.GitHub {
		plan.Stages = append(plan.Stages, &stage.ProxyStop{StateFile: proxyStateFile(env)})
	}
	return plan
}

// proxyStage starts the local module proxy in the background, in front of
// the mirrors the mirrors stage measured, and sends the later stages to it.
// On GitHub it outlives the step and the later steps use it too (the
// mirrors stage exports nothing then; the post step stops the proxy). On
// GitLab it serves this run only: later jobs run on other machines, so the
// dotenv file keeps the mirrors' chain.
func (a *app) proxyStage(env *stage.Env, s *runSettings, before []stage.Stage) *stage.Proxy {
	p := &stage.Proxy{Setup: stage.ProxySetup{Candidates: mirror.DefaultList}, Start: a.proxyStarter(env, s.proxyStore)}
	if a.ci.Platform == ci.GitHub && a.ci.GitHub.EnvFile != "" {
		p.Export = stage.ExportGitHub
	}
	for _, st := range before {
		if m, ok := st.(*stage.Mirrors); ok {
			p.Mirrors = m
			m.ForProxy = p.Export != ""
		}
	}
	return p
}

// runPost is `modhygiene run --post`: save the caches, with the settings
// the main step used. Nothing in it changes the exit code but a usage error.
func (a *app) runPost(ctx context.Context, env *stage.Env, s *runSettings) error {
	var plan stage.Plan
	if !s.cacheOff {
		plan = planOf(&stage.Save{Cache: &stage.Cache{BuildCache: s.buildCache, SaveBudget: s.budgets[1]}})
	} else if !s.proxy {
		fmt.Fprintln(a.stdout, "run --post: cache off; nothing to save")
		return nil
	}
	plan.State = &stage.State{ID: stage.StateID(s.ws), Continue: true}
	stop := &stage.ProxyStop{StateFile: proxyStateFile(env)}
	if s.proxy {
		plan.Stages = append(plan.Stages, stop)
	}
	res, err := stage.Run(ctx, env, plan)
	if err != nil {
		return err
	}
	for _, st := range res.Stages {
		fmt.Fprintf(a.stdout, "run --post: %s: %s (%s)\n", st.Name, st.Summary, report.FormatDuration(st.Duration))
	}
	if stop.Stats.Requests > 0 && a.ci.GitHub.SummaryFile != "" {
		err := ci.AppendFile(a.ci.GitHub.SummaryFile, func(w io.Writer) error {
			io.WriteString(w, "\n### Module proxy\n\n")
			var slices []report.PieSlice
			for _, src := range stop.Stats.Sources() {
				slices = append(slices, report.PieSlice{Label: src.Name, Value: src.Hits})
			}
			io.WriteString(w, report.PieChart("Proxy answers by source", slices))
			return stop.Stats.WriteMarkdown(w)
		})
		if err != nil {
			fmt.Fprintf(a.stderr, "modhygiene: warning: job summary: %v\n", err)
		}
	}
	return nil
}

// autoBool is a boolean flag that may also be "auto": --build-cache alone
// means true, --build-cache=false false.
type autoBool struct{ val string }

func (b *autoBool) String() string { return b.val }

func (b *autoBool) Set(s string) error { b.val = s; return nil }

// IsBoolFlag lets the flag stand alone.
func (b *autoBool) IsBoolFlag() bool { return true }
