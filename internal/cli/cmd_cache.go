package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/modhygiene/modhygiene/internal/cache"
	"github.com/modhygiene/modhygiene/internal/cache/store"
	"github.com/modhygiene/modhygiene/internal/cache/store/github"
	"github.com/modhygiene/modhygiene/internal/cache/store/local"
	"github.com/modhygiene/modhygiene/internal/cache/store/s3"
	"github.com/modhygiene/modhygiene/internal/ci"
	"github.com/modhygiene/modhygiene/internal/exitcode"
	"github.com/modhygiene/modhygiene/internal/report"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

// cacheFlags are the flags of the cache subcommands.
type cacheFlags struct {
	dir        string
	store      string
	buildCache bool
	shards     int
	saveOnPR   bool
	dryRun     bool
	jobs       int
	rf         reportFlags
}

func (c *cacheFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&c.dir, "dir", ".", "repository `DIR` whose modules' go.sum and go.work.sum key the cache")
	fs.StringVar(&c.store, "store", "", "where entries live: file:///PATH, github (the Actions cache service), s3://BUCKET/PREFIX?endpoint=HOST&region=R&style=virtual, gitlab (the runner's own cache:) or none; default: github inside GitHub Actions, gitlab inside GitLab CI, else a directory under the user cache dir")
	fs.BoolVar(&c.buildCache, "build-cache", false, "also restore and save the build cache (GOCACHE), keyed by Go version, GOOS and GOARCH")
	fs.IntVar(&c.shards, "shards", cache.DefaultShards, "number of module cache shards (a bump re-uploads one shard)")
	fs.IntVar(&c.jobs, "jobs", 0, "shards saved or restored at once; 0 chooses from the number of CPUs")
	fs.BoolVar(&c.saveOnPR, "save-on-pr", false, "with the github store, also save on pull_request events (by default only push, schedule and workflow_dispatch save)")
	c.rf.define(fs)
}

func init() {
	cf := &cacheFlags{}
	sub := func(name, short, long string, run func(ctx context.Context, a *app, c *cacheFlags) error, extra func(fs *flag.FlagSet)) *command {
		return &command{
			name:  name,
			short: short,
			usage: "cache " + name + " [flags]",
			long:  long,
			flags: func(fs *flag.FlagSet) {
				cf.define(fs)
				if extra != nil {
					extra(fs)
				}
			},
			run: func(ctx context.Context, a *app, args []string) error {
				if len(args) > 0 {
					return exitcode.UsageError(fmt.Errorf("cache %s: unexpected argument %q", name, args[0]))
				}
				return run(ctx, a, cf)
			},
		}
	}
	register(&command{
		name:  "cache",
		short: "restore, save and prune keyed module and build caches",
		usage: "cache <key|restore|save|prune> [flags]",
		long: `The module cache is keyed by the union of every module's go.sum and go.work.sum and
split into shards by module path, each stored under its own go.sum lines, so a bump
uploads one shard. Only module versions named by a go.sum are saved. A cache problem
of any kind is a warning and a miss: it never changes the exit code.`,
		subs: []*command{
			sub("key", "print the cache keys and restore prefixes", "", runCacheKey, nil),
			sub("restore", "restore the module cache (and --build-cache) from the store", "", runCacheRestore, nil),
			sub("save", "save the pruned module cache (and --build-cache) to the store", "", runCacheSave, nil),
			sub("prune", "remove module versions no go.sum names from GOMODCACHE, in place", "", runCachePrune,
				func(fs *flag.FlagSet) { fs.BoolVar(&cf.dryRun, "dry-run", false, "list what would be removed") }),
		},
	})
}

// cacheEnv is what the cache commands learn from the repository and the go command.
type cacheEnv struct {
	lines                   []string
	keys                    *cache.Keys
	modCache, buildCache    string
	goVersion, goos, goarch string
	buildKey, buildPrefix   string
	platform                ci.Platform
}

func (a *app) cacheEnv(ctx context.Context, c *cacheFlags) (*cacheEnv, error) {
	dir := c.dir
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(a.cwd, dir)
	}
	ws, err := workspace.Discover(dir)
	if err != nil {
		if errors.Is(err, workspace.ErrNoModule) {
			return nil, exitcode.UsageError(err)
		}
		return nil, exitcode.FailureError(err)
	}
	var sums []string
	if ws.WorkFile != "" {
		sums = append(sums, ws.WorkFile+".sum")
	}
	for _, m := range ws.Modules {
		sums = append(sums, filepath.Join(m.Dir, "go.sum"), filepath.Join(m.Dir, "go.work.sum"))
	}
	lines, err := cache.ReadSums(sums)
	if err != nil {
		return nil, exitcode.FailureError(err)
	}
	if c.shards < 1 || c.shards > 256 {
		return nil, exitcode.UsageError(fmt.Errorf("--shards %d: want 1 to 256", c.shards))
	}
	env, err := a.goRunner().GoEnv(ctx, dir, "GOMODCACHE", "GOCACHE", "GOVERSION", "GOOS", "GOARCH")
	if err != nil {
		return nil, exitcode.FailureError(err)
	}
	e := &cacheEnv{lines: lines, keys: cache.ModuleKeys(lines, c.shards),
		modCache: env["GOMODCACHE"], buildCache: env["GOCACHE"],
		goVersion: env["GOVERSION"], goos: env["GOOS"], goarch: env["GOARCH"],
		platform: ci.Detect(a.getenv)}
	e.buildKey, e.buildPrefix = cache.BuildKeys(e.goVersion, e.goos, e.goarch, lines)
	if e.modCache == "" {
		return nil, exitcode.FailureError(errors.New("go env GOMODCACHE is empty"))
	}
	return e, nil
}

func runCacheKey(ctx context.Context, a *app, c *cacheFlags) error {
	e, err := a.cacheEnv(ctx, c)
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "module-key %s\n", e.keys.Module)
	for _, p := range e.keys.Prefixes {
		fmt.Fprintf(&b, "module-restore-prefix %s\n", p)
	}
	for _, s := range e.keys.Shards {
		fmt.Fprintf(&b, "shard %s %d\n", s.Key, len(s.Versions))
	}
	if c.buildCache {
		fmt.Fprintf(&b, "build-key %s\nbuild-restore-prefix %s\n", e.buildKey, e.buildPrefix)
	}
	io.WriteString(a.stdout, b.String())
	return nil
}

// storeKind is the store chosen by --store or the environment.
type storeKind int

const (
	storeNone storeKind = iota
	storeFile
	storeGitHub
	storeS3
	storeGitLab
)

// openStore returns the store named by spec (or the default for the
// platform). A store that cannot be opened is a warning, not an error, and
// comes back as nil with storeNone; a malformed spec is a usage error.
func (a *app) openStore(c *cacheFlags, p ci.Platform) (store.Store, storeKind, error) {
	spec := c.store
	if spec == "" {
		switch {
		case a.getenv("ACTIONS_RESULTS_URL") != "" && p == ci.GitHub:
			spec = "github"
		case p == ci.GitLab:
			spec = "gitlab"
		default:
			dir, err := a.toolCacheDir("store")
			if err != nil {
				return nil, storeNone, exitcode.UsageError(fmt.Errorf("no --store given and %v", err))
			}
			return local.New(dir), storeFile, nil
		}
	}
	switch {
	case spec == "none":
		return nil, storeNone, nil
	case spec == "gitlab":
		return nil, storeGitLab, nil
	case spec == "github":
		st, err := github.New(github.Options{
			URL:   a.getenv("ACTIONS_RESULTS_URL"),
			Token: a.getenv("ACTIONS_RUNTIME_TOKEN"),
			Mask: func(u string) {
				if p == ci.GitHub {
					// stderr: the runner reads workflow commands there too, and
					// stdout may carry JSON or SARIF.
					ci.MaskURL(a.stderr, u)
				}
			},
		})
		if err != nil {
			fmt.Fprintf(a.stderr, "warning: cache: %v\n", err)
			return nil, storeNone, nil
		}
		return st, storeGitHub, nil
	case strings.HasPrefix(spec, "file://"):
		u, err := url.Parse(spec)
		if err != nil || u.Path == "" || (u.Host != "" && u.Host != "localhost") {
			return nil, storeNone, exitcode.UsageError(fmt.Errorf("--store %s: want file:///ABSOLUTE/PATH", spec))
		}
		return local.New(filepath.FromSlash(u.Path)), storeFile, nil
	case strings.HasPrefix(spec, "s3://"):
		st, err := s3.New(spec, a.getenv)
		if err != nil {
			return nil, storeNone, exitcode.UsageError(fmt.Errorf("--store: %v", err))
		}
		return st, storeS3, nil
	}
	return nil, storeNone, exitcode.UsageError(fmt.Errorf("--store %q: want file:///PATH, github, s3://BUCKET/PREFIX, gitlab or none", spec))
}

func (a *app) cacheOptions(c *cacheFlags) cache.Options {
	return cache.Options{Parallel: c.jobs, Warn: func(msg string) { fmt.Fprintf(a.stderr, "warning: %s\n", msg) }}
}

func runCacheRestore(ctx context.Context, a *app, c *cacheFlags) error {
	st, err := a.cacheRestoreStage(ctx, c)
	if err != nil {
		return err
	}
	return a.cacheReport(c, "cache restore", st)
}

func runCacheSave(ctx context.Context, a *app, c *cacheFlags) error {
	st, err := a.cacheSaveStage(ctx, c)
	if err != nil {
		return err
	}
	return a.cacheReport(c, "cache save", st)
}

// cacheReport prints the stage: one line in text format, else through the
// report handlers.
func (a *app) cacheReport(c *cacheFlags, command string, st *report.Stage) error {
	if c.rf.format == "text" && c.rf.jsonFile == "" && c.rf.sarifFile == "" && c.rf.codequalityFile == "" {
		fmt.Fprintf(a.stdout, "%s: %s (%s)\n", command, st.Summary, st.Duration.Round(time.Millisecond))
		a.cacheOutputs(c, st)
		return nil
	}
	return a.emit(&c.rf, &outcome{command: command, stages: []report.Stage{*st}})
}

// cacheOutputs writes the stage's outputs (cache-hit, ...) as step outputs
// on GitHub Actions. The other CI reporters (annotations, Code Quality) have
// nothing to say about a cache and are not run: a Code Quality file written
// here would replace the one of an earlier check step.
func (a *app) cacheOutputs(c *cacheFlags, st *report.Stage) {
	path := a.getenv("GITHUB_OUTPUT")
	if c.rf.ciReport == "off" || ci.Detect(a.getenv) != ci.GitHub || path == "" || len(st.Outputs) == 0 {
		return
	}
	err := appendFile(path, func(w io.Writer) error {
		return (&ci.EnvFile{W: w}).SetAll(st.Outputs)
	})
	if err != nil {
		fmt.Fprintf(a.stderr, "warning: cache: step outputs: %v\n", err)
	}
}

// cacheRestoreStage restores the caches and describes the outcome as the
// "restore" stage. Only usage errors are returned: every cache problem is a
// warning on stderr and a miss.
func (a *app) cacheRestoreStage(ctx context.Context, c *cacheFlags) (*report.Stage, error) {
	start := time.Now()
	stage := &report.Stage{Name: "restore", Status: "ok", Outputs: map[string]string{"cache-hit": "false", "cache-status": string(cache.Miss)}}
	defer func() { stage.Duration = time.Since(start) }()
	e, err := a.cacheEnv(ctx, c)
	if err != nil {
		return nil, err
	}
	stage.Outputs["cache-key"] = e.keys.Module
	st, kind, err := a.openStore(c, e.platform)
	if err != nil {
		return nil, err
	}
	mode := a.getenv("ACTIONS_CACHE_MODE")
	switch {
	case kind == storeNone:
		stage.Status, stage.Summary = "skipped", "no cache store"
		stage.Outputs["cache-status"] = string(cache.Skipped)
		return stage, nil
	case kind == storeGitLab:
		return a.gitlabRestore(e, stage), nil
	case kind == storeGitHub && (mode == "write-only" || mode == "none"):
		stage.Status, stage.Summary = "skipped", "ACTIONS_CACHE_MODE="+mode+" forbids restoring"
		stage.Outputs["cache-status"] = string(cache.Skipped)
		return stage, nil
	}
	opts := a.cacheOptions(c)
	res := cache.Restore(ctx, st, cache.ModuleSet(e.modCache, e.keys), opts)
	stage.Outputs["cache-status"] = string(res.Status)
	stage.Outputs["cache-hit"] = fmt.Sprint(res.Status == cache.Hit)
	stage.Outputs["cache-matched-key"] = res.Matched
	stage.Outputs["cache-bytes"] = fmt.Sprint(res.Bytes)
	stage.Summary = fmt.Sprintf("module cache %s from %s: %d of %d shards, %s, %d files", res.Status, st, res.Restored, res.Shards, humanBytes(res.Bytes), res.Files)
	if res.Matched == "" {
		stage.Summary = fmt.Sprintf("module cache miss: nothing restored from %s", st)
	}
	if res.Existing > 0 {
		stage.Summary += fmt.Sprintf(", %d already present", res.Existing)
	}
	if res.Status == cache.Miss {
		stage.Status = "warning"
	}
	if c.buildCache && e.buildCache != "" && e.buildCache != "off" {
		bres := cache.Restore(ctx, st, cache.BuildRestoreSet(e.buildCache, e.buildPrefix, e.lines), opts)
		if bres.Status != cache.Miss {
			if err := cache.MarkRestored(e.buildCache); err != nil {
				opts.Warn("cache: build cache: " + err.Error())
			}
		}
		stage.Outputs["build-cache-status"] = string(bres.Status)
		stage.Summary += fmt.Sprintf("; build cache %s, %s", bres.Status, humanBytes(bres.Bytes))
	}
	return stage, nil
}

// saveAllowed says whether a github store may save in this event.
func (a *app) saveAllowed(c *cacheFlags, kind storeKind) (bool, string) {
	if kind != storeGitHub {
		return true, ""
	}
	switch mode := a.getenv("ACTIONS_CACHE_MODE"); mode {
	case "read", "none":
		return false, "ACTIONS_CACHE_MODE=" + mode + " forbids saving"
	}
	switch ev := a.getenv("GITHUB_EVENT_NAME"); ev {
	case "push", "schedule", "workflow_dispatch", "":
		return true, ""
	case "pull_request", "pull_request_target":
		if c.saveOnPR {
			return true, ""
		}
		return false, "not saving on " + ev + " (its entries would serve only itself and evict the default branch's); pass --save-on-pr to save anyway"
	default:
		return false, "not saving on " + ev + " events (only push, schedule and workflow_dispatch save)"
	}
}

// cacheSaveStage saves the caches and describes the outcome as the "save" stage.
func (a *app) cacheSaveStage(ctx context.Context, c *cacheFlags) (*report.Stage, error) {
	start := time.Now()
	stage := &report.Stage{Name: "save", Status: "ok", Outputs: map[string]string{}}
	defer func() { stage.Duration = time.Since(start) }()
	e, err := a.cacheEnv(ctx, c)
	if err != nil {
		return nil, err
	}
	st, kind, err := a.openStore(c, e.platform)
	if err != nil {
		return nil, err
	}
	if kind == storeNone {
		stage.Status, stage.Summary = "skipped", "no cache store"
		return stage, nil
	}
	if kind == storeGitLab {
		return a.gitlabSave(e, stage), nil
	}
	if ok, why := a.saveAllowed(c, kind); !ok {
		stage.Status, stage.Summary = "skipped", why
		return stage, nil
	}
	opts := a.cacheOptions(c)
	res := cache.Save(ctx, st, cache.ModuleSet(e.modCache, e.keys), opts)
	stage.Outputs["cache-key"] = res.Key
	stage.Outputs["cache-bytes"] = fmt.Sprint(res.Bytes)
	switch {
	case res.UpToDate:
		stage.Summary = fmt.Sprintf("module cache up to date in %s", st)
	case res.Status == cache.Skipped:
		stage.Status, stage.Summary = "skipped", fmt.Sprintf("nothing to save: GOMODCACHE %s holds none of the module versions go.sum names", e.modCache)
	case res.Status == cache.Hit:
		stage.Summary = fmt.Sprintf("module cache saved to %s: %d of %d shards uploaded (%s, %d files), %d reused", st, res.Uploaded, res.Shards, humanBytes(res.Bytes), res.Files, res.Reused)
	default:
		stage.Status, stage.Summary = "warning", fmt.Sprintf("module cache not saved to %s", st)
	}
	if c.buildCache && e.buildCache != "" && e.buildCache != "off" {
		set, err := cache.BuildSet(e.buildCache, e.buildPrefix, e.lines)
		if err != nil {
			opts.Warn("cache: build cache: " + err.Error())
		} else {
			bres := cache.Save(ctx, st, set, opts)
			stage.Summary += fmt.Sprintf("; build cache %s", map[bool]string{true: "saved, " + humanBytes(bres.Bytes), false: "not saved"}[bres.Status == cache.Hit])
		}
	}
	return stage, nil
}

// gitlabRestore checks that GOMODCACHE is where the runner's cache: can
// archive it: the runner itself restores it.
func (a *app) gitlabRestore(e *cacheEnv, stage *report.Stage) *report.Stage {
	proj := a.getenv("CI_PROJECT_DIR")
	if !inside(e.modCache, proj) {
		stage.Status = "warning"
		stage.Summary = fmt.Sprintf("GOMODCACHE %s is outside CI_PROJECT_DIR, so the runner's cache: cannot keep it; set variables: GOMODCACHE: $CI_PROJECT_DIR/.cache/go-mod (or pass --store s3://...)", e.modCache)
		stage.Outputs["cache-status"] = string(cache.Skipped)
		return stage
	}
	n := len(cache.ModuleSet(e.modCache, e.keys).Shards)
	have := 0
	for _, sh := range cache.ModuleSet(e.modCache, e.keys).Shards {
		if len(sh.Units) > 0 {
			have++
		}
	}
	status := cache.Miss
	if have > 0 {
		status = cache.Partial
		if have == n {
			status = cache.Hit
		}
	}
	stage.Outputs["cache-status"] = string(status)
	stage.Outputs["cache-hit"] = fmt.Sprint(status == cache.Hit)
	stage.Summary = fmt.Sprintf("module cache %s in %s (the runner's cache:)", status, e.modCache)
	return stage
}

// gitlabSave prunes GOMODCACHE in place before the runner archives it.
func (a *app) gitlabSave(e *cacheEnv, stage *report.Stage) *report.Stage {
	if !inside(e.modCache, a.getenv("CI_PROJECT_DIR")) {
		stage.Status, stage.Summary = "skipped", fmt.Sprintf("GOMODCACHE %s is outside CI_PROJECT_DIR; not pruning it", e.modCache)
		return stage
	}
	res, err := cache.Prune(e.modCache, cache.Versions(e.lines), false)
	if err != nil {
		fmt.Fprintf(a.stderr, "warning: cache: prune %s: %v\n", e.modCache, err)
		stage.Status = "warning"
	}
	if res == nil {
		res = &cache.PruneResult{}
	}
	stage.Summary = fmt.Sprintf("pruned %s for the runner's cache: %d entries, %s removed", e.modCache, len(res.Removed), humanBytes(res.Bytes))
	return stage
}

func inside(p, dir string) bool {
	if dir == "" || p == "" {
		return false
	}
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../") && !filepath.IsAbs(rel)
}

func runCachePrune(ctx context.Context, a *app, c *cacheFlags) error {
	e, err := a.cacheEnv(ctx, c)
	if err != nil {
		return err
	}
	res, err := cache.Prune(e.modCache, cache.Versions(e.lines), c.dryRun)
	if err != nil {
		// A prune problem is a cache problem: a warning.
		fmt.Fprintf(a.stderr, "warning: cache: prune %s: %v\n", e.modCache, err)
	}
	if res == nil {
		res = &cache.PruneResult{}
	}
	verb := "removed"
	if c.dryRun {
		verb = "would remove"
		for _, r := range res.Removed {
			fmt.Fprintf(a.stdout, "%s\n", r)
		}
	}
	fmt.Fprintf(a.stdout, "cache prune: %s %d entries, %s, from %s\n", verb, len(res.Removed), humanBytes(res.Bytes), e.modCache)
	return nil
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
