package cache

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"golang.org/x/mod/module"
)

// escape returns the module cache's escaped forms of a module path and
// version, refusing anything that could name a path outside the cache.
func escape(p, v string) (string, string, error) {
	ep, err := module.EscapePath(p)
	if err != nil {
		return "", "", err
	}
	ev, err := module.EscapeVersion(v)
	if err != nil {
		return "", "", err
	}
	if !strings.HasPrefix(v, "v") || !filepath.IsLocal(ep) || strings.Contains(ev, "/") || ev == "." || ev == ".." {
		return "", "", errors.New("invalid module version " + p + "@" + v)
	}
	return ep, ev, nil
}

// downloadExts are the files of a version in cache/download/PATH/@v that are
// saved: everything but .partial, the go command's work in progress (the
// empty .lock files are kept so that a restored cache is the same byte for
// byte).
var downloadExts = []string{".info", ".lock", ".mod", ".zip", ".ziphash"}

// units returns the slash-separated paths, relative to the module cache,
// of what exists for v: its cache/download files and its extracted tree.
// A unit is moved into place as a whole on restore.
func units(root string, v Version) []string {
	ep, ev, err := escape(v.Path, v.Version)
	if err != nil {
		return nil
	}
	var out []string
	dl := path.Join("cache/download", ep, "@v")
	for _, ext := range downloadExts {
		if v.ModOnly && (ext == ".zip" || ext == ".ziphash" || ext == ".lock") {
			continue
		}
		u := path.Join(dl, ev+ext)
		if fi, err := os.Lstat(filepath.Join(root, filepath.FromSlash(u))); err == nil && fi.Mode().IsRegular() {
			out = append(out, u)
		}
	}
	if !v.ModOnly {
		u := ep + "@" + ev
		if fi, err := os.Lstat(filepath.Join(root, filepath.FromSlash(u))); err == nil && fi.IsDir() {
			// A tree still being extracted by the go command is left out.
			if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(path.Join(dl, ev+".partial")))); errors.Is(err, fs.ErrNotExist) {
				out = append(out, u)
			}
		}
	}
	return out
}

// unitOf returns the unit an archive entry belongs to: its shortest prefix
// whose last element contains "@" (an extracted module tree), or the entry
// itself (a cache/download file, a build cache file).
func unitOf(name string) string {
	if strings.HasPrefix(name, "cache/") {
		return name
	}
	i := 0
	for {
		j := strings.IndexByte(name[i:], '/')
		elem := name[i:]
		if j >= 0 {
			elem = name[i : i+j]
		}
		if strings.Contains(elem, "@") {
			if j < 0 {
				return name
			}
			return name[:i+j]
		}
		if j < 0 {
			return name
		}
		i += j + 1
	}
}
