// Package workspace finds the Go modules of a repository and parses their
// go.mod files with golang.org/x/mod.
package workspace

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"golang.org/x/mod/modfile"
)

// Module is one module of the repository.
type Module struct {
	// Path is the module path from the module line ("" if go.mod has none).
	Path string
	// Dir is the absolute directory holding go.mod.
	Dir string
	// Rel is Dir relative to the repository root, with forward slashes
	// ("." for the root itself).
	Rel string
	// Data is the content of go.mod as read during discovery.
	Data []byte
	// File is the parsed go.mod, or nil when ParseErr is set.
	File *modfile.File
	// ParseErr is the error from parsing go.mod, kept so that the go command
	// can report it in its own words.
	ParseErr error
}

// GoModFile returns the repository-relative path of go.mod, such as "svc/go.mod".
func (m *Module) GoModFile() string { return relJoin(m.Rel, "go.mod") }

// GoSumFile returns the repository-relative path of go.sum.
func (m *Module) GoSumFile() string { return relJoin(m.Rel, "go.sum") }

// ownPosRE matches a position in a module's go.mod or go.sum as the go
// command prints it from the module directory ("go.mod:3"). A bare
// "go.mod" is left alone: it may be a dependency's ("m@v1.0.0: parsing
// go.mod").
var ownPosRE = regexp.MustCompile(`(^|[\s(])((?:go\.mod|go\.sum):\d+)`)

// RepoPositions makes the positions in m's own go.mod and go.sum that a go
// command message holds repository-relative ("go.mod:3" becomes
// "svc/go.mod:3"), absolute names of them too.
func (m *Module) RepoPositions(s string) string {
	for _, name := range []string{"go.mod", "go.sum"} {
		s = strings.ReplaceAll(s, filepath.Join(m.Dir, name), relJoin(m.Rel, name))
	}
	if m.Rel == "." || m.Rel == "" {
		return s
	}
	return ownPosRE.ReplaceAllString(s, "${1}"+m.Rel+"/${2}")
}

func relJoin(dir, name string) string {
	if dir == "." || dir == "" {
		return name
	}
	return dir + "/" + name
}

// Name returns the module path, or the directory when the path is unknown.
func (m *Module) Name() string {
	if m.Path != "" {
		return m.Path
	}
	return m.Rel
}

// ModuleLine returns the line of the module directive (1 when unknown).
func (m *Module) ModuleLine() int {
	if m.File != nil && m.File.Module != nil && m.File.Module.Syntax != nil {
		return m.File.Module.Syntax.Start.Line
	}
	return 1
}

// RequireLine returns the go.mod line that requires path, or the module line
// when go.mod does not require it (an indirect dependency absent from go.mod).
func (m *Module) RequireLine(path string) int {
	if m.File != nil {
		for _, r := range m.File.Require {
			if r.Mod.Path == path && r.Syntax != nil {
				return r.Syntax.Start.Line
			}
		}
	}
	return m.ModuleLine()
}

// Workspace is the set of modules under a root directory.
type Workspace struct {
	// Root is the absolute directory the search started from (--dir).
	Root string
	// RepoRoot is the absolute directory that file paths in findings are
	// relative to: the nearest directory at or above Root that holds .git,
	// else Root.
	RepoRoot string
	// WorkFile is the path of go.work when the modules came from it.
	WorkFile string
	// Work is the parsed go.work, or nil.
	Work *modfile.WorkFile
	// Modules are sorted by Rel.
	Modules []*Module
	// Unreadable lists the directories below Root that could not be read
	// while looking for modules (a service container's data directory),
	// repository-relative; modules below them are missing from Modules.
	Unreadable []string
}

// ErrNoModule is returned by Discover when the root holds no module.
var ErrNoModule = errors.New("no go.mod found")

// Discover finds the modules under root. With a go.work in root, its use
// entries are the modules; otherwise every go.mod below root, skipping
// vendor, testdata and directories whose names start with "." or "_".
func Discover(root string) (*Workspace, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(abs); err != nil {
		return nil, err
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", root)
	}
	ws := &Workspace{Root: abs, RepoRoot: repoRoot(abs)}
	dirs, err := ws.moduleDirs()
	if err != nil {
		return nil, err
	}
	if len(dirs) == 0 {
		return nil, fmt.Errorf("%w under %s; run inside a Go module or pass --dir", ErrNoModule, abs)
	}
	for _, d := range dirs {
		m, err := ws.load(d)
		if err != nil {
			return nil, err
		}
		ws.Modules = append(ws.Modules, m)
	}
	sort.Slice(ws.Modules, func(i, j int) bool { return ws.Modules[i].Rel < ws.Modules[j].Rel })
	return ws, nil
}

func (ws *Workspace) moduleDirs() ([]string, error) {
	work := filepath.Join(ws.Root, "go.work")
	data, err := os.ReadFile(work)
	if err == nil {
		return ws.workDirs(work, data)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	dirs, unreadable, err := walkModules(os.DirFS(ws.Root))
	ws.Unreadable = unreadable
	abs := make([]string, len(dirs))
	for i, d := range dirs {
		abs[i] = filepath.Join(ws.Root, filepath.FromSlash(d))
	}
	return abs, err
}

func (ws *Workspace) workDirs(path string, data []byte) ([]string, error) {
	wf, err := modfile.ParseWork(path, data, nil)
	if err != nil {
		return nil, err
	}
	ws.WorkFile, ws.Work = path, wf
	var dirs []string
	for _, u := range wf.Use {
		d := u.Path
		if !filepath.IsAbs(d) {
			d = filepath.Join(ws.Root, filepath.FromSlash(d))
		}
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err != nil {
			return nil, fmt.Errorf("%s:%d: use %s: %w", path, u.Syntax.Start.Line, u.Path, err)
		}
		dirs = append(dirs, d)
	}
	return dirs, nil
}

// walkModules lists every directory of fsys that holds a go.mod, and the
// directories it could not read (which it skips), as slash paths.
func walkModules(fsys fs.FS) (dirs, unreadable []string, err error) {
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p != "." && errors.Is(err, fs.ErrPermission) {
				unreadable = append(unreadable, p)
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			return err
		}
		if d.IsDir() {
			if p != "." && Skip(d.Name()) {
				return fs.SkipDir
			}
			return nil
		}
		if d.Name() == "go.mod" && d.Type().IsRegular() {
			dirs = append(dirs, path.Dir(p))
		}
		return nil
	})
	return dirs, unreadable, err
}

// Skip reports whether a directory of this name is never searched for
// modules or source files: vendor, testdata, names starting with "." or
// "_", and names with an "@", which are a module cache's extracted
// modules (path@version) when GOMODCACHE lies inside the repository.
func Skip(name string) bool {
	return name == "vendor" || name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") ||
		strings.Contains(name, "@")
}

func (ws *Workspace) load(dir string) (*Module, error) {
	p := filepath.Join(dir, "go.mod")
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	m := &Module{Dir: dir, Data: data, Rel: ws.Rel(dir)}
	m.File, m.ParseErr = modfile.Parse(p, data, nil)
	if m.File != nil && m.File.Module != nil {
		m.Path = m.File.Module.Mod.Path
	} else {
		m.Path = modfile.ModulePath(data)
	}
	return m, nil
}

// Rel returns path relative to the repository root with forward slashes.
func (ws *Workspace) Rel(path string) string {
	r, err := filepath.Rel(ws.RepoRoot, path)
	if err != nil {
		return filepath.ToSlash(path)
	}
	return filepath.ToSlash(r)
}

// Select keeps only the modules in the given directories (relative to the
// current directory cwd, or absolute). It fails when a directory holds no
// module of the workspace.
func (ws *Workspace) Select(cwd string, dirs []string) error {
	if len(dirs) == 0 {
		return nil
	}
	byDir := map[string]*Module{}
	for _, m := range ws.Modules {
		byDir[m.Dir] = m
	}
	var keep []*Module
	seen := map[*Module]bool{}
	for _, d := range dirs {
		abs := d
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(cwd, d)
		}
		m := byDir[filepath.Clean(abs)]
		if m == nil {
			return fmt.Errorf("%s: %w of this workspace", d, ErrNoModule)
		}
		if !seen[m] {
			seen[m] = true
			keep = append(keep, m)
		}
	}
	ws.Modules = keep
	return nil
}

func repoRoot(dir string) string {
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return dir
		}
		d = parent
	}
}

// LocalReplace is a replace directive of a go.mod whose target is a
// directory.
type LocalReplace struct {
	// Directive is the replacement as written, "old [version] => new".
	Directive string
	// Dir is the absolute, clean target directory.
	Dir string
}

// LocalReplaces returns the module's replacements by directories, in the
// order of its go.mod; none when go.mod did not parse.
func (m *Module) LocalReplaces() []LocalReplace {
	if m.File == nil {
		return nil
	}
	var out []LocalReplace
	for _, r := range m.File.Replace {
		if r.New.Version != "" {
			continue
		}
		d := filepath.FromSlash(r.New.Path)
		if !filepath.IsAbs(d) {
			d = filepath.Join(m.Dir, d)
		}
		directive := strings.Join(strings.Fields(r.Old.Path+" "+r.Old.Version), " ") + " => " + r.New.Path
		out = append(out, LocalReplace{Directive: directive, Dir: filepath.Clean(d)})
	}
	return out
}
