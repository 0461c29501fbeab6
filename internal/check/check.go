package check

import (
	"context"
	"fmt"
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
	// ListingDir, if set, is where the package listings of the modules
	// are kept, so that a module whose listing's inputs are unchanged is
	// not listed again (Result.Reused).
	ListingDir string
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
	// Reused counts the modules whose package listing was reused
	// (Options.ListingDir).
	Reused int
	// ListingKeys are the keys of the listings ListingDir holds for the
	// modules of this run (reused or kept), sorted: what a later run on
	// another machine needs (see modgraph.ListingStore).
	ListingKeys []string
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
	// Lookups holds the module proxy's answers to the queries the rules
	// ask to verify a fix (Wants), keyed by query (path@version); nil
	// when they were not looked up. Without an answer a rule falls back
	// to what it can tell from the graphs alone.
	Lookups map[string]*modgraph.Module
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
	l := openListings(ctx, r, ws, opt.ListingDir)
	if l != nil {
		lo.Listings = l
		defer l.close()
	}
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
			wlo.Env, wlo.Listings = nil, nil // the keys are of modules on their own
			gs, es := modgraph.LoadAll(ctx, r, sub, wlo)
			for k, i := range retry {
				graphs[i], errs[i] = gs[k], es[k]
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res := &Result{Graphs: graphs, Reused: reused(graphs)}
	if l != nil {
		res.ListingKeys = l.keptKeys()
	}
	for i, err := range errs {
		if err != nil {
			res.Failed = append(res.Failed, ModuleError{Module: ws.Modules[i], Err: err})
		}
	}
	if len(res.Failed) == len(ws.Modules) {
		return res, res.Failed[0].Err
	}
	res.Notices = notices(ws, graphs, opt.Offline)
	in := &Input{Workspace: ws, Graphs: graphs, Twins: opt.Twins, Families: opt.Families}
	if n := lookUp(ctx, r, in); n != "" {
		res.Notices = append(res.Notices, n)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res.Findings = Analyze(in)
	return res, nil
}

// lookUp resolves the queries the rules want answered (Wants) with one go
// command and records the answers in in.Lookups. It returns a notice when
// the go command failed: the rules then fall back to what the graphs tell.
func lookUp(ctx context.Context, r *gocmd.Runner, in *Input) string {
	wants := Wants(in)
	if len(wants) == 0 {
		return ""
	}
	dir := in.Workspace.Root
	for i, g := range in.Graphs {
		if g != nil {
			dir = in.Workspace.Modules[i].Dir
			break
		}
	}
	ls, err := modgraph.Query(ctx, r, dir, []string{"GOWORK=off"}, wants)
	if err != nil {
		return fmt.Sprintf("fix commands not verified against the module proxy (%d lookups failed): %s", len(wants), firstLine(err.Error()))
	}
	in.Lookups = ls
	return ""
}

// notices are the messages about rules that were skipped or may be
// incomplete for some modules.
func notices(ws *workspace.Workspace, graphs []*modgraph.Graph, offline bool) []string {
	var ns []string
	for i, g := range graphs {
		if g != nil && g.PackagesErr != nil {
			ns = append(ns, fmt.Sprintf("%s: not every package could be listed, so linked modules may be missing and some findings may be info instead of warnings (run 'modhygiene tidy'): %s",
				ws.Modules[i].GoModFile(), firstLine(g.PackagesErr.Error())))
		}
	}
	if offline {
		return append(ns, "MH006 deprecated and MH007 retracted skipped: --offline")
	}
	for i, g := range graphs {
		if g == nil || g.OnlineErr == nil {
			continue
		}
		deps := len(g.Deps())
		if !g.Online || g.OnlineFailed >= deps {
			ns = append(ns, fmt.Sprintf("MH006 deprecated and MH007 retracted skipped for %s: the module proxy could not be reached: %v",
				ws.Modules[i].GoModFile(), firstLine(g.OnlineErr.Error())))
		} else {
			ns = append(ns, fmt.Sprintf("MH006 deprecated and MH007 retracted incomplete for %s: %d of %d modules could not be looked up in the module proxy: %v",
				ws.Modules[i].GoModFile(), g.OnlineFailed, deps, firstLine(g.OnlineErr.Error())))
		}
	}
	return ns
}

// Analyze applies every rule to in and returns the findings, normalized
// and in finding.Sort order.
func Analyze(in *Input) []finding.Finding {
	fs, _ := analyze(in)
	return fs
}

// Wants returns the module queries (path@version) that would let the
// rules verify their fixes on in: the newest release of a dependency that
// should stop bringing a module in, the release a pseudo-version
// precedes, a sibling module's version. Run resolves them with
// modgraph.Query and analyzes again with Input.Lookups set.
func Wants(in *Input) []string {
	_, wants := analyze(in)
	return wants
}

// analysis is the state shared by the rules during one Analyze: the input
// and the queries the rules wanted answered.
type analysis struct {
	in    *Input
	wants map[string]bool
	// twins and families are the tables with the configuration's entries.
	twins    []Twin
	families []Family
	// stale records the stale siblings (MH011) found, for drift to fold.
	stale map[staleKey]bool
	// dependents memoises dependents by module directory: every fix of a
	// module asks for the same list.
	dependents map[string][]*workspace.Module
}

func analyze(in *Input) ([]finding.Finding, []string) {
	an := &analysis{in: in, wants: map[string]bool{}, stale: map[staleKey]bool{},
		twins:    append(append([]Twin(nil), KnownTwins...), in.Twins...),
		families: append(append([]Family(nil), in.Families...), KnownFamilies...)}
	var fs []finding.Finding
	for i, m := range in.Workspace.Modules {
		if i >= len(in.Graphs) || in.Graphs[i] == nil {
			continue
		}
		c := &modCtx{ws: in.Workspace, mod: m, g: in.Graphs[i], an: an}
		fs = append(fs, dupMajor(c)...)
		fs = append(fs, renamedTwins(c, an.twins)...)
		fs = append(fs, familySkew(c, an.families)...)
		fs = append(fs, deprecated(c)...)
		fs = append(fs, retracted(c)...)
		fs = append(fs, directives(c, in)...)
	}
	fs = append(fs, staleSiblings(an)...)
	fs = append(fs, drift(an)...)
	fs = append(fs, goLines(in.Workspace)...)
	fs = foldInfos(fs)
	for i := range fs {
		fs[i].Normalize()
	}
	finding.Sort(fs)
	return fs, sortedKeys(an.wants)
}

// lookup returns the module proxy's answer to path@version when it was
// looked up. Otherwise, when the module's graph was loaded online, it
// records the query for Run to resolve and reports ok false.
func (c *modCtx) lookup(path, version string) (m *modgraph.Module, ok bool) {
	q := path + "@" + version
	if m, ok := c.an.in.Lookups[q]; ok {
		return m, true
	}
	if c.g.Online {
		c.an.wants[q] = true
	}
	return nil, false
}

// modCtx is one module of the repository with its graph.
type modCtx struct {
	ws  *workspace.Workspace
	mod *workspace.Module
	g   *modgraph.Graph
	an  *analysis
}

// newFinding returns a finding about dependency dep of c's module: the
// go.mod line that requires it (or the module line), and its chain.
func (c *modCtx) newFinding(rule string, sev finding.Severity, dep, msg string) finding.Finding {
	f := finding.Finding{
		Rule:     rule,
		Severity: sev,
		Message:  msg,
		Module:   c.mod.Name(),
		File:     c.mod.GoModFile(),
		Line:     c.mod.RequireLine(dep),
		Subject:  dep,
		Path:     c.g.Chain(dep),
	}
	if m := c.g.Selected(dep); m != nil {
		f.Version = m.Version
	}
	return f
}

// side is the other module of a two-sided finding (the newer major, the
// twin, the family member ahead), with its version and chain, for the
// reports' diagrams.
func (c *modCtx) side(path string) *finding.Side {
	s := &finding.Side{Module: path, Path: c.g.Chain(path)}
	if m := c.g.Selected(path); m != nil {
		s.Version = m.Version
	}
	return s
}

// targetOf is the module the first of the fix's targets (path@version)
// changes, "" when there is none.
func targetOf(targets []string) string {
	if len(targets) == 0 {
		return ""
	}
	path, _, _ := strings.Cut(targets[0], "@")
	return path
}

// cmd returns the command line args (each quoted with finding.Quote),
// run in the module's directory.
func (c *modCtx) cmd(args ...string) string {
	return finding.InDir(c.mod.Rel, finding.Command(args...))
}

// goGetTidy returns "go get MOD@V... && go mod tidy" run in the module's
// directory, then `go mod tidy` in the modules that replace it with its
// directory (thenTidyDependents).
func (c *modCtx) goGetTidy(targets ...string) string {
	return c.thenTidyDependents(finding.Command(append([]string{"go", "get"}, targets...)...)+" && go mod tidy", targets)
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

// reverseChain renders a chain as "dep <- bringer <- ... <- main".
func reverseChain(ch []string) string {
	out := make([]string, 0, len(ch))
	for i := len(ch) - 1; i >= 0; i-- {
		out = append(out, ch[i])
	}
	return strings.Join(out, " <- ")
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
