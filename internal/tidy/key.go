package tidy

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/modhygiene/modhygiene/internal/workspace"
)

// keyVersion changes whenever the key's recipe changes, so that entries
// made by another recipe can never match.
const keyVersion = "modhygiene-tidy-key-3"

// listingKeyVersion is keyVersion for the keys of package listings.
const listingKeyVersion = "modhygiene-listing-key-1"

// memoEnv lists the go command's settings that can change what tidy
// decides: flags, experiments, toolchain selection, module mode and the
// Go version itself. Proxy and checksum settings only change whether tidy
// can run, and a failed tidy is never remembered.
var memoEnv = []string{"GOFLAGS", "GOEXPERIMENT", "GOTOOLCHAIN", "GO111MODULE", "GOVERSION"}

// renderEnv renders the memoEnv values of vals, the go command's view of
// them (`go env`).
func renderEnv(vals map[string]string) string { return renderEnvOf(memoEnv, vals) }

// renderEnvOf renders the values of names in vals, one per line.
func renderEnvOf(names []string, vals map[string]string) string {
	var b strings.Builder
	for _, k := range names {
		fmt.Fprintf(&b, "%s=%s\n", k, vals[k])
	}
	return b.String()
}

// moduleKey composes the memo key of mod from the digests of its own
// directory and of the directories its go.mod replaces it with local
// paths. It returns "" when an input cannot be read: the module is then
// checked and not remembered.
//
// The key covers, besides env: the module's repository-relative directory;
// its go.mod and go.sum; the header of every Go file of its packages (build
// constraints, package clause, imports; tests and every build tag
// included); and for each local replacement its directive as written (the
// relative path) and the target's go.mod and Go file headers. A target's
// go.sum is left out: the go command reads only the main module's.
func moduleKey(h *hasher, env string, mod *workspace.Module) string {
	own := h.dir(mod.Dir)
	if own.err != nil || !own.hasGoMod {
		return ""
	}
	recipe := keyVersion
	if h.listing {
		recipe = listingKeyVersion
	}
	s := sha256.New()
	fmt.Fprintf(s, "%s\n%smodule %s\ngo.mod %x\n", recipe, env, mod.Rel, own.gomod)
	if own.hasGoSum {
		fmt.Fprintf(s, "go.sum %x\n", own.gosum)
	}
	fmt.Fprintf(s, "files %x\n", own.files)
	for _, r := range localReplaces(mod) {
		t := h.dir(r.Dir)
		if absent(t.err) {
			// A guard such as etcd's "=> ./FORBIDDEN_DEPENDENCY": the go
			// command reads the target only if the module is in the
			// graph, and then fails.
			fmt.Fprintf(s, "replace %s absent\n", r.Directive)
			continue
		}
		if t.err != nil {
			return ""
		}
		fmt.Fprintf(s, "replace %s\n", r.Directive)
		if t.hasGoMod {
			fmt.Fprintf(s, "target go.mod %x\n", t.gomod)
		}
		fmt.Fprintf(s, "target files %x\n", t.files)
	}
	return hex.EncodeToString(s.Sum(nil))
}

// absent reports whether err says that a directory does not exist or is
// not a directory.
func absent(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// localReplaces returns mod's replacements by local directories, sorted by
// directive.
func localReplaces(mod *workspace.Module) []workspace.LocalReplace {
	out := mod.LocalReplaces()
	sort.Slice(out, func(i, j int) bool { return out[i].Directive < out[j].Directive })
	return out
}

// sumSize returns the size of mod's go.sum, 0 when it has none.
func sumSize(h *hasher, mod *workspace.Module) int64 {
	if h != nil {
		if d := h.dir(mod.Dir); d.err == nil {
			return d.sumSize
		}
	}
	if fi, err := os.Stat(filepath.Join(mod.Dir, "go.sum")); err == nil {
		return fi.Size()
	}
	return 0
}
