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
// Restoring checks every archive entry (no absolute paths, no "..", no
// links leaving the target, a size cap), unpacks into a temporary directory
// inside the cache, verifies the sums, and only then moves the new files into
// place, skipping files that already exist. A corrupt, truncated or hostile
// archive is a miss and leaves the cache as it was.
package cache
