package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/modhygiene/modhygiene/internal/cache"
	"github.com/modhygiene/modhygiene/internal/ci"
	"github.com/modhygiene/modhygiene/internal/exitcode"
	"github.com/modhygiene/modhygiene/internal/human"
	"github.com/modhygiene/modhygiene/internal/report"
	"github.com/modhygiene/modhygiene/internal/stage"
)

// cacheFlags are the flags of the cache subcommands. They have no report
// flags: a cache command has no findings, and never starts the CI
// reporters (a Code Quality file written here would replace the one of an
// earlier check step).
type cacheFlags struct {
	c      stage.Cache
	dir    string
	store  string
	dryRun bool
	format string
}

// define defines the flags the subcommand name takes: only the ones that
// do something there.
func (f *cacheFlags) define(fs *flag.FlagSet, name string) {
	fs.StringVar(&f.dir, "dir", ".", "repository `DIR` whose modules' go.sum and go.work.sum key the cache")
	if name != "prune" {
		fs.BoolVar(&f.c.BuildCache, "build-cache", false, "also the build cache (GOCACHE), keyed by Go version, GOOS and GOARCH")
		fs.IntVar(&f.c.Shards, "shards", cache.DefaultShards, "number of module cache shards (a bump re-uploads one shard)")
	}
	switch name {
	case "restore":
		fs.DurationVar(&f.c.RestoreBudget, "timeout", cache.DefaultRestoreBudget, "the longest the restore may take, store requests included; then it is a miss")
	case "save":
		fs.DurationVar(&f.c.SaveBudget, "timeout", cache.DefaultSaveBudget, "the longest the save may take; then nothing is saved")
	}
	switch name {
	case "restore", "save":
		fs.StringVar(&f.store, "store", "", "where entries live: file:///PATH, github (the Actions cache service), s3://BUCKET/PREFIX?endpoint=HOST&region=R&style=virtual, gitlab (the runner's own cache:) or none; default: github inside GitHub Actions, gitlab inside GitLab CI, else a directory under the user cache dir")
		fs.IntVar(&f.c.Jobs, "jobs", 0, "shards saved or restored at once; 0 chooses from the number of CPUs")
		fs.StringVar(&f.format, "format", "text", "output on stdout: text (one line) or json (the stage as a JSON stream)")
	case "prune":
		fs.BoolVar(&f.dryRun, "dry-run", false, "list what would be removed")
	}
	if name == "save" {
		fs.BoolVar(&f.c.SaveOnPR, "save-on-pr", false, "with the github store, also save on pull_request events (by default only push, schedule and workflow_dispatch save)")
	}
}

func cacheCommand() *command {
	f := &cacheFlags{format: "text"}
	sub := func(name, short string, run func(context.Context, *app, *cacheFlags) error) *command {
		return &command{
			name: name, short: short, usage: "cache " + name + " [flags]",
			flags: func(fs *flag.FlagSet) { f.define(fs, name) },
			run: func(ctx context.Context, a *app, args []string) error {
				if err := noArgs("cache "+name, args, ""); err != nil {
					return err
				}
				if f.format != "text" && f.format != "json" {
					return exitcode.UsageError(fmt.Errorf("cache %s: --format %q: want text or json", name, f.format))
				}
				return run(ctx, a, f)
			},
		}
	}
	return &command{
		name:  "cache",
		short: "restore, save and prune keyed module and build caches",
		usage: "cache <key|restore|save|prune> [flags]",
		long:  help("cache"),
		subs: []*command{
			sub("key", "print the cache keys and restore prefixes", runCacheKey),
			sub("restore", "restore the module cache (and --build-cache) from the store", runCacheStage(func(c *stage.Cache) stage.Stage { return &stage.Restore{Cache: c} })),
			sub("save", "save the pruned module cache (and --build-cache) to the store", runCacheStage(func(c *stage.Cache) stage.Stage { return &stage.Save{Cache: c} })),
			sub("prune", "remove module versions no go.sum names from GOMODCACHE, in place", runCachePrune),
		},
	}
}

// cacheEnv is the stage environment of a cache command.
func (a *app) cacheEnv(f *cacheFlags) (*stage.Env, error) {
	abs := a.abs(f.dir)
	ws, err := a.loadWorkspace(abs, nil)
	if err != nil {
		return nil, err
	}
	return a.newEnv(abs, ws, nil), nil
}

func runCacheKey(ctx context.Context, a *app, f *cacheFlags) error {
	env, err := a.cacheEnv(f)
	if err != nil {
		return err
	}
	text, err := stage.KeyLines(ctx, env, &f.c)
	if err != nil {
		return cacheWarning(a, err)
	}
	io.WriteString(a.stdout, text)
	return nil
}

// cacheWarning reports a cache problem as a warning: it never changes the
// exit code. Usage errors are returned.
func cacheWarning(a *app, err error) error {
	if stage.IsUsage(err) {
		return err
	}
	fmt.Fprintf(a.stderr, "modhygiene: warning: cache: %v\n", err)
	return nil
}

// runCacheStage runs the restore or save stage alone and prints it.
func runCacheStage(mk func(*stage.Cache) stage.Stage) func(context.Context, *app, *cacheFlags) error {
	return func(ctx context.Context, a *app, f *cacheFlags) error {
		env, err := a.cacheEnv(f)
		if err != nil {
			return err
		}
		if err := a.openStore(env, f.store); err != nil {
			return err
		}
		s := mk(&f.c)
		out, err := stage.Run(ctx, env, planOf(s))
		if err != nil {
			return err
		}
		return a.printCacheStage(f, "cache "+s.Name(), &out.Stages[0])
	}
}

// printCacheStage prints the stage: one line in text format, else the JSON
// stream; on GitHub Actions its outputs become step outputs.
func (a *app) printCacheStage(f *cacheFlags, command string, st *report.Stage) error {
	if f.format == "json" {
		h := report.NewJSONHandler(a.stdout)
		run := &report.Run{Header: report.Header{Protocol: report.Protocol, Tool: "modhygiene", Version: version(), Command: command},
			Stages: []report.Stage{*st}}
		if err := report.Replay(run, h); err != nil {
			return exitcode.FailureError(err)
		}
	} else {
		fmt.Fprintf(a.stdout, "%s: %s (%s)\n", command, st.Summary, st.Duration.Round(time.Millisecond))
	}
	a.stepOutputs(st.Outputs)
	return nil
}

// stepOutputs writes outputs as step outputs on GitHub Actions; a problem
// is a warning.
func (a *app) stepOutputs(outputs map[string]string) {
	path := a.ci.GitHub.OutputFile
	if a.ci.Platform != ci.GitHub || path == "" || len(outputs) == 0 {
		return
	}
	err := ci.AppendFile(path, func(w io.Writer) error { return (&ci.EnvFile{W: w}).SetAll(outputs) })
	if err != nil {
		fmt.Fprintf(a.stderr, "modhygiene: warning: cache: step outputs: %v\n", err)
	}
}

func runCachePrune(ctx context.Context, a *app, f *cacheFlags) error {
	env, err := a.cacheEnv(f)
	if err != nil {
		return err
	}
	res, modCache, err := stage.Prune(ctx, env, &f.c, f.dryRun)
	if err != nil {
		return cacheWarning(a, err)
	}
	verb := "removed"
	if f.dryRun {
		verb = "would remove"
		for _, r := range res.Removed {
			fmt.Fprintf(a.stdout, "%s\n", r)
		}
	}
	fmt.Fprintf(a.stdout, "cache prune: %s %d entries, %s, from %s\n", verb, len(res.Removed), human.Bytes(res.Bytes), modCache)
	return nil
}
