package vuln

import (
	"bufio"
	"bytes"
	"context"
	"strings"

	"github.com/modhygiene/modhygiene/internal/gocmd"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

// modGraph is a module requirement graph from `go mod graph`, by module
// path (versions dropped: a path is enough to name the way in).
type modGraph struct {
	root  string
	edges map[string][]string
	// indirect are the main module's requirements to try last.
	indirect map[string]bool
}

// moduleGraph runs `go mod graph` in dir.
func moduleGraph(ctx context.Context, r *gocmd.Runner, dir string) (*modGraph, error) {
	res, err := r.Run(ctx, dir, "mod", "graph")
	if err != nil {
		return nil, err
	}
	return parseGraph(res.Stdout), nil
}

// parseGraph parses the output of `go mod graph`: one "from to" edge a
// line, each a path@version except the main module, which has no version.
func parseGraph(data []byte) *modGraph {
	g := &modGraph{edges: map[string][]string{}}
	seen := map[[2]string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		from, to, ok := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		if !ok {
			continue
		}
		if g.root == "" && !strings.Contains(from, "@") {
			g.root = from
		}
		fp, _, _ := strings.Cut(from, "@")
		tp, _, _ := strings.Cut(to, "@")
		if fp == tp || tp == "go" || tp == "toolchain" || seen[[2]string{fp, tp}] {
			continue
		}
		seen[[2]string{fp, tp}] = true
		g.edges[fp] = append(g.edges[fp], tp)
	}
	return g
}

// skipIndirect makes path prefer a way in through other modules over the
// main module's "// indirect" requirements, which only record a version.
func (g *modGraph) skipIndirect(m *workspace.Module) {
	if m.File == nil {
		return
	}
	g.indirect = map[string]bool{}
	for _, r := range m.File.Require {
		if r.Indirect {
			g.indirect[r.Mod.Path] = true
		}
	}
}

// path returns a shortest requirement path from the main module to target,
// main module first, or nil when target is not in the graph.
func (g *modGraph) path(target string) []string {
	if g.root == "" {
		return nil
	}
	if len(g.indirect) > 0 {
		if p := g.bfs(target, g.indirect); p != nil {
			return p
		}
	}
	return g.bfs(target, nil)
}

// bfs searches breadth first, without the main module's edges to skip.
func (g *modGraph) bfs(target string, skip map[string]bool) []string {
	prev := map[string]string{g.root: ""}
	queue := []string{g.root}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		if cur == target {
			var p []string
			for n := cur; n != ""; n = prev[n] {
				p = append([]string{n}, p...)
			}
			return p
		}
		for _, next := range g.edges[cur] {
			if cur == g.root && skip[next] {
				continue
			}
			if _, ok := prev[next]; !ok {
				prev[next] = cur
				queue = append(queue, next)
			}
		}
	}
	return nil
}
