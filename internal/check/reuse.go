package check

import (
	"context"
	"sort"
	"sync"

	"github.com/modhygiene/modhygiene/internal/gocmd"
	"github.com/modhygiene/modhygiene/internal/modgraph"
	"github.com/modhygiene/modhygiene/internal/tidy"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

// listings reuses the package listings of modules whose inputs are
// unchanged since check last listed them: the keys are tidy's listing keys
// (tidy.ListingKeys), the listings live in a modgraph.ListingStore.
type listings struct {
	*modgraph.ListingStore
	keys *tidy.ListingKeys
	mods map[string]*workspace.Module

	mu sync.Mutex
	// kept are the keys of the listings that the store holds for this
	// run's modules: reused or just put.
	kept []string
}

// openListings returns the listings kept in dir for the modules of ws,
// nil when dir is "" or the go command's settings cannot be read (without
// them no key can be trusted).
func openListings(ctx context.Context, r *gocmd.Runner, ws *workspace.Workspace, dir string) *listings {
	if dir == "" {
		return nil
	}
	goenv, err := r.GoEnv(ctx, ws.Root, tidy.ListingEnv...)
	if err != nil {
		return nil
	}
	l := &listings{ListingStore: &modgraph.ListingStore{Dir: dir}, keys: tidy.NewListingKeys(dir, goenv), mods: map[string]*workspace.Module{}}
	for _, m := range ws.Modules {
		l.mods[m.Dir] = m
	}
	return l
}

// Key returns the key of the listing of the module in dir.
func (l *listings) Key(dir string) string {
	if m := l.mods[dir]; m != nil {
		return l.keys.Key(m)
	}
	return ""
}

// Get is ListingStore.Get, recording the keys found.
func (l *listings) Get(key string) ([]modgraph.Package, bool) {
	pkgs, ok := l.ListingStore.Get(key)
	if ok {
		l.keep(key)
	}
	return pkgs, ok
}

// Put is ListingStore.Put, recording the key.
func (l *listings) Put(key string, pkgs []modgraph.Package) {
	l.ListingStore.Put(key, pkgs)
	l.keep(key)
}

func (l *listings) keep(key string) {
	l.mu.Lock()
	l.kept = append(l.kept, key)
	l.mu.Unlock()
}

// close saves the stat cache and prunes the store.
func (l *listings) close() {
	l.keys.Save()
	l.Prune()
}

// keptKeys returns the keys of the listings kept for this run's modules,
// sorted.
func (l *listings) keptKeys() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	keys := append([]string(nil), l.kept...)
	sort.Strings(keys)
	return keys
}

// reused counts the graphs whose packages were reused.
func reused(graphs []*modgraph.Graph) int {
	n := 0
	for _, g := range graphs {
		if g != nil && g.Reused {
			n++
		}
	}
	return n
}
