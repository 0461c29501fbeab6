// Package tidy runs `go mod tidy` for every module of a repository in
// parallel, as a check that writes nothing or as a fix that replaces go.mod
// and go.sum atomically.
//
// Check mode runs `go mod tidy -diff`, which exits non-zero both when the
// module is untidy and when tidy cannot run; the two are told apart by the
// diff on stdout. Fix mode runs `go mod tidy -modfile` on copies of go.mod
// and go.sum in the module directory and renames them into place only when
// tidy succeeded, so a failed tidy leaves the module exactly as it was.
//
// A memo under the user cache directory remembers modules found tidy, keyed
// by everything tidy reads: go.mod, go.sum, the header (build constraints,
// package clause, imports) of every .go file, the same for local replace
// targets, the Go version and the relevant environment.
package tidy
