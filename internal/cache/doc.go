// Package cache saves and restores Go's module cache (and optionally the
// build cache) as keyed, sharded, pruned tar+zstd archives in a store.Store.
//
// The module cache is keyed by the union of the go.sum and go.work.sum lines
// of the repository's modules: it is independent of the OS and of the Go
// version. Only the module versions those lines name are saved, so a
// fallback restore can never make the cache grow run after run. The module
// versions are split into stable shards by module path; each shard is its
// own entry, keyed by its own go.sum lines, so a dependency bump uploads one
// shard. A small manifest under the whole key lists the shards with their
// SHA-256 sums.
//
// Restoring trusts nothing it reads from the store. It checks every
// archive entry (no absolute paths, no "..", no links, no sparse or special
// files, within an unpack budget), writes only the units of module versions
// that the go.sum lines name, hashes each of them as it streams in the way
// the go command does (golang.org/x/mod/sumdb/dirhash), and moves into
// place only the versions whose units match go.sum, skipping files that
// already exist; a version that does not match is left out with a warning.
// A corrupt, truncated or hostile archive is a miss and leaves the cache as
// it was. Build cache entries cannot be checked this way (docs/cache.md).
package cache
