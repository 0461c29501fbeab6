package check

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/gocmd"
	"github.com/modhygiene/modhygiene/internal/modgraph"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

// Options configure Run. The zero value checks online with the built-in
// tables.
type Options struct {
	// Offline skips the proxy lookups of MH006 deprecated and MH007
	// retracted.
	Offline bool
	// Twins are added to KnownTwins.
	Twins []Twin
	// Families are added before KnownFamilies (they take precedence).
	Families []Family
	// Concurrency bounds the modules loaded at once; 0 means 4.
	Concurrency int
}

// Result is the outcome of Run.
type Result struct {
	// Findings are the findings of every rule, in finding.Sort order.
	Findings []finding.Finding
	// Notices are messages for a person about rules that were skipped.
	Notices []string
	// Graphs are the loaded graphs, in the order of the workspace's
	// modules; the graph of a module in Failed is nil.
	Graphs []*modgraph.Graph
	// Failed lists the modules whose graph could not be loaded; the
	// findings cover the other modules.
	Failed []ModuleError
}

// ModuleError is a module whose graph could not be loaded.
type ModuleError struct {
	Module *workspace.Module
	Err    error
}

// Input is what the rules read: the workspace, the graph of each of its
// modules, and the tables.
type Input struct {
	Workspace *workspace.Workspace
	// Graphs holds one graph per module of Workspace, in the same order.
	Graphs   []*modgraph.Graph
	Twins    []Twin
	Families []Family
}

// Run loads the module graph of every module of ws with r and applies the
// rules. Each module is loaded on its own (GOWORK=off), as it builds when
// published; when that fails in a go.work workspace, the workspace's graph
// is used instead. A module whose graph cannot be loaded is listed in
// Result.Failed and the others are still checked; the error is non-nil
// only when no module could be loaded or ctx ended.
func Run(ctx context.Context, r *gocmd.Runner, ws *workspace.Workspace, opt Options) (*Result, error) {
	dirs := make([]string, len(ws.Modules))
	for i, m := range ws.Modules {
		dirs[i] = m.Dir
	}
	lo := modgraph.Options{Online: !opt.Offline, Env: []string{"GOWORK=off"}, Concurrency: opt.Concurrency}
	graphs, errs := modgraph.LoadAll(ctx, r, dirs, lo)
	if ws.WorkFile != "" && ctx.Err() == nil {
		// A module of a go.work may need its siblings to load at all:
		// load those in the workspace instead.
		var retry []int
		for i, err := range errs {
			if err != nil {
				retry = append(retry, i)
			}
		}
		if len(retry) > 0 {
			sub := make([]string, len(retry))
			for k, i := range retry {
				sub[k] = dirs[i]
			}
			wlo := lo
			wlo.Env = nil
			gs, es := modgraph.LoadAll(ctx, r, sub, wlo)
			for k, i := range retry {
				graphs[i], errs[i] = gs[k], es[k]
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res := &Result{Graphs: graphs}
	for i, err := range errs {
		if err != nil {
			res.Failed = append(res.Failed, ModuleError{Module: ws.Modules[i], Err: err})
		}
	}
	if len(res.Failed) == len(ws.Modules) {
		return res, res.Failed[0].Err
	}
	for i, g := range graphs {
		if g == nil {
			continue
		}
		if g.PackagesErr != nil {
			res.Notices = append(res.Notices, fmt.Sprintf("%s: not every package could be listed, so linked modules may be missing and some findings may be warnings instead of errors (run 'modhygiene tidy'): %s",
				ws.Modules[i].GoModFile(), firstLine(g.PackagesErr.Error())))
		}
	}
	if opt.Offline {
		res.Notices = append(res.Notices, "MH006 deprecated and MH007 retracted skipped: --offline")
	} else {
		for i, g := range graphs {
			if g == nil || g.OnlineErr == nil {
				continue
			}
			deps := len(g.Deps())
			if !g.Online || g.OnlineFailed >= deps {
				res.Notices = append(res.Notices, fmt.Sprintf("MH006 deprecated and MH007 retracted skipped for %s: the module proxy could not be reached: %v",
					ws.Modules[i].GoModFile(), firstLine(g.OnlineErr.Error())))
			} else {
				res.Notices = append(res.Notices, fmt.Sprintf("MH006 deprecated and MH007 retracted incomplete for %s: %d of %d modules could not be looked up in the module proxy: %v",
					ws.Modules[i].GoModFile(), g.OnlineFailed, deps, firstLine(g.OnlineErr.Error())))
			}
		}
	}
	res.Findings = Analyze(&Input{Workspace: ws, Graphs: graphs, Twins: opt.Twins, Families: opt.Families})
	return res, nil
}

// Analyze applies every rule to in and returns the findings, normalized
// and in finding.Sort order.
func Analyze(in *Input) []finding.Finding {
	twins := append(append([]Twin(nil), KnownTwins...), in.Twins...)
	families := append(append([]Family(nil), in.Families...), KnownFamilies...)
	var fs []finding.Finding
	for i, m := range in.Workspace.Modules {
		if i >= len(in.Graphs) || in.Graphs[i] == nil {
			continue
		}
		c := &modCtx{ws: in.Workspace, mod: m, g: in.Graphs[i]}
		fs = append(fs, dupMajor(c)...)
		fs = append(fs, renamedTwins(c, twins)...)
		fs = append(fs, familySkew(c, families)...)
		fs = append(fs, deprecated(c)...)
		fs = append(fs, retracted(c)...)
		fs = append(fs, directives(c, in)...)
	}
	fs = append(fs, drift(in)...)
	fs = append(fs, toolchainLines(in.Workspace)...)
	for i := range fs {
		fs[i].Normalize()
	}
	finding.Sort(fs)
	return fs
}

// modCtx is one module of the repository with its graph.
type modCtx struct {
	ws  *workspace.Workspace
	mod *workspace.Module
	g   *modgraph.Graph
}

// newFinding returns a finding about dependency dep of c's module: the
// go.mod line that requires it (or the module line), and its chain.
func (c *modCtx) newFinding(rule string, sev finding.Severity, dep, msg string) finding.Finding {
	return finding.Finding{
		Rule:     rule,
		Severity: sev,
		Message:  msg,
		Module:   c.mod.Name(),
		File:     c.mod.GoModFile(),
		Line:     c.mod.RequireLine(dep),
		Subject:  dep,
		Path:     c.g.Chain(dep),
	}
}

// cmd returns command prefixed with a cd into the module's directory
// (relative to the repository root) when it is not the root.
func (c *modCtx) cmd(command string) string { return inDir(c.mod.Rel, command) }

func inDir(rel, command string) string {
	if rel == "." || rel == "" {
		return command
	}
	return "cd " + shellQuote(filepath.ToSlash(rel)) + " && " + command
}

// direct reports whether the module's go.mod requires path without an
// // indirect comment.
func (c *modCtx) direct(path string) bool {
	if c.mod.File == nil {
		return false
	}
	for _, r := range c.mod.File.Require {
		if r.Mod.Path == path {
			return !r.Indirect
		}
	}
	return false
}

// bringer returns the direct dependency through which path enters the
// build list (the second element of its chain), or "" when the module
// requires path itself or path is unreachable.
func (c *modCtx) bringer(path string) string {
	ch := c.g.Chain(path)
	if len(ch) < 3 {
		return ""
	}
	p, _, _ := strings.Cut(ch[1], "@")
	return p
}

// upgradeFix is the command that upgrades the direct dependency bringing
// path in, hoping its newer release no longer does.
func (c *modCtx) upgradeFix(path string) string {
	if b := c.bringer(path); b != "" {
		return c.cmd("go get " + b + "@latest && go mod tidy")
	}
	return c.cmd("go get " + path + "@latest && go mod tidy")
}

// rewriteFix is the command that moves the module's own imports of old to
// new and tidies.
func (c *modCtx) rewriteFix(old, new string) string {
	return c.cmd(fmt.Sprintf("grep -rlF --include='*.go' '\"%s' . | xargs sed -i 's#\"%s#\"%s#' && go mod tidy", old, old, new))
}

// reverseChain renders a chain as "dep <- bringer <- ... <- main".
func reverseChain(ch []string) string {
	out := make([]string, 0, len(ch))
	for i := len(ch) - 1; i >= 0; i-- {
		out = append(out, ch[i])
	}
	return strings.Join(out, " <- ")
}

func versionOf(m *modgraph.Module) string {
	if m.Replace != nil {
		if m.Replace.Version != "" {
			return m.Replace.Version
		}
		return m.Version
	}
	return m.Version
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./@+=:,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
