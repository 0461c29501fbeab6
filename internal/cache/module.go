package cache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// ModuleSet returns the module cache at root (GOMODCACHE) as a Set with the
// keys k. Only the module versions k names are part of it: the pruned
// cache; a restore checks every unit against the go.sum hashes of k.
// Computing the units reads the directory, so call it just before saving.
func ModuleSet(root string, k *Keys) *Set {
	set := &Set{Name: "module cache", Root: root, Key: k.Module, Prefixes: k.Prefixes}
	var lines []string
	for _, sh := range k.Shards {
		lines = append(lines, sh.Lines...)
	}
	set.Sums = NewSums(lines)
	for _, sh := range k.Shards {
		ss := SetShard{Key: sh.Key}
		for _, v := range sh.Versions {
			ss.Units = append(ss.Units, units(root, v)...)
		}
		set.Shards = append(set.Shards, ss)
	}
	return set
}

// BuildMarker is the file, in GOCACHE, whose time records the last restore.
const BuildMarker = "modhygiene-restored"

// buildTouch is how old restored build cache files are made: more than the
// hour after which the go command refreshes the time of an entry it uses.
const buildTouch = 2 * time.Hour

// BuildSet returns the build cache at root (GOCACHE) as a Set. Its key is
// prefix followed by a hash of the go.sum lines and of the names of the
// entries saved, so a changed cache is saved anew. When a restore left its
// marker, only entries used or made since then are saved.
func BuildSet(root, prefix string, lines []string) (*Set, error) {
	set := &Set{Name: "build cache", Root: root, Prefixes: []string{prefix}, Touch: buildTouch}
	var since time.Time
	if fi, err := os.Stat(filepath.Join(root, BuildMarker)); err == nil {
		since = fi.ModTime().Add(-time.Minute)
	}
	var names []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			if p != root && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || d.Name() == BuildMarker {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		if !since.IsZero() {
			fi, err := d.Info()
			if err != nil || fi.ModTime().Before(since) {
				return nil
			}
		}
		names = append(names, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	set.Key = prefix + hashLines(append(append([]string(nil), lines...), names...))
	set.Shards = []SetShard{{Key: strings.Replace(set.Key, "-m-", "-d-", 1), Units: names}}
	return set, nil
}

// BuildRestoreSet returns the Set used to restore the build cache: any
// entry with prefix, newest first.
func BuildRestoreSet(root, prefix string, lines []string) *Set {
	return &Set{Name: "build cache", Root: root, Key: prefix + hashLines(lines), Prefixes: []string{prefix}, Touch: buildTouch}
}

// MarkRestored records the time of a build cache restore in root.
func MarkRestored(root string) error {
	return os.WriteFile(filepath.Join(root, BuildMarker), []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644)
}

// PruneResult says what Prune removed.
type PruneResult struct {
	// Removed are the removed units, relative to the module cache.
	Removed []string
	// Bytes is their size.
	Bytes int64
}

// Prune removes from the module cache at root every module version that
// keep does not name: extracted trees and cache/download files (a version
// named only by its go.mod keeps its .info and .mod), and the proxy's
// version lists. Other parts of the cache (sumdb, vcs) are left alone. With dryRun nothing is removed.
func Prune(root string, keep []Version, dryRun bool) (*PruneResult, error) {
	type pv struct{ p, v string }
	want := map[pv]Version{}
	for _, v := range keep {
		ep, ev, err := escape(v.Path, v.Version)
		if err != nil {
			continue
		}
		want[pv{ep, ev}] = v
	}
	res := &PruneResult{}
	remove := func(rel string) error {
		p := filepath.Join(root, filepath.FromSlash(rel))
		res.Bytes += duSize(p)
		res.Removed = append(res.Removed, rel)
		if dryRun {
			return nil
		}
		return removeAll(p)
	}
	trees, err := extractedTrees(root)
	if err != nil {
		return nil, err
	}
	for _, t := range trees {
		i := strings.LastIndex(t, "@")
		v, ok := want[pv{t[:i], t[i+1:]}]
		if !ok || v.ModOnly {
			if err := remove(t); err != nil {
				return res, err
			}
		}
	}
	// Downloads: cache/download/PATH/@v/VERSION.EXT.
	dl := filepath.Join(root, "cache", "download")
	err = filepath.WalkDir(dl, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			if p != dl && d.Name() == "sumdb" && filepath.Dir(p) == dl {
				return filepath.SkipDir
			}
			return nil
		}
		if filepath.Base(filepath.Dir(p)) != "@v" {
			return nil
		}
		rel, _ := filepath.Rel(dl, filepath.Dir(filepath.Dir(p)))
		name := d.Name()
		r, _ := filepath.Rel(root, p)
		if name == "list" {
			// The proxy's version list is not a module version; the go
			// command fetches it again when it needs it.
			return remove(filepath.ToSlash(r))
		}
		ext := path.Ext(name)
		switch ext {
		case ".info", ".mod", ".zip", ".ziphash", ".lock", ".partial":
		default:
			return nil // anything unknown stays
		}
		ev := strings.TrimSuffix(name, ext)
		v, ok := want[pv{filepath.ToSlash(rel), ev}]
		if ok && !(v.ModOnly && (ext == ".zip" || ext == ".ziphash")) {
			return nil
		}
		return remove(filepath.ToSlash(r))
	})
	return res, err
}

// extractedTrees lists the extracted module trees of the module cache at
// root: directories below it (outside cache/) whose name holds "@".
func extractedTrees(root string) ([]string, error) {
	var trees []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.IsDir() || p == root {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if rel == "cache" || strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if strings.Contains(d.Name(), "@") {
			trees = append(trees, rel)
			return filepath.SkipDir
		}
		return nil
	})
	return trees, err
}

func duSize(p string) int64 {
	var n int64
	filepath.WalkDir(p, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// ReadSums reads the go.sum and go.work.sum files at paths (absent files
// are skipped) and returns their lines as SumLines does.
func ReadSums(paths []string) ([]string, error) {
	var datas [][]byte
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", p, err)
		}
		datas = append(datas, data)
	}
	return SumLines(datas...), nil
}
