package cache

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/modhygiene/modhygiene/internal/cache/store"
)

// Manifest is the entry stored under a cache's whole key: the list of its
// shards and their sums.
type Manifest struct {
	Format  string       `json:"format"`
	Key     string       `json:"key"`
	Created time.Time    `json:"created"`
	Shards  []ShardEntry `json:"shards"`
}

// ShardEntry is one shard of a Manifest.
type ShardEntry struct {
	Key string `json:"key"`
	// SHA256 is the hex SHA-256 of the stored archive.
	SHA256 string `json:"sha256"`
	// Size is the archive's size in bytes.
	Size int64 `json:"size"`
	// Files is the number of files in the archive; 0 means unknown.
	Files int `json:"files"`
	// Unpacked is the size of the archive's tar stream, headers included;
	// 0 means unknown. A restore unpacks no more than this.
	Unpacked int64 `json:"unpacked,omitempty"`
}

const maxManifest = 4 << 20

func readManifest(e *store.Entry) (*Manifest, error) {
	defer e.Body.Close()
	data, err := io.ReadAll(io.LimitReader(e.Body, maxManifest+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxManifest {
		return nil, errors.New("manifest too large")
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("manifest %s: %w", e.Key, err)
	}
	if m.Format != Format {
		return nil, fmt.Errorf("manifest %s: format %q, want %q", e.Key, m.Format, Format)
	}
	if m.Key != e.Key {
		return nil, fmt.Errorf("manifest %s: says it is %s", e.Key, m.Key)
	}
	for _, s := range m.Shards {
		if err := store.CheckKey(s.Key); err != nil {
			return nil, fmt.Errorf("manifest %s: %w", e.Key, err)
		}
		if s.Size <= 0 || s.Files < 0 || s.Unpacked < 0 {
			return nil, fmt.Errorf("manifest %s: shard %s has an invalid size", e.Key, s.Key)
		}
		if len(s.SHA256) != 64 {
			return nil, fmt.Errorf("manifest %s: shard %s has no sha256", e.Key, s.Key)
		}
	}
	return &m, nil
}
