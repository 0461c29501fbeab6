package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"strings"
)

// Format is the version of the archive and manifest layout. It is part of
// every key, so a change of layout never reads an old entry.
const Format = "v1"

// DefaultShards is the number of shards of the module cache; see
// docs/cache.md for the measurements behind it.
const DefaultShards = 16

// ModPrefix starts every module cache manifest key; restore falls back to
// the newest manifest with this prefix.
const ModPrefix = "modhygiene-gomod-" + Format + "-m-"

// Shard is one part of the module cache.
type Shard struct {
	// Index is the shard's number, from 0.
	Index int
	// Key is the shard's entry key, made from its own go.sum lines.
	Key string
	// Versions are the module versions whose paths fall in this shard.
	Versions []Version
	// Lines are the shard's go.sum lines.
	Lines []string
}

// Keys are the keys of one state of the module cache.
type Keys struct {
	// Module is the key of the module cache manifest.
	Module string
	// Prefixes are the restore prefixes tried, in order, when Module is absent.
	Prefixes []string
	// Shards are the shards, Shards[i].Index == i.
	Shards []Shard
}

// ModuleKeys computes the keys of the module cache described by sorted,
// de-duplicated go.sum lines (see SumLines), split into n shards.
func ModuleKeys(lines []string, n int) *Keys {
	if n < 1 {
		n = 1
	}
	k := &Keys{Module: ModPrefix + hashLines(lines), Prefixes: []string{ModPrefix}}
	k.Shards = make([]Shard, n)
	for i := range k.Shards {
		k.Shards[i].Index = i
	}
	for _, l := range lines {
		i := ShardOf(linePath(l), n)
		k.Shards[i].Lines = append(k.Shards[i].Lines, l)
	}
	for i := range k.Shards {
		s := &k.Shards[i]
		s.Versions = Versions(s.Lines)
		s.Key = fmt.Sprintf("modhygiene-gomod-%s-s%d.%d-%s", Format, n, i, hashLines(s.Lines))
	}
	return k
}

// ShardOf returns the shard of a module path among n: a stable hash of the
// path, so a module stays in its shard whatever else changes.
func ShardOf(path string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(path))
	return int(h.Sum32() % uint32(n))
}

// BuildKeys returns the key and restore prefix of the build cache: by Go
// version, GOOS and GOARCH, and the module cache's inputs.
func BuildKeys(goVersion, goos, goarch string, lines []string) (key string, prefix string) {
	prefix = fmt.Sprintf("modhygiene-gobuild-%s-m-%s-%s-%s-", Format, sanitize(goVersion), sanitize(goos), sanitize(goarch))
	return prefix + hashLines(lines), prefix
}

func hashLines(lines []string) string {
	h := sha256.New()
	for _, l := range lines {
		h.Write([]byte(l))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' {
			return r
		}
		return '_'
	}, s)
}
