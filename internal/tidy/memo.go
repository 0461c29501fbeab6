package tidy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"go/parser"
	"go/token"
	"hash"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/modhygiene/modhygiene/internal/workspace"
)

// memoVersion changes whenever the key's recipe changes, so that old
// entries can never match.
const memoVersion = "modhygiene-tidy-memo-2"

// memoEnv lists the variables whose values can change what tidy decides.
var memoEnv = []string{"GOFLAGS", "GOEXPERIMENT", "GOTOOLCHAIN", "GO111MODULE", "GOVERSION"}

// memo remembers modules found tidy. An entry is an empty file named by the
// key: present means "tidy with exactly these inputs".
type memo struct {
	dir string
	env string // the relevant environment, rendered once
}

// newMemo returns a memo in dir for the go command's environment vals
// (which must hold memoEnv).
func newMemo(vals map[string]string, dir string) *memo {
	var b strings.Builder
	for _, k := range memoEnv {
		fmt.Fprintf(&b, "%s=%s\n", k, vals[k])
	}
	return &memo{dir: dir, env: b.String()}
}

func (m *memo) has(key string) bool {
	_, err := os.Stat(filepath.Join(m.dir, key))
	return err == nil
}

func (m *memo) put(key string) {
	if key == "" {
		return
	}
	if err := os.MkdirAll(m.dir, 0o755); err == nil {
		os.WriteFile(filepath.Join(m.dir, key), nil, 0o644)
	}
}

// key hashes every input of tidy for module mod; "" means the inputs could
// not be read and the module must be checked.
func (m *memo) key(mod *workspace.Module) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\ndir=%s\n", memoVersion, m.env, mod.Dir)
	if err := hashModuleDir(h, mod.Dir); err != nil {
		return ""
	}
	for _, dir := range localReplaceDirs(mod) {
		fmt.Fprintf(h, "replace-target=%s\n", dir)
		if err := hashModuleDir(h, dir); err != nil {
			fmt.Fprintf(h, "unreadable: %v\n", err)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// localReplaceDirs returns the absolute directories of mod's local-path
// replacements.
func localReplaceDirs(mod *workspace.Module) []string {
	if mod.File == nil {
		return nil
	}
	var dirs []string
	for _, r := range mod.File.Replace {
		if r.New.Version != "" {
			continue
		}
		d := filepath.FromSlash(r.New.Path)
		if !filepath.IsAbs(d) {
			d = filepath.Join(mod.Dir, d)
		}
		dirs = append(dirs, filepath.Clean(d))
	}
	sort.Strings(dirs)
	return dirs
}

// hashModuleDir hashes go.mod, go.sum and the header of every .go file of
// the module rooted at dir (not descending into nested modules or into
// directories the go command ignores).
func hashModuleDir(h hash.Hash, dir string) error {
	for _, name := range []string{"go.mod", "go.sum"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil && !os.IsNotExist(err) {
			return err
		}
		fmt.Fprintf(h, "%s %d\n", name, len(data))
		h.Write(data)
	}
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return skipDir(dir, p, d.Name())
		}
		if !strings.HasSuffix(p, ".go") || !d.Type().IsRegular() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		fmt.Fprintf(h, "file %s\n", filepath.ToSlash(rel))
		return hashGoHeader(h, p)
	})
}

func skipDir(root, p, name string) error {
	if p == root {
		return nil
	}
	if workspace.Skip(name) {
		return filepath.SkipDir
	}
	if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
		return filepath.SkipDir // a nested module has its own entry
	}
	return nil
}

// hashGoHeader hashes what tidy reads of a Go file: the comments before
// the package clause (build constraints), the package name and the imports.
// A file that does not parse is hashed whole.
func hashGoHeader(h hash.Hash, path string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	f, err := parser.ParseFile(token.NewFileSet(), path, src, parser.ImportsOnly|parser.ParseComments)
	if err != nil {
		fmt.Fprintf(h, "unparsed %d\n", len(src))
		h.Write(src)
		return nil
	}
	var b bytes.Buffer
	for _, cg := range f.Comments {
		if cg.Pos() >= f.Package {
			break
		}
		b.WriteString(cg.Text())
	}
	fmt.Fprintf(&b, "package %s\n", f.Name.Name)
	for _, imp := range f.Imports {
		fmt.Fprintf(&b, "import %s\n", imp.Path.Value)
	}
	h.Write(b.Bytes())
	return nil
}
