package tidy

import (
	"github.com/modhygiene/modhygiene/internal/workspace"
)

// ListingEnv lists the go command's settings that can change a package
// listing (go list -deps -test): those that change tidy's decisions, and
// the target platform, which decides the files that build.
var ListingEnv = append(append([]string{}, memoEnv...), "GOOS", "GOARCH", "CGO_ENABLED")

// ListingKeys computes the keys under which check remembers a module's
// package listing (`go list -deps -test ./...` and the imports of its files
// under every build tag). A key is composed like a tidy memo key (see
// moduleKey) with another recipe, the settings of ListingEnv, and two more
// inputs a listing reads: a Go file importing "embed" is hashed whole (its
// //go:embed lines), and the names of the other files of each package
// directory (C files without cgo, embedded files) are hashed too. What it
// does not cover: files that an embed pattern reaches in a subdirectory
// the go command does not list (testdata); a change there can only change
// an error the listing reports, and check reuses only listings without
// errors. Safe for concurrent use.
type ListingKeys struct {
	h   *hasher
	env string
}

// NewListingKeys returns the keys for goenv (the go command's values of
// ListingEnv), with a stat cache kept in dir ("" keeps it in memory).
func NewListingKeys(dir string, goenv map[string]string) *ListingKeys {
	h := newHasher(openStatCache(dir))
	h.listing = true
	return &ListingKeys{h: h, env: renderEnvOf(ListingEnv, goenv)}
}

// Key returns the key of mod's package listing, "" when one of its inputs
// cannot be read.
func (k *ListingKeys) Key(mod *workspace.Module) string {
	return moduleKey(k.h, k.env, mod)
}

// Save writes the stat cache, when it changed.
func (k *ListingKeys) Save() error { return k.h.stats.save() }
