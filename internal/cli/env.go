package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/modhygiene/modhygiene/internal/cache/stores"
	"github.com/modhygiene/modhygiene/internal/ci"
	"github.com/modhygiene/modhygiene/internal/config"
	"github.com/modhygiene/modhygiene/internal/exitcode"
	"github.com/modhygiene/modhygiene/internal/gocmd"
	"github.com/modhygiene/modhygiene/internal/report"
	"github.com/modhygiene/modhygiene/internal/stage"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

// abs resolves p against the invocation's working directory.
func (a *app) abs(p string) string {
	if p == "" {
		return a.cwd
	}
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(a.cwd, p)
}

// newEnv is the stage environment for a run in dir (absolute) over ws and
// cfg; ws may be nil for the mirrors stage alone.
func (a *app) newEnv(dir string, ws *workspace.Workspace, cfg *config.File) *stage.Env {
	if cfg == nil {
		cfg = &config.File{}
	}
	return &stage.Env{
		Dir: dir, Cwd: a.cwd, Go: &gocmd.Runner{Env: append([]string(nil), a.env...)}, CI: a.ci,
		Workspace: ws, Config: cfg, Log: a.stderr, ToolDir: stage.ToolDir(a.env),
		Live: !a.ci.CI && a.getenv("TERM") != "dumb" && ci.IsTerminal(a.stderr),
	}
}

// loadWorkspace discovers the modules under dir (absolute) and keeps those
// named by moduleDirs (all when empty; relative to dir). Problems are
// usage errors (exit 2); a directory that cannot be read is a warning.
func (a *app) loadWorkspace(dir string, moduleDirs []string) (*workspace.Workspace, error) {
	ws, err := workspace.Discover(dir)
	if err != nil {
		return nil, discoverError(err)
	}
	for _, d := range ws.Unreadable {
		fmt.Fprintf(a.stderr, "modhygiene: warning: %s cannot be read; modules below it are left out\n", d)
	}
	if err := ws.Select(dir, moduleDirs); err != nil {
		return nil, exitcode.UsageError(err)
	}
	return ws, nil
}

// discoverError is the usage error for a workspace that cannot be found.
func discoverError(err error) error {
	if errors.Is(err, workspace.ErrNoModule) || errors.Is(err, fs.ErrNotExist) {
		return exitcode.UsageError(err)
	}
	return exitcode.UsageError(fmt.Errorf("finding modules: %w", err))
}

// loadConfig reads the configuration file: path (relative to dir) when
// given, else .modhygiene.yaml at the repository root. Problems are usage
// errors naming the file and line.
func loadConfig(ws *workspace.Workspace, dir, path string) (*config.File, error) {
	if path == "" {
		cfg, err := config.Load(ws.RepoRoot)
		if err != nil {
			return nil, exitcode.UsageError(err)
		}
		return cfg, nil
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, exitcode.UsageError(fmt.Errorf("config: %w", err))
	}
	cfg, err := config.Parse(path, data)
	if err != nil {
		return nil, exitcode.UsageError(err)
	}
	if rel, err := filepath.Rel(ws.RepoRoot, path); err == nil && !strings.HasPrefix(rel, "..") {
		cfg.Rel = filepath.ToSlash(rel)
	}
	return cfg, nil
}

// repoEnv loads the workspace under dir (a flag value, "" for the working
// directory) and its configuration, and returns the stage environment.
func (a *app) repoEnv(dir, configPath string, moduleDirs []string) (*stage.Env, error) {
	abs := a.abs(dir)
	ws, err := a.loadWorkspace(abs, moduleDirs)
	if err != nil {
		return nil, err
	}
	cfg, err := loadConfig(ws, abs, configPath)
	if err != nil {
		return nil, err
	}
	return a.newEnv(abs, ws, cfg), nil
}

// openStore opens the cache store spec names ("" or auto for the
// platform's) into env. A malformed spec is a usage error; a store that
// cannot be set up is a warning and no store.
func (a *app) openStore(env *stage.Env, spec string) error {
	st, kind, err := stores.Open(spec, a.ci, stores.Options{CacheDir: env.ToolDir, Getenv: a.getenv, Log: a.stderr})
	if errors.Is(err, stores.ErrUsage) {
		return exitcode.UsageError(fmt.Errorf("--store: %w", err))
	}
	if err != nil {
		fmt.Fprintf(a.stderr, "modhygiene: warning: cache: %v\n", err)
		st, kind = nil, stores.None
	}
	env.Store, env.StoreKind = st, kind
	return nil
}

// moduleInfos lists ws's modules for a report header.
func moduleInfos(ws *workspace.Workspace) []report.ModuleInfo {
	if ws == nil {
		return nil
	}
	out := make([]report.ModuleInfo, 0, len(ws.Modules))
	for _, m := range ws.Modules {
		out = append(out, report.ModuleInfo{Path: m.Name(), GoMod: m.GoModFile()})
	}
	return out
}
