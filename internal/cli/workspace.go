package cli

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/modhygiene/modhygiene/internal/config"
	"github.com/modhygiene/modhygiene/internal/exitcode"
	"github.com/modhygiene/modhygiene/internal/report"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

// loadWorkspace discovers the modules under dir, keeps those named by
// moduleDirs (all when empty), and reads the configuration file at the
// repository root. Problems with any of these are usage errors (exit 2).
func (a *app) loadWorkspace(dir string, moduleDirs []string) (*workspace.Workspace, *config.File, error) {
	ws, err := workspace.Discover(a.abs(dir))
	if err != nil {
		if errors.Is(err, workspace.ErrNoModule) || errors.Is(err, fs.ErrNotExist) {
			return nil, nil, exitcode.UsageError(err)
		}
		return nil, nil, exitcode.UsageError(fmt.Errorf("finding modules: %w", err))
	}
	if err := ws.Select(a.cwd, moduleDirs); err != nil {
		return nil, nil, exitcode.UsageError(err)
	}
	cfg, err := config.Load(ws.RepoRoot)
	if err != nil {
		return nil, nil, exitcode.UsageError(err)
	}
	return ws, cfg, nil
}

// moduleInfos lists ws's modules for a report header.
func moduleInfos(ws *workspace.Workspace) []report.ModuleInfo {
	out := make([]report.ModuleInfo, 0, len(ws.Modules))
	for _, m := range ws.Modules {
		out = append(out, report.ModuleInfo{Path: m.Name(), GoMod: m.GoModFile()})
	}
	return out
}
