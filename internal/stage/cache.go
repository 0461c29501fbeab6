package stage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/modhygiene/modhygiene/internal/cache"
	"github.com/modhygiene/modhygiene/internal/cache/stores"
	"github.com/modhygiene/modhygiene/internal/human"
)

// Cache are the settings the restore and save stages share. The zero
// value is the module cache alone, in cache.DefaultShards shards, with
// parallelism chosen from the number of CPUs.
type Cache struct {
	// BuildCache also restores and saves the build cache (GOCACHE).
	BuildCache bool
	// Shards is the number of module cache shards; 0 means
	// cache.DefaultShards.
	Shards int
	// Jobs is how many shards are moved at once; 0 chooses.
	Jobs int
	// SaveOnPR also saves on pull_request events on GitHub Actions.
	SaveOnPR bool
	// RestoreBudget and SaveBudget bound the restore and the save, store
	// requests included; 0 means cache.DefaultRestoreBudget and
	// cache.DefaultSaveBudget. When one runs out the restore is a miss, the
	// save saves nothing, with a warning.
	RestoreBudget, SaveBudget time.Duration
}

// CacheFacts is what the cache stages learn from the repository and the go
// command: the go.sum lines that key the caches, the keys, and where the
// caches are.
type CacheFacts struct {
	Lines                   []string
	Keys                    *cache.Keys
	ModCache, BuildCache    string
	GoVersion, GOOS, GOARCH string
	BuildKey, BuildPrefix   string
}

// LoadCacheFacts reads every go.sum and go.work.sum of env's workspace and
// asks the go command where the caches are. A go.sum that cannot be read is
// an error (a cache problem); bad settings are usage errors.
func (c *Cache) LoadCacheFacts(ctx context.Context, env *Env) (*CacheFacts, error) {
	shards := c.shards()
	if shards < 1 || shards > 256 {
		return nil, Usagef("--shards %d: want 1 to 256", shards)
	}
	ws := env.Workspace
	var sums []string
	if ws.WorkFile != "" {
		sums = append(sums, ws.WorkFile+".sum")
	}
	for _, m := range ws.Modules {
		sums = append(sums, filepath.Join(m.Dir, "go.sum"), filepath.Join(m.Dir, "go.work.sum"))
	}
	lines, err := cache.ReadSums(sums)
	if err != nil {
		return nil, err
	}
	goenv, err := env.Go.GoEnv(ctx, env.Dir, "GOMODCACHE", "GOCACHE", "GOVERSION", "GOOS", "GOARCH")
	if err != nil {
		return nil, err
	}
	f := &CacheFacts{Lines: lines, Keys: cache.ModuleKeys(lines, shards),
		ModCache: goenv["GOMODCACHE"], BuildCache: goenv["GOCACHE"],
		GoVersion: goenv["GOVERSION"], GOOS: goenv["GOOS"], GOARCH: goenv["GOARCH"]}
	f.BuildKey, f.BuildPrefix = cache.BuildKeys(f.GoVersion, f.GOOS, f.GOARCH, lines)
	if f.ModCache == "" {
		return nil, errors.New("go env GOMODCACHE is empty")
	}
	return f, nil
}

func (c *Cache) shards() int {
	if c.Shards == 0 {
		return cache.DefaultShards
	}
	return c.Shards
}

// buildOn reports whether the build cache is asked for and exists.
func (c *Cache) buildOn(f *CacheFacts) bool {
	return c.BuildCache && f.BuildCache != "" && f.BuildCache != "off"
}

func (c *Cache) options(env *Env) cache.Options {
	return cache.Options{Parallel: c.Jobs, Warn: func(msg string) { warn(env, "%s", msg) },
		RestoreBudget: c.RestoreBudget, SaveBudget: c.SaveBudget}
}

// Restore restores the module cache (and the build cache) from env.Store;
// with GitLab's in-project cache it checks that the runner can keep
// GOMODCACHE. A cache problem is a warning and a miss, never a failure.
type Restore struct {
	Cache *Cache
}

var _ Stage = (*Restore)(nil)

// Name is "restore".
func (r *Restore) Name() string { return "restore" }

// Run restores the caches.
func (r *Restore) Run(ctx context.Context, env *Env) (Result, error) {
	res := Result{Outputs: map[string]string{"cache-hit": "false", "cache-status": string(cache.Miss)}}
	f, err := r.Cache.LoadCacheFacts(ctx, env)
	if err != nil {
		return cacheProblem(env, res, err)
	}
	res.Outputs["cache-key"] = f.Keys.Module
	if ok, why := env.CI.RestoreAllowed(); !ok && env.StoreKind == stores.GitHub {
		return skipped(res, why), nil
	}
	switch env.StoreKind {
	case stores.None:
		return skipped(res, "no cache store"), nil
	case stores.InProject:
		return projectRestore(env, f, res), nil
	}
	opts := r.Cache.options(env)
	c := cache.Restore(ctx, env.Store, cache.ModuleSet(f.ModCache, f.Keys), opts)
	res.Outputs["cache-status"] = string(c.Status)
	res.Outputs["cache-hit"] = fmt.Sprint(c.Status == cache.Hit)
	res.Outputs["cache-matched-key"] = c.Matched
	res.Outputs["cache-bytes"] = fmt.Sprint(c.Bytes)
	res.Summary = fmt.Sprintf("module cache %s from %s: %d of %d shards, %s, %d files", c.Status, env.Store, c.Restored, c.Shards, human.Bytes(c.Bytes), c.Files)
	if n := len(c.Rejected); n > 0 {
		res.Summary += fmt.Sprintf(", %d module %s failed verification against go.sum", n, Plural(n, "version", "versions"))
	}
	if c.Matched == "" {
		res.Summary = fmt.Sprintf("module cache miss: nothing restored from %s", env.Store)
	}
	if c.Existing > 0 {
		res.Summary += fmt.Sprintf(", %d already present", c.Existing)
	}
	if c.Status == cache.Miss {
		res.Status = Warning
	}
	if r.Cache.buildOn(f) {
		b := cache.Restore(ctx, env.Store, cache.BuildRestoreSet(f.BuildCache, f.BuildPrefix, f.Lines), opts)
		if b.Status != cache.Miss {
			if err := cache.MarkRestored(f.BuildCache); err != nil {
				opts.Warn("cache: build cache: " + err.Error())
			}
		}
		res.Outputs["build-cache-status"] = string(b.Status)
		res.Summary += fmt.Sprintf("; build cache %s, %s", b.Status, human.Bytes(b.Bytes))
	}
	return res, nil
}

// cacheProblem turns a cache problem into a warning: the stage is a miss
// and the run goes on. Usage errors stop the run.
func cacheProblem(env *Env, res Result, err error) (Result, error) {
	if IsUsage(err) {
		return Result{}, err
	}
	warn(env, "cache: %v", err)
	res.Status, res.Summary = Warning, "cache unavailable: "+firstLine(err.Error())
	return res, nil
}

func skipped(res Result, why string) Result {
	res.Status, res.Summary = Skipped, why
	if _, ok := res.Outputs["cache-status"]; ok {
		res.Outputs["cache-status"] = string(cache.Skipped)
	}
	return res
}

// projectRestore checks that GOMODCACHE is where the runner's cache: can
// archive it: the runner itself restores it.
func projectRestore(env *Env, f *CacheFacts, res Result) Result {
	if !inside(f.ModCache, env.CI.GitLab.ProjectDir) {
		res.Status = Warning
		res.Summary = fmt.Sprintf("GOMODCACHE %s is outside CI_PROJECT_DIR, so the runner's cache: cannot keep it; set variables: GOMODCACHE: $CI_PROJECT_DIR/.cache/go-mod (or pass --store s3://...)", f.ModCache)
		res.Outputs["cache-status"] = string(cache.Skipped)
		return res
	}
	shards := cache.ModuleSet(f.ModCache, f.Keys).Shards
	have := 0
	for _, sh := range shards {
		if len(sh.Units) > 0 {
			have++
		}
	}
	status := cache.Miss
	if have > 0 {
		status = cache.Partial
		if have == len(shards) {
			status = cache.Hit
		}
	}
	res.Outputs["cache-status"] = string(status)
	res.Outputs["cache-hit"] = fmt.Sprint(status == cache.Hit)
	res.Summary = fmt.Sprintf("module cache %s in %s (the runner's cache:)", status, f.ModCache)
	return res
}

// Save prunes and saves the module cache (and the build cache) to
// env.Store; with GitLab's in-project cache it prunes GOMODCACHE in place
// for the runner to archive. A cache problem is a warning, never a failure.
type Save struct {
	Cache *Cache
}

var _ Stage = (*Save)(nil)

// Name is "save".
func (s *Save) Name() string { return "save" }

// Run saves the caches.
func (s *Save) Run(ctx context.Context, env *Env) (Result, error) {
	res := Result{Outputs: map[string]string{}}
	f, err := s.Cache.LoadCacheFacts(ctx, env)
	if err != nil {
		return cacheProblem(env, res, err)
	}
	switch env.StoreKind {
	case stores.None:
		return skipped(res, "no cache store"), nil
	case stores.InProject:
		return projectSave(env, f, res), nil
	}
	if ok, why := env.CI.SaveAllowed(s.Cache.SaveOnPR); !ok && env.StoreKind == stores.GitHub {
		return skipped(res, why), nil
	}
	opts := s.Cache.options(env)
	c := cache.Save(ctx, env.Store, cache.ModuleSet(f.ModCache, f.Keys), opts)
	res.Outputs["cache-key"] = c.Key
	res.Outputs["cache-bytes"] = fmt.Sprint(c.Bytes)
	switch {
	case c.UpToDate:
		res.Summary = fmt.Sprintf("module cache up to date in %s", env.Store)
	case c.Status == cache.Skipped:
		res.Status, res.Summary = Skipped, fmt.Sprintf("nothing to save: GOMODCACHE %s holds none of the module versions go.sum names", f.ModCache)
	case c.Status == cache.Hit:
		res.Summary = fmt.Sprintf("module cache saved to %s: %d of %d shards uploaded (%s, %d files), %d reused", env.Store, c.Uploaded, c.Shards, human.Bytes(c.Bytes), c.Files, c.Reused)
	default:
		res.Status, res.Summary = Warning, fmt.Sprintf("module cache not saved to %s", env.Store)
	}
	if s.Cache.buildOn(f) {
		res.Summary += "; " + s.saveBuild(ctx, env, f, opts)
	}
	return res, nil
}

// saveBuild saves the build cache, and only from a trusted ref: a build
// cache entry cannot be verified against go.sum, so one saved by a pull
// request could plant compiled code for the default branch.
func (s *Save) saveBuild(ctx context.Context, env *Env, f *CacheFacts, opts cache.Options) string {
	if ok, why := env.CI.BuildCacheSaveAllowed(env.CI.EventDefaultBranch(os.ReadFile)); !ok {
		return why
	}
	set, err := cache.BuildSet(f.BuildCache, f.BuildPrefix, f.Lines)
	if err != nil {
		opts.Warn("cache: build cache: " + err.Error())
		return "build cache not saved"
	}
	if b := cache.Save(ctx, env.Store, set, opts); b.Status == cache.Hit {
		return "build cache saved, " + human.Bytes(b.Bytes)
	}
	return "build cache not saved"
}

// projectSave prunes GOMODCACHE in place before the runner archives it.
func projectSave(env *Env, f *CacheFacts, res Result) Result {
	if !inside(f.ModCache, env.CI.GitLab.ProjectDir) {
		return skipped(res, fmt.Sprintf("GOMODCACHE %s is outside CI_PROJECT_DIR; not pruning it", f.ModCache))
	}
	pr, err := cache.Prune(f.ModCache, cache.Versions(f.Lines), false)
	if err != nil {
		warn(env, "cache: prune %s: %v", f.ModCache, err)
		res.Status = Warning
	}
	if pr == nil {
		pr = &cache.PruneResult{}
	}
	res.Summary = fmt.Sprintf("pruned %s for the runner's cache: %d entries, %s removed", f.ModCache, len(pr.Removed), human.Bytes(pr.Bytes))
	return res
}

// Prune removes from GOMODCACHE, in place, every module version no go.sum
// names (dry: only lists them). A prune problem is a warning.
func Prune(ctx context.Context, env *Env, c *Cache, dry bool) (*cache.PruneResult, string, error) {
	f, err := c.LoadCacheFacts(ctx, env)
	if err != nil {
		return nil, "", err
	}
	res, err := cache.Prune(f.ModCache, cache.Versions(f.Lines), dry)
	if err != nil {
		warn(env, "cache: prune %s: %v", f.ModCache, err)
	}
	if res == nil {
		res = &cache.PruneResult{}
	}
	return res, f.ModCache, nil
}

// KeyLines describes the cache keys for `modhygiene cache key`.
func KeyLines(ctx context.Context, env *Env, c *Cache) (string, error) {
	f, err := c.LoadCacheFacts(ctx, env)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "module-key %s\n", f.Keys.Module)
	for _, p := range f.Keys.Prefixes {
		fmt.Fprintf(&b, "module-restore-prefix %s\n", p)
	}
	for _, s := range f.Keys.Shards {
		fmt.Fprintf(&b, "shard %s %d\n", s.Key, len(s.Versions))
	}
	if c.BuildCache {
		fmt.Fprintf(&b, "build-key %s\nbuild-restore-prefix %s\n", f.BuildKey, f.BuildPrefix)
	}
	return b.String(), nil
}
