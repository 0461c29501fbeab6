package vuln

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/semver"
)

// The standard layout of a Go vulnerability database, as x/vuln's client
// reads it from a file:// URL (golang.org/x/vuln/internal/client):
//
//	index/db.json       {"modified": T}, T the newest entry's modified time
//	index/modules.json  [{"path": P, "vulns": [{"id", "modified", "fixed"}]}],
//	                    sorted by path, vulns by ID; fixed has no "v" prefix
//	ID/<id>.json        the OSV entry
//
// The client decides a database is in this layout when index/modules.json
// exists.

type dbMeta struct {
	Modified time.Time `json:"modified"`
}

type moduleMeta struct {
	Path  string       `json:"path"`
	Vulns []moduleVuln `json:"vulns"`
}

type moduleVuln struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Fixed    string    `json:"fixed,omitempty"`
}

// BuildLayout writes a database in the standard layout at dst from the OSV
// entries (<ID>.json files) directly in src. An entry whose modified time is
// zero (the golang.org/x/vulndb module leaves it unset) is indexed as
// modified at fallback. dst is written as a temporary sibling and renamed
// into place, so a reader never sees a half-written database; when dst
// already holds a database (another process built it first), that one is
// kept.
func BuildLayout(src, dst string, fallback time.Time) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dst), ".build-"+filepath.Base(dst)+"-")
	if err != nil {
		return err
	}
	if err := writeLayout(src, tmp, fallback); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.RemoveAll(tmp)
		if IsLayout(dst) {
			return nil
		}
		return err
	}
	return nil
}

// writeLayout writes the database of the entries in src into the empty
// directory dir.
func writeLayout(src, dir string, fallback time.Time) error {
	names, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, sub := range []string{"ID", "index"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			return err
		}
	}
	ix := &layoutIndex{mods: map[string]*moduleMeta{}}
	for _, d := range names {
		name := d.Name()
		if d.IsDir() || !strings.HasSuffix(name, ".json") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			return err
		}
		if err := ix.add(name, data, fallback); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "ID", name), data, 0o644); err != nil {
			return err
		}
	}
	if ix.count == 0 {
		return fmt.Errorf("%s: no OSV entries (<ID>.json)", src)
	}
	return ix.write(filepath.Join(dir, "index"))
}

// layoutIndex collects index/db.json and index/modules.json.
type layoutIndex struct {
	db    dbMeta
	mods  map[string]*moduleMeta
	count int
}

// add indexes the entry read from the file name.
func (ix *layoutIndex) add(name string, data []byte, fallback time.Time) error {
	var e Entry
	if err := json.Unmarshal(data, &e); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if e.ID+".json" != name || !validID(e.ID) {
		return fmt.Errorf("%s: entry ID %q does not match the file name", name, e.ID)
	}
	if e.Modified.IsZero() {
		e.Modified = fallback
	}
	if e.Modified.After(ix.db.Modified) {
		ix.db.Modified = e.Modified
	}
	for _, a := range e.Affected {
		p := a.Module.Path
		if p == "" {
			continue
		}
		mm := ix.mods[p]
		if mm == nil {
			mm = &moduleMeta{Path: p, Vulns: []moduleVuln{}}
			ix.mods[p] = mm
		}
		mm.Vulns = append(mm.Vulns, moduleVuln{ID: e.ID, Modified: e.Modified, Fixed: nonSupersededFix(a.Ranges)})
	}
	ix.count++
	return nil
}

// write writes modules.json (modules by path, their vulnerabilities by ID)
// and db.json into dir.
func (ix *layoutIndex) write(dir string) error {
	list := make([]*moduleMeta, 0, len(ix.mods))
	for _, mm := range ix.mods {
		sort.SliceStable(mm.Vulns, func(i, j int) bool { return mm.Vulns[i].ID < mm.Vulns[j].ID })
		list = append(list, mm)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Path < list[j].Path })
	if err := writeJSON(filepath.Join(dir, "modules.json"), list); err != nil {
		return err
	}
	return writeJSON(filepath.Join(dir, "db.json"), ix.db)
}

// IsLayout reports whether dir holds a database in the standard layout.
func IsLayout(dir string) bool {
	for _, p := range []string{"index/db.json", "index/modules.json"} {
		if fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(p))); err != nil || !fi.Mode().IsRegular() {
			return false
		}
	}
	fi, err := os.Stat(filepath.Join(dir, "ID"))
	return err == nil && fi.IsDir()
}

func writeJSON(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

// validID accepts IDs that are safe as file names.
func validID(id string) bool {
	if id == "" || id == "." || id == ".." {
		return false
	}
	return !strings.ContainsAny(id, `/\`) && fs.ValidPath(id)
}

// nonSupersededFix returns the newest fixed version of the SEMVER ranges
// that no later introduction re-opens, or "" (x/vuln's
// semver.NonSupersededFix, which its client expects in index/modules.json).
func nonSupersededFix(ranges []Range) string {
	latest := ""
	for _, r := range ranges {
		if r.Type != "SEMVER" {
			continue
		}
		for _, e := range r.Events {
			if e.Fixed != "" && lessVersion(latest, e.Fixed) {
				latest = e.Fixed
			}
		}
		for _, e := range r.Events {
			if e.Introduced != "" && e.Introduced != "0" && lessVersion(latest, e.Introduced) {
				latest = ""
				break
			}
		}
	}
	return latest
}

// lessVersion compares versions with a "v", "go" or no prefix, as x/vuln does.
func lessVersion(a, b string) bool {
	return semver.Compare(canonicalVersion(a), canonicalVersion(b)) < 0
}

func canonicalVersion(s string) string {
	s = strings.TrimPrefix(s, "v")
	s = strings.TrimPrefix(s, "go")
	return "v" + s
}

// errNoLayout is returned when a file:// database is not in the standard layout.
var errNoLayout = errors.New("not a vulnerability database in the standard layout (index/db.json, index/modules.json, ID/<id>.json)")
