package modgraph

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/mod/modfile"

	"github.com/modhygiene/modhygiene/internal/gocmd"
)

// Query resolves module queries (path@version, path@latest) with one go
// command in dir:
//
//	go list -mod=readonly -m -e -json QUERY...
//
// It returns the resolved module of each query, keyed by the query as
// given; a query the go command could not resolve (unknown to the proxy,
// the network down) maps to a Module with Error set. The go.mod of each
// resolved version lands in the module cache, so ReadRequirements(GoMod)
// gives its requirements. A nil error means the go command ran; the
// caller decides what an unresolved query means.
func Query(ctx context.Context, r *gocmd.Runner, dir string, env []string, queries []string) (map[string]*Module, error) {
	if len(queries) == 0 {
		return map[string]*Module{}, nil
	}
	seen := map[string]bool{}
	var qs []string
	for _, q := range queries {
		if !seen[q] {
			seen[q] = true
			qs = append(qs, q)
		}
	}
	sort.Strings(qs)
	args := append([]string{"list", "-mod=readonly", "-m", "-e", "-json"}, qs...)
	res, err := r.Do(ctx, gocmd.Call{Dir: dir, Args: args, Env: env})
	if err != nil {
		return nil, err
	}
	out := make(map[string]*Module, len(qs))
	dec := json.NewDecoder(bytes.NewReader(res.Stdout))
	for i := 0; ; i++ {
		var m struct {
			Module
			Query string `json:"Query,omitempty"`
		}
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("go list -m in %s: %w", dir, err)
		}
		if i >= len(qs) {
			break
		}
		// The go command answers the queries in order, one object each.
		mod := m.Module
		if p, _, _ := strings.Cut(qs[i], "@"); p != mod.Path {
			return nil, fmt.Errorf("go list -m in %s: answer %q for query %q", dir, mod.Path, qs[i])
		}
		out[qs[i]] = &mod
	}
	for _, q := range qs {
		if out[q] == nil {
			out[q] = &Module{Error: &ModuleError{Err: "no answer from go list -m"}}
		}
	}
	return out, nil
}

// ReadRequirements returns the require lines of the go.mod file at gomod,
// or nil when it cannot be read or parsed.
func ReadRequirements(gomod string) []Requirement { return parseRequires(gomod) }

// ReadGoVersion returns the go line of the go.mod file at gomod, or ""
// when it has none or cannot be read. (go list -m leaves GoVersion out
// for a version that needs a newer Go than the one running.)
func ReadGoVersion(gomod string) string {
	data, err := os.ReadFile(gomod)
	if err != nil {
		return ""
	}
	f, err := modfile.ParseLax(filepath.Base(gomod), data, nil)
	if err != nil || f.Go == nil {
		return ""
	}
	return f.Go.Version
}
