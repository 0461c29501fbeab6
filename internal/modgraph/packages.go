package modgraph

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
)

// Package is one package of the module's import graph, as the go command
// lists it for the module's packages and tests (go list -deps -test).
type Package struct {
	// ImportPath is the package's import path.
	ImportPath string
	// Module is the path of the module providing the package ("" for the
	// standard library).
	Module string
	// Imports are the packages its non-test files import.
	Imports []string
	// TestImports are the packages its tests (internal and external)
	// import. The tests of the main module's packages are part of the
	// build; `go mod why` also follows the tests of the packages they
	// import, one level deep, and so does Chain.
	TestImports []string
	// Unlisted marks a package that the listing does not hold (only a
	// dependency's test or another platform's file imports it): it links
	// nothing, and its imports were read from the module cache.
	Unlisted bool `json:",omitempty"`
}

// pkgGraph is the import graph of the module's packages and tests, with
// the shortest import stack to each package as `go mod why` computes it.
type pkgGraph struct {
	main  string
	pkgs  map[string]*Package
	roots []string // the main module's packages, in the go command's order
	stack map[string][]string
	// best maps a module path to its package nearest to the roots.
	best map[string]string
	// importers maps a module path to the modules with a package that
	// imports one of its packages.
	importers map[string]map[string]bool
	// scanned holds the unlisted packages whose imports addUnlisted read.
	scanned map[string]bool
}

// SetPackages records the import graph of the module's packages and
// tests: Chain then follows imports for the modules they link (as
// `go mod why -m` does), Importers answers which modules import a module,
// and Linked is set from the packages' modules. Load calls it with the
// go command's listing; tests and other loaders may call it directly.
func (g *Graph) SetPackages(pkgs []Package) {
	pg := &pkgGraph{main: g.Main, pkgs: map[string]*Package{}, importers: map[string]map[string]bool{}, scanned: map[string]bool{}}
	if g.Linked == nil {
		g.Linked = map[string]bool{}
	}
	for i := range pkgs {
		p := &pkgs[i]
		pg.pkgs[p.ImportPath] = p
		if p.Unlisted {
			continue
		}
		if p.Module != "" {
			g.Linked[p.Module] = true
		}
		if p.Module == g.Main && matchedByAll(g.Main, p.ImportPath) {
			pg.roots = append(pg.roots, p.ImportPath)
		}
	}
	g.addUnlisted(pg)
	sort.Slice(pg.roots, func(i, j int) bool { return walkLess(pg.roots[i], pg.roots[j]) })
	pg.walk()
	pg.pickBest()
	g.pkgs = pg
}

// addUnlisted adds the packages that a dependency's test, or a file for
// another platform, imports and that nothing else links, so the listing
// does not hold them. Each belongs to the module of the build list with
// the longest path that is a prefix of it, as the go command resolves it;
// its imports are read from its directory in that module's source (the
// module cache, or a local replacement) when it is there, else unknown.
func (g *Graph) addUnlisted(pg *pkgGraph) {
	var queue []string
	for _, p := range pg.pkgs {
		queue = append(queue, p.Imports...)
		queue = append(queue, p.TestImports...)
	}
	for len(queue) > 0 {
		imp := queue[0]
		queue = queue[1:]
		if pg.pkgs[imp] != nil {
			continue
		}
		p := &Package{ImportPath: imp, Module: g.moduleOf(imp), Unlisted: true}
		pg.pkgs[imp] = p
		if m := g.Selected(p.Module); m != nil && !m.Main {
			if root := g.SourceDir(m); root != "" {
				dir := filepath.Join(root, filepath.FromSlash(strings.TrimPrefix(strings.TrimPrefix(imp, p.Module), "/")))
				if im, tm, ok := scanCached(dir, m.Replace == nil); ok {
					p.Imports, p.TestImports = im, tm
					pg.scanned[imp] = true
					queue = append(append(queue, im...), tm...)
				}
			}
		}
	}
}

// scannedUnlisted returns the unlisted packages whose imports were read
// from the module cache, sorted by import path: with the listing, what a
// later SetPackages needs to give the same graph without reading the
// module cache (an unlisted package whose imports are unknown is left
// out, to be read again).
func (g *Graph) scannedUnlisted() []Package {
	var out []Package
	for ip := range g.pkgs.scanned {
		out = append(out, *g.pkgs.pkgs[ip])
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ImportPath < out[j].ImportPath })
	return out
}

// moduleOf returns the module of the build list whose path is the longest
// prefix of the import path ip, or "" (the standard library).
func (g *Graph) moduleOf(ip string) string {
	best := ""
	for _, m := range g.Modules {
		if (ip == m.Path || strings.HasPrefix(ip, m.Path+"/")) && len(m.Path) > len(best) {
			best = m.Path
		}
	}
	return best
}

// matchedByAll reports whether the go command's "all" (and ./...) matches
// the main module's package ip: not below a directory named testdata or
// starting with "." or "_", which only an import reaches.
func matchedByAll(main, ip string) bool {
	rel := strings.TrimPrefix(strings.TrimPrefix(ip, main), "/")
	for _, e := range strings.Split(rel, "/") {
		if e == "testdata" || strings.HasPrefix(e, ".") || strings.HasPrefix(e, "_") {
			return false
		}
	}
	return true
}

// walkLess orders import paths as a directory walk visits them: element by
// element, so that a/b comes before a-c.
func walkLess(a, b string) bool {
	ea, eb := strings.Split(a, "/"), strings.Split(b, "/")
	for i := 0; i < len(ea) && i < len(eb); i++ {
		if ea[i] != eb[i] {
			return ea[i] < eb[i]
		}
	}
	return len(ea) < len(eb)
}

// walk is the go command's breadth-first search for `go mod why` (modload's
// buildStacks over the packages of "all" with their tests): from the main
// module's packages, each package's imports in order, then its test when
// the package is in "all" (the main module's packages, what they and their
// tests import, and so on); a dependency's test is followed but its
// imports' tests are not. The first visit fixes a package's stack. A test
// is written "pkg.test", as `go mod why` prints it.
func (pg *pkgGraph) walk() {
	type node struct {
		path string
		test bool
	}
	inAll := pg.all()
	pg.stack = map[string][]string{}
	seen := map[node]bool{}
	parent := map[node]node{}
	var queue []node
	for _, r := range pg.roots {
		seen[node{path: r}] = true
		queue = append(queue, node{path: r})
	}
	for i := 0; i < len(queue); i++ {
		n := queue[i]
		p := pg.pkgs[n.path]
		if p == nil {
			continue
		}
		imports := p.Imports
		if n.test {
			imports = p.TestImports
		} else {
			pg.stack[n.path] = stackOf(n.path, func(ip string, test bool) (string, bool, bool) {
				pn, ok := parent[node{ip, test}]
				return pn.path, pn.test, ok
			}, n.test)
		}
		for _, imp := range imports {
			if !n.test && inAll[n.path] || n.test && p.Module == pg.main {
				pg.addImporter(p.Module, imp)
			}
			if next := (node{path: imp}); !seen[next] {
				seen[next], parent[next] = true, n
				queue = append(queue, next)
			}
		}
		if t := (node{n.path, true}); !n.test && inAll[n.path] && p.Module != "" && !seen[t] {
			seen[t], parent[t] = true, n
			queue = append(queue, t)
		}
	}
}

// stackOf follows parent links from a node back to a root and returns the
// stack root first, a test written "pkg.test".
func stackOf(ip string, parent func(string, bool) (string, bool, bool), test bool) []string {
	var s []string
	for {
		if test {
			s = append(s, ip+".test")
		} else {
			s = append(s, ip)
		}
		pip, ptest, ok := parent(ip, test)
		if !ok {
			break
		}
		ip, test = pip, ptest
	}
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
	return s
}

// all returns the packages of "all": the main module's packages and what
// they and their tests import, transitively (the tests of other packages
// are not part of it).
func (pg *pkgGraph) all() map[string]bool {
	in := map[string]bool{}
	queue := append([]string(nil), pg.roots...)
	for _, r := range pg.roots {
		in[r] = true
	}
	for i := 0; i < len(queue); i++ {
		p := pg.pkgs[queue[i]]
		if p == nil {
			continue
		}
		imports := p.Imports
		if p.Module == pg.main {
			imports = append(append([]string(nil), imports...), p.TestImports...)
		}
		for _, imp := range imports {
			if !in[imp] {
				in[imp] = true
				queue = append(queue, imp)
			}
		}
	}
	return in
}

func (pg *pkgGraph) addImporter(from, imp string) {
	q := pg.pkgs[imp]
	if q == nil || q.Module == "" || from == "" || q.Module == from {
		return
	}
	if pg.importers[q.Module] == nil {
		pg.importers[q.Module] = map[string]bool{}
	}
	pg.importers[q.Module][from] = true
}

// why returns the import stack of the package of module path that is
// nearest to the main module's packages, ties broken by the package path,
// as `go mod why -m` chooses it; nil when no package of path is reached.
func (pg *pkgGraph) why(path string) []string {
	b, ok := pg.best[path]
	if !ok {
		return nil
	}
	return pg.stack[b]
}

// pickBest records, per module, its package nearest the roots (computed
// once, so that Chain is safe for concurrent use).
func (pg *pkgGraph) pickBest() {
	pg.best = map[string]string{}
	for ip, s := range pg.stack {
		m := pg.pkgs[ip].Module
		if m == "" {
			continue
		}
		b, ok := pg.best[m]
		if !ok || len(s) < len(pg.stack[b]) || len(s) == len(pg.stack[b]) && ip < b {
			pg.best[m] = ip
		}
	}
}

// moduleChain maps an import stack to the modules it passes through, the
// main module first, repeated modules in a row written once.
func (pg *pkgGraph) moduleChain(stack []string) []string {
	var out []string
	for _, ip := range stack {
		p := pg.pkgs[strings.TrimSuffix(ip, ".test")]
		if p == nil || p.Module == "" {
			continue
		}
		if len(out) == 0 || out[len(out)-1] != p.Module {
			out = append(out, p.Module)
		}
	}
	return out
}

// Why returns the import stack that brings a package of module path into
// the module's packages or tests, the way `go mod why -m path` prints it:
// a package of the main module first (a test written "pkg.test"), the
// package of path last. It returns nil when no package of path is linked
// or the packages were not listed.
func (g *Graph) Why(path string) []string {
	if g.pkgs == nil {
		return nil
	}
	return append([]string(nil), g.pkgs.why(path)...)
}

// Importers returns the modules, sorted, with a package that imports a
// package of path in the module's build (its packages, their
// dependencies and the tests of its own packages). Without a package
// listing it returns what the requirement graph can tell: the linked
// modules whose selected version requires path, and the main module when
// its go.mod requires path directly (an "// indirect" line records a
// module for graph pruning, not an import).
func (g *Graph) Importers(path string) []string {
	var out []string
	if g.pkgs != nil {
		for m := range g.pkgs.importers[path] {
			out = append(out, m)
		}
	} else {
		for from, reqs := range g.Requires {
			if from != g.Main && !g.IsLinked(from) {
				continue
			}
			for _, r := range reqs {
				if r.Path == path && from != path && !(from == g.Main && r.Indirect) {
					out = append(out, from)
					break
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// listedPackage is one entry of go list -deps -test -json.
type listedPackage struct {
	ImportPath   string
	Dir          string
	ForTest      string
	Module       *struct{ Path string }
	Error        *struct{ Err string }
	DepsErrors   []*struct{ Err string }
	Imports      []string
	TestImports  []string
	XTestImports []string
}

// parsePackages reads the package listing: the packages (test variants
// folded into the packages they are variants of) and their directories,
// the first package error, and the packages the go command found in more
// than one module.
func parsePackages(out []byte) (pkgs []Package, dirs map[string]string, first error, ambiguous map[string][]string, err error) {
	byPath := map[string]*Package{}
	dirs = map[string]string{}
	var order []string
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			return nil, nil, nil, nil, err
		}
		if p.Error != nil {
			if first == nil {
				first = fmt.Errorf("%s: %s", p.ImportPath, p.Error.Err)
			}
			if pkg, mods := parseAmbiguous(p.Error.Err); pkg != "" {
				if ambiguous == nil {
					ambiguous = map[string][]string{}
				}
				ambiguous[pkg] = mods
			}
		}
		path := variantBase(p.ImportPath)
		switch {
		case p.ForTest == "" && strings.HasSuffix(path, ".test"):
			continue // a test main
		case p.ForTest != "" && (path == p.ForTest || path == p.ForTest+"_test"):
			continue // a package's own test variants: its TestImports and XTestImports
		case p.ForTest != "" && byPath[path] != nil:
			continue // a variant of a package listed already
		}
		pkg := &Package{ImportPath: path, Imports: stripVariants(p.Imports)}
		if p.Module != nil {
			pkg.Module = p.Module.Path
		}
		pkg.TestImports = mergeSorted(stripVariants(p.TestImports), stripVariants(p.XTestImports))
		if byPath[path] == nil {
			order = append(order, path)
		}
		byPath[path] = pkg
		if p.Dir != "" && p.ForTest == "" {
			dirs[path] = p.Dir
		}
	}
	for _, ip := range order {
		pkgs = append(pkgs, *byPath[ip])
	}
	return pkgs, dirs, first, ambiguous, nil
}

// variantBase strips the " [p.test]" suffix of a test variant.
func variantBase(ip string) string {
	if i := strings.Index(ip, " ["); i >= 0 {
		return ip[:i]
	}
	return ip
}

func stripVariants(ips []string) []string {
	out := make([]string, 0, len(ips))
	for _, ip := range ips {
		out = append(out, variantBase(ip))
	}
	return out
}

// mergeSorted returns the sorted union of a and b without duplicates.
func mergeSorted(a, b []string) []string {
	set := map[string]bool{}
	for _, s := range append(append([]string(nil), a...), b...) {
		set[s] = true
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// parseAmbiguous reads the go command's "ambiguous import: found package P
// in multiple modules:" error: the package and the module paths listed
// under it.
func parseAmbiguous(msg string) (pkg string, mods []string) {
	const head = "ambiguous import: found package "
	i := strings.Index(msg, head)
	if i < 0 {
		return "", nil
	}
	rest := msg[i+len(head):]
	pkg, rest, ok := strings.Cut(rest, " in multiple modules:")
	if !ok {
		return "", nil
	}
	for _, l := range strings.Split(rest, "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			mods = append(mods, f[0])
		}
	}
	return pkg, mods
}
