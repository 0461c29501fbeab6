// Package tidy runs `go mod tidy` for every module of a repository in
// parallel, as a check that writes nothing or as a fix that replaces go.mod
// and go.sum so that every intermediate state loads.
//
// Check mode runs `go mod tidy -diff`, which exits non-zero both when the
// module is untidy and when tidy cannot run; the two are told apart by the
// diff on stdout. Fix mode runs `go mod tidy -modfile` on copies of go.mod
// and go.sum in the module directory and installs them only when tidy
// succeeded (union go.sum, then go.mod, then the final go.sum), so a failed
// tidy leaves the module exactly as it was and a crash leaves a pair that
// loads.
//
// A Memo remembers modules found tidy, keyed by everything tidy reads:
// go.mod, go.sum, the header (build constraints, package clause, imports)
// of every Go file of the module's packages, the go.mod and headers of its
// local replace targets, the Go version and the environment that changes
// tidy's decisions. Each directory is hashed once per run and keys are
// composed from the directories' digests, so a root module that twenty
// modules replace is read once. Keys hold no absolute path or file time,
// so the memo can be exported (Memo.MarshalEntries) and imported
// (Memo.Import) between CI runs. Beside the memo, a stat cache keyed by
// path, size, times and inode lets a run that finds nothing changed read
// file metadata only.
package tidy
