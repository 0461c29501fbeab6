// Package store defines where modhygiene keeps cache entries. Each backend
// lives in its own package: local (a directory), github (the Actions cache
// service) and s3 (any S3-compatible object store).
package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrNotFound is returned by Open when no entry matches.
var ErrNotFound = errors.New("cache entry not found")

// ErrExists is returned by Put when an entry with the key already exists or
// is being written by someone else. Entries are immutable, so this is a
// benign conflict: another job saved the same content.
var ErrExists = errors.New("cache entry already exists")

// Entry is an entry being read.
type Entry struct {
	// Key is the key of the entry found: the key asked for, or a key that
	// starts with one of the prefixes.
	Key string
	// Size is the entry's size in bytes, or -1 when unknown.
	Size int64
	// Body streams the content; the caller closes it.
	Body io.ReadCloser
}

// Store keeps immutable entries under keys.
//
// Keys are made by the cache package from the characters [A-Za-z0-9._-];
// a Store may refuse others. Implementations are safe for concurrent use by
// several goroutines and by several processes: two writers of one key both
// succeed or one gets ErrExists, and a reader never sees a half-written
// entry. Every error other than ErrNotFound and ErrExists is a store problem
// that the caller reports as a warning and treats as a miss.
type Store interface {
	// Open returns the entry with exactly key or, when there is none, the
	// newest entry whose key starts with the first prefix that matches any,
	// tried in order. It returns ErrNotFound when nothing matches.
	Open(ctx context.Context, key string, prefixes ...string) (*Entry, error)
	// Put stores body under key and returns the number of bytes stored. The
	// body is streamed: its size need not be known in advance. Put returns
	// ErrExists when key is already present.
	Put(ctx context.Context, key string, body io.Reader) (int64, error)
	// String describes the store for messages, without secrets.
	String() string
}

// CheckKey reports whether key is a valid key.
func CheckKey(key string) error {
	if key == "" || len(key) > 512 || strings.HasPrefix(key, ".") {
		return fmt.Errorf("invalid cache key %q", key)
	}
	for _, r := range key {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Errorf("invalid cache key %q", key)
		}
	}
	return nil
}

// Checker is implemented by stores that can tell whether an exact key is
// present without reading it. Save uses it before reusing a shard that the
// previous manifest lists, so that a shard the store evicted is uploaded
// again instead of being missed by every later restore. On the Actions
// cache a lookup also counts as a use for its eviction order.
type Checker interface {
	// Exists reports whether key is present.
	Exists(ctx context.Context, key string) (bool, error)
}
