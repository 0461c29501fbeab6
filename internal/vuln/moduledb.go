package vuln

import (
	"context"
	"encoding/json"

	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"

	"github.com/modhygiene/modhygiene/internal/gocmd"
)

// ModuleDB builds a database in the standard layout from the
// golang.org/x/vulndb module, whose data/osv directory holds every entry.
// The module is fetched with `go mod download` through the mirrors of
// GOPROXY, so the database is reachable wherever modules are, and its
// checksum is verified like any module's. The zero value of every field
// but Runner and Dir is the default.
type ModuleDB struct {
	// Runner runs the go command with the invocation's environment.
	Runner *gocmd.Runner
	// Dir is the directory that holds the built databases, one
	// subdirectory per module version, such as
	// $XDG_CACHE_HOME/modhygiene/vulndb. It is created when missing.
	Dir string
	// Module is the module path (VulnDBModule when empty).
	Module string
	// Version is the version or query ("latest" when empty).
	Version string
}

// DB is a database ready to scan with.
type DB struct {
	// Dir is the database directory, in the standard layout.
	Dir string
	// URL is Dir as a file:// URL, for x/vuln's -db flag.
	URL string
	// Version is the module version the database was built from.
	Version string
	// Built is set when this call built the database; otherwise an earlier
	// build of the same version was reused.
	Built bool
	// Stale holds why the module could not be fetched when an earlier
	// build, or a version already in the module cache, is used instead.
	Stale error
}

// downloadJSON is the output of `go mod download -json`.
type downloadJSON struct {
	Path    string
	Version string
	Info    string
	Dir     string
	Error   string
}

// Prepare fetches the module at Version and returns the database built from
// it. The database is rebuilt only when the version changes; older builds
// are removed. When the module cannot be fetched, the newest earlier build
// is returned with Stale set or, without one, the newest version in the
// module cache is built.
func (d *ModuleDB) Prepare(ctx context.Context) (*DB, error) {
	mod, version := d.Module, d.Version
	if mod == "" {
		mod = VulnDBModule
	}
	if version == "" {
		version = "latest"
	}
	if err := os.MkdirAll(d.Dir, 0o755); err != nil {
		return nil, err
	}
	dl, err := d.download(ctx, mod, version)
	var stale error
	if err != nil {
		if prev := d.newest(); prev != "" {
			dir := filepath.Join(d.Dir, prev)
			return &DB{Dir: dir, URL: FileURL(dir), Version: prev, Stale: err}, nil
		}
		// No build yet, but the module cache (restored in CI, say) may
		// hold a version: the go command serves it without the network.
		cached := d.newestCached(ctx, mod)
		if cached == "" {
			return nil, err
		}
		dl, stale = nil, err
		if dl, err = d.download(ctx, mod, cached); err != nil {
			return nil, stale
		}
	}
	if !semver.IsValid(dl.Version) || strings.ContainsAny(dl.Version, `/\`) {
		return nil, fmt.Errorf("%s: go mod download returned version %q", mod, dl.Version)
	}
	dst := filepath.Join(d.Dir, dl.Version)
	db := &DB{Dir: dst, URL: FileURL(dst), Version: dl.Version, Stale: stale}
	if !IsLayout(dst) {
		if err := BuildLayout(filepath.Join(dl.Dir, "data", "osv"), dst, infoTime(dl.Info)); err != nil {
			return nil, fmt.Errorf("building the vulnerability database from %s@%s: %w", mod, dl.Version, err)
		}
		db.Built = true
	}
	d.removeOthers(dl.Version)
	return db, nil
}

func (d *ModuleDB) download(ctx context.Context, mod, version string) (*downloadJSON, error) {
	// The download runs in Dir, under a go.mod of its own, so that neither
	// the repository's go.mod nor a go.work around it is read or changed.
	gomod := filepath.Join(d.Dir, "go.mod")
	if _, err := os.Stat(gomod); err != nil {
		if err := os.WriteFile(gomod, []byte("// Written by modhygiene to fetch the vulnerability database.\nmodule modhygiene-vulndb\n"), 0o644); err != nil {
			return nil, err
		}
	}
	res, err := d.Runner.Do(ctx, gocmd.Call{
		Dir:  d.Dir,
		Args: []string{"mod", "download", "-json", mod + "@" + version},
		Env:  []string{"GOWORK=off"},
	})
	var dl downloadJSON
	if res != nil && len(res.Stdout) > 0 {
		if jerr := json.Unmarshal(res.Stdout, &dl); jerr != nil && err == nil {
			return nil, fmt.Errorf("go mod download -json %s@%s: %w", mod, version, jerr)
		}
	}
	if dl.Error != "" {
		return nil, fmt.Errorf("fetching %s@%s: %s", mod, version, dl.Error)
	}
	if err != nil {
		return nil, fmt.Errorf("fetching %s@%s: %w", mod, version, err)
	}
	if dl.Dir == "" {
		return nil, fmt.Errorf("fetching %s@%s: go mod download gave no directory", mod, version)
	}
	return &dl, nil
}

// newestCached returns the newest version of mod whose zip is in the
// module cache, or "".
func (d *ModuleDB) newestCached(ctx context.Context, mod string) string {
	env, err := d.Runner.GoEnv(ctx, d.Dir, "GOMODCACHE")
	if err != nil || env["GOMODCACHE"] == "" {
		return ""
	}
	esc, err := module.EscapePath(mod)
	if err != nil {
		return ""
	}
	zips, _ := filepath.Glob(filepath.Join(env["GOMODCACHE"], "cache", "download", filepath.FromSlash(esc), "@v", "*.zip"))
	best := ""
	for _, z := range zips {
		v, err := module.UnescapeVersion(strings.TrimSuffix(filepath.Base(z), ".zip"))
		if err == nil && semver.IsValid(v) && (best == "" || semver.Compare(v, best) > 0) {
			best = v
		}
	}
	return best
}

// infoTime returns the time in a module's .info file, or the zero time.
func infoTime(path string) time.Time {
	data, err := os.ReadFile(path)
	if err != nil {
		return time.Time{}
	}
	var info struct{ Time time.Time }
	if json.Unmarshal(data, &info) != nil {
		return time.Time{}
	}
	return info.Time
}

// builds lists the versions built in Dir, newest first.
func (d *ModuleDB) builds() []string {
	ents, err := os.ReadDir(d.Dir)
	if err != nil {
		return nil
	}
	var vs []string
	for _, e := range ents {
		if e.IsDir() && semver.IsValid(e.Name()) && IsLayout(filepath.Join(d.Dir, e.Name())) {
			vs = append(vs, e.Name())
		}
	}
	sort.Slice(vs, func(i, j int) bool { return semver.Compare(vs[i], vs[j]) > 0 })
	return vs
}

func (d *ModuleDB) newest() string {
	if vs := d.builds(); len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// removeOthers deletes builds of other versions and leftovers of
// interrupted builds older than an hour. Failures are ignored: a stale
// directory costs only space.
func (d *ModuleDB) removeOthers(keep string) {
	ents, err := os.ReadDir(d.Dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		name := e.Name()
		switch {
		case !e.IsDir() || name == keep:
		case semver.IsValid(name):
			os.RemoveAll(filepath.Join(d.Dir, name))
		case strings.HasPrefix(name, ".build-"):
			if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > time.Hour {
				os.RemoveAll(filepath.Join(d.Dir, name))
			}
		}
	}
}
