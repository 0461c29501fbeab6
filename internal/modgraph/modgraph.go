// Package modgraph loads the module graph of each module of a repository
// through the go command: the build list with versions, replacements and
// (online) deprecation and retraction notices, the requirements of each
// selected version, the import graph of the module's packages and tests
// (which modules are linked, which import which, and the path `go mod why
// -m` gives), and the origin of each version from the module cache.
//
// Load runs two go commands per module, concurrently:
//
//	go list -mod=readonly -m -e -json [-u] all
//	go list -mod=readonly -e -deps -test -json=ImportPath,Dir,ForTest,Module,Error,Imports,TestImports,XTestImports ./...
//
// The requirements of each selected version are read from the go.mod files
// the first command reports (GoMod), so `go mod graph` is not needed: the
// graph restricted to selected versions is what every rule uses. Query
// resolves further versions (path@version) in one more go command.
package modgraph

import (
	"bytes"
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"strings"
	"sync"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"

	"github.com/modhygiene/modhygiene/internal/gocmd"
)

// Module is one entry of the build list, as `go list -m -json` reports it.
type Module struct {
	Path       string       `json:"Path"`
	Version    string       `json:"Version,omitempty"`
	Replace    *Module      `json:"Replace,omitempty"`
	Time       *time.Time   `json:"Time,omitempty"`
	Update     *Module      `json:"Update,omitempty"`
	Main       bool         `json:"Main,omitempty"`
	Indirect   bool         `json:"Indirect,omitempty"`
	Dir        string       `json:"Dir,omitempty"`
	GoMod      string       `json:"GoMod,omitempty"`
	GoVersion  string       `json:"GoVersion,omitempty"`
	Deprecated string       `json:"Deprecated,omitempty"`
	Retracted  []string     `json:"Retracted,omitempty"`
	Error      *ModuleError `json:"Error,omitempty"`
}

// ModuleError is the error the go command attached to one module.
type ModuleError struct {
	Err string `json:"Err"`
}

// Origin is the source of a module version, from the .info file of the
// module cache when the proxy recorded it.
type Origin struct {
	VCS  string `json:"VCS,omitempty"`
	URL  string `json:"URL,omitempty"`
	Ref  string `json:"Ref,omitempty"`
	Hash string `json:"Hash,omitempty"`
}

// Graph is the module graph of one module of the repository.
type Graph struct {
	// Dir is the module's directory.
	Dir string
	// Main is the main module's path.
	Main string
	// Modules is the build list, the main module first.
	Modules []*Module
	// Requires maps a module path to the requirements of its selected
	// version (read from that version's go.mod); modules whose go.mod was
	// pruned from the graph have no entry.
	Requires map[string][]Requirement
	// Linked holds the paths of modules that provide a package imported by
	// the module's packages or tests. It is nil when the packages could not
	// be listed.
	Linked map[string]bool
	// Online reports whether deprecation and retraction were looked up.
	Online bool
	// OnlineErr says why the lookup failed for some or all modules.
	OnlineErr error
	// OnlineFailed counts the modules whose lookup failed.
	OnlineFailed int
	// PackagesErr is the first error from listing the module's packages
	// (such as a missing go.sum entry): Linked may then be incomplete.
	PackagesErr error
	// Ambiguous maps an import path that the go command found in more
	// than one module of the build list ("ambiguous import") to those
	// modules' paths.
	Ambiguous map[string][]string
	// Reused reports that the packages came from Options.Listings, not
	// from the go command.
	Reused bool

	pkgs       *pkgGraph
	byPath     map[string]*Module
	chains     map[string][]string
	chainsOnce sync.Once
	modcache   *string
	other      map[string][]Requirement // requirements of unselected versions
}

// Requirement is one require line of a go.mod.
type Requirement struct {
	Path    string
	Version string
	// Indirect is set for a "// indirect" requirement.
	Indirect bool
}

// Options configure Load. The zero value loads offline with packages.
type Options struct {
	// Online asks the proxy for deprecations and retractions (go list -u).
	Online bool
	// Env holds KEY=value pairs added to every call (such as GOWORK=off).
	Env []string
	// Concurrency bounds the modules loaded at once; 0 means 4.
	Concurrency int
	// Listings, if set, remembers package listings: a module whose
	// listing's inputs are unchanged since it was last listed without
	// error is not listed again (Graph.Reused).
	Listings Listings
}

// Listings remembers the package listings of modules by a key of their
// inputs (see Options.Listings). Implementations are safe for concurrent
// use; a problem is a miss, never an error.
type Listings interface {
	// Key returns the key of the inputs of the package listing of the
	// module in dir, "" when there is none (the module is then listed).
	Key(dir string) string
	// Get returns the packages listed under key.
	Get(key string) ([]Package, bool)
	// Put remembers pkgs under key.
	Put(key string, pkgs []Package)
}

// Selected returns the build list entry for path, or nil.
func (g *Graph) Selected(path string) *Module { return g.byPath[path] }

// IsLinked reports whether a package of path is linked into the module's
// packages or tests. It reports false when packages could not be listed.
func (g *Graph) IsLinked(path string) bool { return g.Linked[path] }

// New returns a graph built from parts, for callers that load the build
// list in another way and for tests. requires maps a module path to the
// requirements of its selected version; linked may be nil.
func New(dir string, mods []*Module, requires map[string][]Requirement, linked map[string]bool) *Graph {
	g := &Graph{Dir: dir, Modules: mods, Requires: requires, Linked: linked}
	g.index()
	return g
}

// index maps paths to modules and picks the main module: the one in Dir
// (in a go.work every workspace module is a main module), else the first.
func (g *Graph) index() {
	g.byPath = make(map[string]*Module, len(g.Modules))
	g.Main = ""
	for _, m := range g.Modules {
		g.byPath[m.Path] = m
		if m.Main && (g.Main == "" || m.Dir != "" && filepath.Clean(m.Dir) == filepath.Clean(g.Dir)) {
			g.Main = m.Path
		}
	}
}

// Deps returns the non-main modules of the build list.
func (g *Graph) Deps() []*Module {
	var out []*Module
	for _, m := range g.Modules {
		if !m.Main {
			out = append(out, m)
		}
	}
	return out
}

// Chain returns the dependency path that brings path into the module's
// build, the main module first and path last, as `go mod why -m` gives
// it: for a module a package of which is reached from the main module's
// packages and tests (linked, or imported by a dependency's test), the
// modules along the shortest import stack to it (see Why). For a module
// that is only in the module graph, it is the cheapest requirement path
// through selected versions where they lead there (an unselected version
// on the way is written path@version). It returns nil when path is not
// reachable (or is the main module itself). Chain is safe for concurrent
// use.
func (g *Graph) Chain(path string) []string {
	if g.pkgs != nil {
		if s := g.pkgs.why(path); s != nil {
			return g.pkgs.moduleChain(s)
		}
	}
	g.chainsOnce.Do(func() {
		if g.chains == nil {
			g.chains = g.bfs()
		}
	})
	return g.chains[path]
}

// indirectCost is the weight of a "// indirect" requirement in chains:
// such lines record a module for graph pruning, not the reason it is
// needed, so a chain takes them only when no other way leads there.
const indirectCost = 1000

// otherCost is added to a requirement on a version that MVS did not
// select: such a version is in the module graph only because an older
// release of a dependency requires it, and chains take that way only when
// the selected versions do not lead there.
const otherCost = 100

// bfs computes the cheapest chain to every reachable module (Dijkstra over
// path@version nodes, as `go mod graph` prints them), preferring selected
// versions and direct requirements and, among equal costs, the module
// paths that sort first, so that chains are stable from run to run. A
// module that only an unselected version of a dependency requires (a
// version only in the graph) is reached through that version, written
// path@version in the chain.
func (g *Graph) bfs() map[string][]string {
	type node struct{ path, version string }
	label := func(n node) string {
		if m := g.byPath[n.path]; m != nil && !m.Main && n.version != m.Version {
			return n.path + "@" + n.version
		}
		return n.path
	}
	start := node{g.Main, ""}
	key := func(n node) string { return n.path + "@" + n.version }
	nodeChains := map[string][]string{key(start): {g.Main}}
	dist := map[string]int{key(start): 0}
	nodes := map[string]node{key(start): start}
	done := map[string]bool{}
	chains := map[string][]string{}
	q := &pathHeap{{path: key(start)}}
	for q.Len() > 0 {
		cur := heap.Pop(q).(pathDist)
		if done[cur.path] {
			continue
		}
		done[cur.path] = true
		n := nodes[cur.path]
		if _, ok := chains[n.path]; !ok {
			c := append([]string(nil), nodeChains[cur.path]...)
			c[len(c)-1] = n.path
			chains[n.path] = c
		}
		for _, r := range g.RequiresAt(n.path, n.version) {
			sel := g.byPath[r.Path]
			if sel == nil {
				continue
			}
			next := node{r.Path, r.Version}
			w := 1
			if r.Indirect {
				w = indirectCost
			}
			if sel.Main {
				next.version = ""
			} else if r.Version != sel.Version {
				w += otherCost
			}
			k := key(next)
			if done[k] {
				continue
			}
			d := cur.dist + w
			c := append(append([]string(nil), nodeChains[cur.path]...), label(next))
			if old, seen := dist[k]; seen && (d > old || d == old && !chainLess(c, nodeChains[k])) {
				continue
			}
			dist[k], nodes[k], nodeChains[k] = d, next, c
			heap.Push(q, pathDist{k, d})
		}
	}
	delete(chains, g.Main)
	return chains
}

// RequiresAt returns the requirements of path at version: the selected
// version's from Requires, another version's from its go.mod in the module
// cache (nil when the cache does not hold it, or path is replaced).
func (g *Graph) RequiresAt(path, version string) []Requirement {
	m := g.byPath[path]
	if m == nil {
		return nil
	}
	if m.Main || version == m.Version {
		return g.Requires[path]
	}
	if m.Replace != nil {
		return nil
	}
	k := path + "@" + version
	if r, ok := g.other[k]; ok {
		return r
	}
	var reqs []Requirement
	if root := g.modCache(); root != "" {
		esc, err1 := module.EscapePath(path)
		ev, err2 := module.EscapeVersion(version)
		if err1 == nil && err2 == nil {
			reqs = parseRequires(filepath.Join(root, "cache", "download", filepath.FromSlash(esc), "@v", ev+".mod"))
		}
	}
	if g.other == nil {
		g.other = map[string][]Requirement{}
	}
	g.other[k] = reqs
	return reqs
}

// chainLess orders chains of equal cost by their module paths.
func chainLess(a, b []string) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}

type pathDist struct {
	path string
	dist int
}

// pathHeap is a min-heap of paths by distance, then path.
type pathHeap []pathDist

func (h pathHeap) Len() int { return len(h) }
func (h pathHeap) Less(i, j int) bool {
	if h[i].dist != h[j].dist {
		return h[i].dist < h[j].dist
	}
	return h[i].path < h[j].path
}
func (h pathHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *pathHeap) Push(x any)   { *h = append(*h, x.(pathDist)) }
func (h *pathHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Info is the content of a version's .info file in the module cache.
type Info struct {
	Version string
	Time    time.Time
	Origin  *Origin
}

// Info returns the .info of path at version from the module cache, or nil
// when the cache does not hold it. It reads the cache directly: no go
// command runs.
func (g *Graph) Info(path, version string) *Info {
	root := g.modCache()
	if root == "" || version == "" {
		return nil
	}
	esc, err := module.EscapePath(path)
	if err != nil {
		return nil
	}
	ev, err := module.EscapeVersion(version)
	if err != nil {
		return nil
	}
	data, err := os.ReadFile(filepath.Join(root, "cache", "download", filepath.FromSlash(esc), "@v", ev+".info"))
	if err != nil {
		return nil
	}
	info := new(Info)
	if json.Unmarshal(data, info) != nil {
		return nil
	}
	return info
}

// LoadAll loads the graphs of the modules in dirs concurrently, at most
// opt.Concurrency at a time. graphs[i] is the graph of dirs[i], or nil when
// errs[i] says why it could not be loaded; one module's failure does not
// stop the others. A cancelled context stops every load.
func LoadAll(ctx context.Context, r *gocmd.Runner, dirs []string, opt Options) (graphs []*Graph, errs []error) {
	n := opt.Concurrency
	if n <= 0 {
		n = 4
	}
	sem := make(chan struct{}, n)
	graphs = make([]*Graph, len(dirs))
	errs = make([]error, len(dirs))
	var wg sync.WaitGroup
	for i, d := range dirs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := ctx.Err(); err != nil {
				errs[i] = err
				return
			}
			graphs[i], errs[i] = Load(ctx, r, d, opt)
		}()
	}
	wg.Wait()
	return graphs, errs
}

// Load loads the graph of the module in dir. Its two go commands run
// concurrently. Nothing is written to go.mod or go.sum (-mod=readonly).
// When the online lookup fails as a whole for a network reason, the build
// list is loaded again offline and OnlineErr says why.
func Load(ctx context.Context, r *gocmd.Runner, dir string, opt Options) (*Graph, error) {
	g := &Graph{Dir: dir}
	var (
		wg      sync.WaitGroup
		listing packageListing
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		listing = listPackages(ctx, r, dir, opt)
	}()
	mods, err := g.loadModules(ctx, r, dir, opt)
	if err == nil {
		// Read the requirements and compute the chains while the package
		// listing is still running.
		g.Modules = mods
		g.index()
		g.Requires = readRequires(mods)
		g.chains = g.bfs()
	}
	wg.Wait()
	if err != nil {
		return nil, err
	}
	if !g.Online {
		if e := firstModuleError(mods); e != nil {
			return nil, fmt.Errorf("go list -m all in %s: %w", dir, e)
		}
	}
	g.countLookupFailures()
	if err := g.setPackages(ctx, listing, opt.Listings); err != nil {
		return nil, err
	}
	return g, nil
}

// loadModules lists the build list, online when opt says so. When the
// online lookup fails as a whole for a network reason, the build list is
// listed again offline and OnlineErr says why.
func (g *Graph) loadModules(ctx context.Context, r *gocmd.Runner, dir string, opt Options) ([]*Module, error) {
	mods, err := listModules(ctx, r, dir, opt)
	off := opt
	off.Online = false
	var ge *gocmd.Error
	switch {
	case opt.Online && errors.As(err, &ge) && ge.Kind == gocmd.Network:
		// The lookup failed as a whole: load the build list without it.
		g.OnlineErr = err
		mods, err = listModules(ctx, r, dir, off)
	case opt.Online && err == nil && firstLookupError(mods) != nil:
		// Errors from go list -m -u -e are lookup failures or a broken
		// build list; only a listing without -u tells which (one more go
		// command, on this error path only).
		offMods, offErr := listModules(ctx, r, dir, off)
		if offErr == nil && firstModuleError(offMods) != nil {
			mods = offMods
			break
		}
		g.Online = true
	case opt.Online:
		g.Online = true
	}
	return mods, err
}

// countLookupFailures records the modules whose online lookup failed.
func (g *Graph) countLookupFailures() {
	for _, m := range g.Modules {
		if g.Online && m.Error != nil && !m.Main && !m.LocalReplace() {
			g.OnlineFailed++
			if g.OnlineErr == nil {
				g.OnlineErr = fmt.Errorf("%s: %s", m.Path, m.Error.Err)
			}
		}
	}
}

// packageListing is the outcome of listPackages: the packages remembered
// under key, or the go command's listing.
type packageListing struct {
	key    string
	cached []Package
	reused bool
	out    *gocmd.Result
	err    error
}

// listPackages lists the packages of the module in dir and their
// dependencies, or finds them in opt.Listings. A vendored module builds
// from vendor/: its packages are listed there, and never remembered.
func listPackages(ctx context.Context, r *gocmd.Runner, dir string, opt Options) packageListing {
	mode := "-mod=readonly"
	if fi, err := os.Stat(filepath.Join(dir, "vendor", "modules.txt")); err == nil && fi.Mode().IsRegular() {
		mode = "-mod=vendor"
	}
	var l packageListing
	if opt.Listings != nil && mode != "-mod=vendor" {
		if l.key = opt.Listings.Key(dir); l.key != "" {
			if l.cached, l.reused = opt.Listings.Get(l.key); l.reused {
				return l
			}
		}
	}
	l.out, l.err = r.Do(ctx, gocmd.Call{Dir: dir, Env: opt.Env,
		Args: []string{"list", mode, "-e", "-deps", "-test", "-json=ImportPath,Dir,ForTest,Module,Error,Imports,TestImports,XTestImports", "./..."}})
	return l
}

// setPackages records the package listing l, and remembers it in listings
// when it has a key and no error.
func (g *Graph) setPackages(ctx context.Context, l packageListing, listings Listings) error {
	switch {
	case l.reused:
		g.Linked, g.Reused = map[string]bool{}, true
		g.SetPackages(l.cached)
	case l.err == nil:
		pkgs, err := g.setListing(l.out.Stdout)
		if err != nil {
			return fmt.Errorf("go list -deps in %s: %w", g.Dir, err)
		}
		if l.key != "" && g.PackagesErr == nil && g.Ambiguous == nil {
			listings.Put(l.key, append(pkgs, g.scannedUnlisted()...))
		}
	case ctx.Err() != nil:
		return l.err
	default:
		g.PackagesErr = l.err
	}
	return nil
}

// setListing records the package listing: the linked modules, the first
// package error, the ambiguous imports, and the import graph with every
// package's imports under all build tags.
func (g *Graph) setListing(out []byte) ([]Package, error) {
	pkgs, dirs, first, amb, err := parsePackages(out)
	if err != nil {
		return nil, err
	}
	g.Linked, g.PackagesErr, g.Ambiguous = map[string]bool{}, first, amb
	withAllTags(pkgs, dirs, func(mod string) bool {
		m := g.Selected(mod)
		return m != nil && !m.Main && m.Replace == nil
	})
	g.SetPackages(pkgs)
	return pkgs, nil
}

// firstModuleError returns the first error the go command attached to a
// module of the list.
func firstModuleError(mods []*Module) error {
	for _, m := range mods {
		if m.Error != nil {
			return fmt.Errorf("%s: %s", m.Path, m.Error.Err)
		}
	}
	return nil
}

// firstLookupError is firstModuleError for a listing with -u, leaving out
// modules replaced by local directories: the go command looks up updates
// for their module paths too, which fails for paths no proxy serves, and
// says nothing about the build.
func firstLookupError(mods []*Module) error {
	for _, m := range mods {
		if m.Error != nil && !m.LocalReplace() {
			return fmt.Errorf("%s: %s", m.Path, m.Error.Err)
		}
	}
	return nil
}

// LocalReplace reports whether m is replaced by a directory.
func (m *Module) LocalReplace() bool {
	return m.Replace != nil && m.Replace.Version == ""
}

func listModules(ctx context.Context, r *gocmd.Runner, dir string, opt Options) ([]*Module, error) {
	args := []string{"list", "-mod=readonly", "-m", "-e", "-json"}
	if opt.Online {
		args = append(args, "-u")
	}
	args = append(args, "all")
	res, err := r.Do(ctx, gocmd.Call{Dir: dir, Args: args, Env: opt.Env})
	if err != nil {
		return nil, err
	}
	var mods []*Module
	dec := json.NewDecoder(bytes.NewReader(res.Stdout))
	for {
		m := new(Module)
		if err := dec.Decode(m); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("go %s in %s: %w", strings.Join(args, " "), dir, err)
		}
		mods = append(mods, m)
	}
	return mods, nil
}

// readRequires parses the go.mod of each selected version.
func readRequires(mods []*Module) map[string][]Requirement {
	reqs := make(map[string][]Requirement, len(mods))
	for _, m := range mods {
		gomod := m.GoMod
		if m.Replace != nil && m.Replace.GoMod != "" {
			gomod = m.Replace.GoMod
		}
		if gomod == "" {
			continue
		}
		if r := parseRequires(gomod); r != nil {
			reqs[m.Path] = r
		}
	}
	return reqs
}

// parseRequires reads the require lines of a go.mod file; nil when it
// cannot be read or parsed.
func parseRequires(gomod string) []Requirement {
	data, err := os.ReadFile(gomod)
	if err != nil {
		return nil
	}
	f, err := modfile.ParseLax(filepath.Base(gomod), data, nil)
	if err != nil {
		return nil
	}
	vs := []Requirement{}
	for _, r := range f.Require {
		vs = append(vs, Requirement{Path: r.Mod.Path, Version: r.Mod.Version, Indirect: r.Indirect})
	}
	return vs
}

// SourceDir returns the directory where m's selected version is extracted
// in the module cache (or its local replacement), or "" when it is not
// extracted. It is derived from GoMod, so it is known even when the go
// command listed the module before extracting it.
func (g *Graph) SourceDir(m *Module) string {
	if m.Replace != nil {
		if m.Replace.Version == "" {
			return m.Replace.Dir
		}
		return g.cacheDir(m.Replace.Path, m.Replace.Version)
	}
	if m.Main {
		return m.Dir
	}
	return g.cacheDir(m.Path, m.Version)
}

// modCache returns the module cache root, derived from the GoMod of any
// module that the go command read from the cache.
func (g *Graph) modCache() string {
	if g.modcache == nil {
		root := g.findModCache()
		g.modcache = &root
	}
	return *g.modcache
}

func (g *Graph) findModCache() string {
	for _, m := range g.Modules {
		for _, gm := range []string{m.GoMod, replaceGoMod(m)} {
			if root, _, ok := strings.Cut(filepath.ToSlash(gm), "/cache/download/"); ok {
				return filepath.FromSlash(root)
			}
		}
	}
	return ""
}

func replaceGoMod(m *Module) string {
	if m.Replace != nil {
		return m.Replace.GoMod
	}
	return ""
}

func (g *Graph) cacheDir(path, version string) string {
	root := g.modCache()
	if root == "" {
		return ""
	}
	esc, err := module.EscapePath(path)
	if err != nil {
		return ""
	}
	ev, err := module.EscapeVersion(version)
	if err != nil {
		return ""
	}
	d := filepath.Join(root, filepath.FromSlash(esc)+"@"+ev)
	if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
		return ""
	}
	return d
}
