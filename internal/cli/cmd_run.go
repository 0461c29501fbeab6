package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/modhygiene/modhygiene/internal/cache"
	"github.com/modhygiene/modhygiene/internal/check"
	"github.com/modhygiene/modhygiene/internal/ci"
	"github.com/modhygiene/modhygiene/internal/exitcode"
	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/report"
)

// runFlags are the flags of `modhygiene run`.
type runFlags struct {
	post       bool
	dir        string
	mirrors    string
	cache      string
	buildCache bool
	tidy       string
	checks     string
	vuln       bool
	vulnDB     string
	config     string
	dotenv     string
	jobs       int
	report     reportFlags
	// fs is the parsed flag set, to tell the flags given from defaults.
	fs *flag.FlagSet
}

func init() {
	f := &runFlags{}
	register(&command{
		name:  "run",
		short: "the whole job: mirrors, cache restore, tidy, check, vuln and one report",
		usage: "run [--post] [--dir DIR] [--mirrors auto|off|LIST] [--cache auto|off|STORE] [--tidy check|fix|off] [--checks all|off|RULES] [--vuln] [report flags]",
		long: `Runs the stages of a CI job from one configuration and reports them
together, with every stage's wall time (and the change against the last
run where the cache holds its figures):

  mirrors   probe candidate GOPROXY mirrors, use the fastest healthy chain
            for the rest of the run and export it (GITHUB_ENV on GitHub,
            the --dotenv file on GitLab)
  restore   restore the module cache (and --build-cache) from the store
  tidy      go mod tidy for every module: check (MH001) or fix
  check     the dependency-graph rules MH002 to MH009
  vuln      golang.org/x/vuln (MH010); off unless configured
  save      prune and save the caches: at the end of the run, except on
            GitHub Actions, where the action's post step runs
            'modhygiene run --post' after the job's other steps

Each setting comes from, in order: its flag; the GitHub Action's input
(INPUT_WORKING-DIRECTORY, INPUT_MIRRORS, INPUT_CACHE, INPUT_BUILD-CACHE,
INPUT_TIDY, INPUT_CHECKS, INPUT_VULN, INPUT_FAIL-ON, INPUT_SARIF,
INPUT_CONFIG; an input left at the action's default does not override the
file); the run: map of .modhygiene.yaml, keyed by input name:

  run:
    mirrors: goproxy.cn,aliyun,current   # auto, off or candidates
    cache: s3://bucket/gomod?endpoint=oss-cn-hangzhou.aliyuncs.com
    build-cache: true
    tidy: check                          # check, fix or off
    checks: MH002,family-skew            # all, off or rule IDs and names
    vuln: true
    vuln-db: module                      # see 'modhygiene vuln --help'
    fail-on: error
    sarif: modhygiene.sarif

and last the defaults: in CI (GitHub Actions, GitLab CI) every stage but
vuln, mirrors from the built-in candidates; elsewhere tidy and check, with
the cache in the file store under the user cache directory and no mirrors.

Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage or
configuration error, 3 a stage could not do its work (tidy, check or vuln
could not run). A cache or mirror problem is a warning, never a failure.`,
		flags: func(fs *flag.FlagSet) {
			*f = runFlags{fs: fs}
			fs.BoolVar(&f.post, "post", false, "only save the caches (the GitHub Action's post step)")
			fs.StringVar(&f.dir, "dir", ".", "the repository `DIR` (input working-directory)")
			fs.StringVar(&f.mirrors, "mirrors", "auto", "mirrors to probe: auto (the built-in candidates in CI, off elsewhere), off, or a comma-separated `LIST` of presets and URLs")
			fs.StringVar(&f.cache, "cache", "auto", "cache store: auto (the platform's), off, or file:///PATH, s3://BUCKET/PREFIX?..., github, gitlab")
			fs.BoolVar(&f.buildCache, "build-cache", false, "also restore and save the build cache (GOCACHE)")
			fs.StringVar(&f.tidy, "tidy", "check", "tidy stage: check, fix or off")
			fs.StringVar(&f.checks, "checks", "all", "graph rules: all, off, or comma-separated rule IDs and names")
			fs.BoolVar(&f.vuln, "vuln", false, "scan for known vulnerabilities")
			fs.StringVar(&f.vulnDB, "vuln-db", "official", "vulnerability database of the vuln stage: official, module, module@VERSION, file:///PATH or a URL")
			fs.StringVar(&f.config, "config", "", "configuration `FILE`, relative to --dir (default: .modhygiene.yaml at the repository root)")
			fs.StringVar(&f.dotenv, "dotenv", "", "the dotenv `FILE` for the mirrors' choice (GitLab: artifacts: reports: dotenv; default: "+defaultDotenvFile+" in $CI_PROJECT_DIR)")
			fs.IntVar(&f.jobs, "jobs", 0, "how many modules to work on at once (0: the number of CPUs)")
			f.report.define(fs)
		},
		run: func(ctx context.Context, a *app, args []string) error { return a.runJob(ctx, f, args) },
	})
}

func (a *app) runJob(ctx context.Context, f *runFlags, args []string) error {
	if len(args) > 0 {
		return exitcode.UsageError(fmt.Errorf("run: unexpected argument %q; --dir names the repository", args[0]))
	}
	if f.jobs < 0 {
		return exitcode.UsageError(fmt.Errorf("run: --jobs must not be negative"))
	}
	if f.jobs == 0 {
		f.jobs = runtime.NumCPU()
	}
	set := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	s, err := a.resolveRun(f, set)
	if err != nil {
		return err
	}
	f.report.failOn = s.values["fail-on"]
	// Relative to the current directory (the workspace on GitHub), where
	// the upload step looks for it.
	f.report.sarifFile = s.values["sarif"]
	if f.post {
		return a.runPost(ctx, s)
	}
	fmt.Fprintf(a.stderr, "modhygiene run on %s, %d %s: %s\n", s.platform, len(s.ws.Modules), vulnPlural(len(s.ws.Modules), "module", "modules"), s.describe())

	id := timingsID(s.ws)
	previous := readTimingsFile(a.timingsFile(id))
	cf := &cacheFlags{dir: s.dir, store: s.store, buildCache: s.buildCache, shards: cache.DefaultShards}
	results, err := a.runStages(ctx, f, s, cf, func() { previous = newer(previous, a.storedTimings(ctx, cf, s, id)) })
	if err != nil {
		return err
	}
	stages, findings, failed := collectStages(results, s)
	a.keepTimings(ctx, s, cf, id, timingsOf(stages, time.Now()), saved(stages))
	setPrevious(stages, previous)
	a.defaultOutputs(ctx, s, stages)
	emitErr := a.emitRun(f, s, stages, findings)
	if len(failed) > 0 {
		fmt.Fprintf(a.stderr, "modhygiene: run: failed %s: %s (see above)\n", vulnPlural(len(failed), "stage", "stages"), strings.Join(failed, ", "))
		return silent(exitcode.Failure)
	}
	return emitErr
}

// runStages runs the stages s turns on, in order: mirrors, restore, tidy,
// check, vuln and, outside GitHub Actions (which saves in its post step),
// save. restored is called after a successful restore. The error is a
// usage error that stops the run; a stage that failed is in its result.
func (a *app) runStages(ctx context.Context, f *runFlags, s *runSettings, cf *cacheFlags, restored func()) ([]stageResult, error) {
	var results []stageResult
	if s.mirrors != "" {
		r, err := a.runMirrorsStage(ctx, s, f.dotenv)
		if err != nil {
			return nil, err
		}
		results = append(results, r)
	}
	if !s.cacheOff {
		r, err := a.cacheStage("restore", func() (*report.Stage, error) {
			st, err := a.cacheRestoreStage(ctx, cf)
			if err == nil {
				restored()
			}
			return st, err
		})
		if err != nil {
			return nil, err
		}
		results = append(results, r)
	}
	if s.tidy != "off" {
		results = append(results, a.runTidyStage(ctx, s, f.jobs))
	}
	if !s.checksOff {
		results = append(results, a.runCheckStage(ctx, s, f.jobs))
	}
	if s.vuln {
		r, err := a.runVulnStage(ctx, s, 1)
		if err != nil {
			return nil, err
		}
		results = append(results, r)
	}
	if !s.cacheOff && s.platform != ci.GitHub {
		// No post step outside GitHub Actions: save now, after the stages
		// have filled the module cache.
		r, err := a.cacheStage("save", func() (*report.Stage, error) { return a.cacheSaveStage(ctx, cf) })
		if err != nil {
			return nil, err
		}
		results = append(results, r)
	}
	return results, nil
}

// cacheStage runs a cache stage; a cache problem becomes a warning stage
// (cacheStageError), and only a usage error stops the run.
func (a *app) cacheStage(name string, run func() (*report.Stage, error)) (stageResult, error) {
	start := time.Now()
	st, err := run()
	if err != nil {
		return a.cacheStageError(name, start, err)
	}
	return stageResult{stage: *st}, nil
}

// collectStages gathers the stages, the findings (each once: MH009 comes
// from mirrors and check alike) and the names of the stages that failed.
func collectStages(results []stageResult, s *runSettings) (stages []report.Stage, findings []finding.Finding, failed []string) {
	seen := map[string]bool{}
	for _, r := range results {
		stages = append(stages, r.stage)
		for _, fd := range r.findings {
			if r.stage.Name == "mirrors" && !s.ruleOn(fd.Rule) {
				continue
			}
			fd.Normalize()
			if seen[fd.Fingerprint] {
				continue
			}
			seen[fd.Fingerprint] = true
			findings = append(findings, fd)
		}
		if r.failed {
			failed = append(failed, r.stage.Name)
		}
	}
	return stages, findings, failed
}

// saved reports whether the run saved the caches.
func saved(stages []report.Stage) bool {
	for _, st := range stages {
		if st.Name == "save" && st.Status == "ok" {
			return true
		}
	}
	return false
}

// emitRun reports the whole run once. On GitHub with text output the
// workflow commands (annotations) go to stdout beside the report, so the
// step's log shows them in order.
func (a *app) emitRun(f *runFlags, s *runSettings, stages []report.Stage, findings []finding.Finding) error {
	out := &outcome{command: "run", header: report.Header{Command: "run", Modules: moduleInfos(s.ws)},
		stages: stages, findings: findings, config: s.cfg}
	rep := a
	if s.platform == ci.GitHub && f.report.format == "text" {
		one := *a
		one.stderr = a.stdout
		rep = &one
	}
	return rep.emit(&f.report, out)
}

// runCheckStage runs the graph rules; a failure to load a graph fails the
// stage but keeps the findings of the other modules.
func (a *app) runCheckStage(ctx context.Context, s *runSettings, jobs int) stageResult {
	opt := check.Options{Concurrency: max(2, jobs)}
	var keep func(*finding.Finding) bool
	if s.checkRules != nil {
		keep = func(fd *finding.Finding) bool { return s.checkRules[fd.Rule] }
	}
	start := time.Now()
	stage, fs, err := a.checkStage(ctx, s.ws, s.cfg, opt, keep)
	if err != nil {
		if stage.Name == "" {
			if !errors.Is(err, errSilent) {
				fmt.Fprintf(a.stderr, "modhygiene: check: %v\n", err)
			}
			stage = report.Stage{Name: "check", Duration: time.Since(start), Status: "failed", Summary: firstLine(err.Error())}
		}
		return stageResult{stage: stage, findings: fs, failed: true}
	}
	return stageResult{stage: stage, findings: fs}
}

// runPost is `modhygiene run --post`: save the caches, with the settings
// the main step used. Nothing in it changes the exit code but a usage error.
func (a *app) runPost(ctx context.Context, s *runSettings) error {
	if s.cacheOff {
		fmt.Fprintln(a.stdout, "run --post: cache off; nothing to save")
		return nil
	}
	cf := &cacheFlags{dir: s.dir, store: s.store, buildCache: s.buildCache, shards: cache.DefaultShards}
	start := time.Now()
	var r stageResult
	st, err := a.cacheSaveStage(ctx, cf)
	if err != nil {
		if r, err = a.cacheStageError("save", start, err); err != nil {
			return err
		}
	} else {
		r.stage = *st
	}
	id := timingsID(s.ws)
	t := readTimingsFile(a.timingsFile(id))
	if t == nil {
		t = &runTimings{Version: timingsVersion, Time: time.Now().UTC(), Stages: map[string]time.Duration{}}
	}
	fmt.Fprintf(a.stdout, "run --post: %s (%s)\n", r.stage.Summary, report.FormatDuration(r.stage.Duration))
	if r.stage.Duration > 0 {
		t.Stages["save"] = r.stage.Duration
	}
	a.keepTimings(ctx, s, cf, id, t, r.stage.Status == "ok")
	return nil
}

// storedTimings reads the last run's timings where the cache keeps them:
// the store (not the file store, whose machine keeps the file in the user
// cache directory) or, on GitLab, GOMODCACHE.
func (a *app) storedTimings(ctx context.Context, cf *cacheFlags, s *runSettings, id string) *runTimings {
	st, kind, err := a.openStore(cf, s.platform)
	if err != nil {
		return nil
	}
	switch kind {
	case storeGitHub:
		if m := a.getenv("ACTIONS_CACHE_MODE"); m == "write-only" || m == "none" {
			return nil
		}
		return openTimings(ctx, st, id)
	case storeS3:
		return openTimings(ctx, st, id)
	case storeGitLab:
		if mc := a.modCache(ctx, s.dir); mc != "" {
			return readTimingsFile(gitlabTimingsFile(mc, id))
		}
	}
	return nil
}

// keepTimings writes t to the user cache directory and, when the caches
// were saved, where the cache keeps it for the next run.
func (a *app) keepTimings(ctx context.Context, s *runSettings, cf *cacheFlags, id string, t *runTimings, saved bool) {
	writeTimingsFile(a.timingsFile(id), t)
	if s.cacheOff || !saved {
		return
	}
	st, kind, err := a.openStore(cf, s.platform)
	if err != nil {
		return
	}
	switch kind {
	case storeGitHub, storeS3:
		if ok, _ := a.saveAllowed(cf, kind); ok {
			a.putTimings(ctx, st, id, t)
		}
	case storeGitLab:
		if mc := a.modCache(ctx, s.dir); mc != "" && inside(mc, a.getenv("CI_PROJECT_DIR")) {
			writeTimingsFile(gitlabTimingsFile(mc, id), t)
		}
	}
}

func (a *app) modCache(ctx context.Context, dir string) string {
	env, err := a.goRunner().GoEnv(ctx, dir, "GOMODCACHE")
	if err != nil {
		return ""
	}
	return env["GOMODCACHE"]
}

// defaultOutputs makes sure the Action's outputs are set when their stage
// is off: cache-hit false, goproxy as it is, untidy-modules empty.
func (a *app) defaultOutputs(ctx context.Context, s *runSettings, stages []report.Stage) {
	if len(stages) == 0 {
		return
	}
	have := map[string]bool{}
	for _, st := range stages {
		for k := range st.Outputs {
			have[k] = true
		}
	}
	add := map[string]string{}
	if !have["cache-hit"] {
		add["cache-hit"] = "false"
	}
	if !have["untidy-modules"] {
		add["untidy-modules"] = ""
	}
	if !have["goproxy"] {
		if env, err := a.goRunner().GoEnv(ctx, s.dir, "GOPROXY"); err == nil {
			add["goproxy"] = env["GOPROXY"]
		}
	}
	if len(add) == 0 {
		return
	}
	last := &stages[len(stages)-1]
	if last.Outputs == nil {
		last.Outputs = map[string]string{}
	}
	for k, v := range add {
		last.Outputs[k] = v
	}
}
