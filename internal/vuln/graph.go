package vuln

import (
	"context"
	"errors"
	"path/filepath"

	"github.com/modhygiene/modhygiene/internal/modgraph"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

// graph returns the module graph of m: the one given in Options.Graphs,
// else one loaded offline the way check loads it, on its own (GOWORK=off)
// and, when that fails, in the go.work workspace the environment names.
func (s *scanner) graph(ctx context.Context, m *workspace.Module) (*modgraph.Graph, error) {
	if g := s.graphs[filepath.Clean(m.Dir)]; g != nil {
		return g, nil
	}
	if s.opts.Runner == nil {
		return nil, errors.New("no go command to load the module graph with")
	}
	g, err := modgraph.Load(ctx, s.opts.Runner, m.Dir, modgraph.Options{Env: []string{"GOWORK=off"}})
	if err == nil || ctx.Err() != nil {
		return g, err
	}
	if wg, werr := modgraph.Load(ctx, s.opts.Runner, m.Dir, modgraph.Options{}); werr == nil {
		return wg, nil
	}
	return nil, err
}
