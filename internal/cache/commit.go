package cache

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// commit moves the units of u into root. A unit that already exists in root
// is left alone (the module cache's files are read-only and immutable), so
// a restore over an existing cache only adds what is missing. Directory
// modes recorded in the archive are applied after the move. When touch is
// not zero, moved files get it as their modification time.
func commit(u *unpacked, root string, touch time.Time) (moved, skipped int, err error) {
	byUnit := map[string][]string{}
	for d := range u.modes {
		un := unitOf(d)
		byUnit[un] = append(byUnit[un], d)
	}
	for _, un := range u.units {
		src := filepath.Join(u.dir, filepath.FromSlash(un))
		dst := filepath.Join(root, filepath.FromSlash(un))
		if _, err := os.Lstat(dst); err == nil {
			skipped++
			continue
		} else if !errors.Is(err, fs.ErrNotExist) {
			return moved, skipped, err
		}
		if !touch.IsZero() {
			filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
				if err == nil && d.Type().IsRegular() {
					os.Chtimes(p, touch, touch)
				}
				return nil
			})
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o777); err != nil {
			return moved, skipped, err
		}
		if err := os.Rename(src, dst); err != nil {
			if _, serr := os.Lstat(dst); serr == nil {
				// Someone else (the go command, another restore) made it first.
				skipped++
				continue
			}
			return moved, skipped, err
		}
		moved++
		dirs := byUnit[un]
		// Deepest first, so that a read-only parent is set last.
		sort.Slice(dirs, func(i, j int) bool { return strings.Count(dirs[i], "/") > strings.Count(dirs[j], "/") })
		for _, d := range dirs {
			if err := os.Chmod(filepath.Join(root, filepath.FromSlash(d)), fs.FileMode(u.modes[d])); err != nil {
				return moved, skipped, err
			}
		}
	}
	return moved, skipped, nil
}

// removeAll removes a tree that may hold read-only directories.
func removeAll(dir string) error {
	if err := os.RemoveAll(dir); err == nil {
		return nil
	}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o755)
		}
		return nil
	})
	return os.RemoveAll(dir)
}
