// Package proxytest builds what the proxy's tests and benchmarks run
// against: a module corpus in the GOPROXY layout, a checksum database
// signing it with a key made for the test, and loopback mirrors with set
// behaviours (slow, failing, hanging, truncating, lying).
package proxytest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/mod/sumdb/dirhash"
	modzip "golang.org/x/mod/zip"
)

// Module is one module version of a corpus.
type Module struct {
	Path, Version string
	// GoMod is the go.mod file; empty for a module without one (a
	// +incompatible version), whose .mod is then "module <path>".
	GoMod string
	// Files are the other files of the module, by name.
	Files map[string]string
	// Time is the version's time in its .info.
	Time time.Time
}

// Chain returns n modules prefix/mNNN v1.0.0, module i requiring module
// i+1, and a v1.1.0 of the first one. Every module has one Go file.
func Chain(prefix string, n int) []Module {
	var mods []Module
	for i := 0; i < n; i++ {
		path := fmt.Sprintf("%s/m%03d", prefix, i)
		gomod := fmt.Sprintf("module %s\n\ngo 1.21\n", path)
		if i+1 < n {
			gomod += fmt.Sprintf("\nrequire %s/m%03d v1.0.0\n", prefix, i+1)
		}
		code := fmt.Sprintf("package m%03d\n\n// N is this module's number.\nconst N = %d\n", i, i)
		mods = append(mods, Module{Path: path, Version: "v1.0.0", GoMod: gomod, Files: map[string]string{"m.go": code},
			Time: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)})
	}
	if n > 0 {
		m := mods[0]
		m.Version = "v1.1.0"
		m.Files = map[string]string{"m.go": m.Files["m.go"] + "\n// Newer is in v1.1.0.\nconst Newer = true\n"}
		m.Time = m.Time.Add(time.Hour)
		mods = append(mods, m)
	}
	return mods
}

// RootGoMod returns the go.mod of a module named root that requires the
// highest version of every module in mods.
func RootGoMod(root string, mods []Module) string {
	high := map[string]string{}
	for _, m := range mods {
		if v, ok := high[m.Path]; !ok || semver.Compare(v, m.Version) < 0 {
			high[m.Path] = m.Version
		}
	}
	var paths []string
	for p := range high {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var b strings.Builder
	fmt.Fprintf(&b, "module %s\n\ngo 1.21\n\nrequire (\n", root)
	for _, p := range paths {
		fmt.Fprintf(&b, "\t%s %s\n", p, high[p])
	}
	b.WriteString(")\n")
	return b.String()
}

// WriteCorpus writes mods below dir in the GOPROXY layout: for each
// version its .info, .mod and .zip, and for each module its list.
func WriteCorpus(dir string, mods []Module) error {
	lists := map[string][]string{}
	for _, m := range mods {
		if err := writeModule(dir, m); err != nil {
			return fmt.Errorf("%s@%s: %w", m.Path, m.Version, err)
		}
		lists[m.Path] = append(lists[m.Path], m.Version)
	}
	for path, vs := range lists {
		esc, err := module.EscapePath(path)
		if err != nil {
			return err
		}
		if err := write(filepath.Join(dir, esc, "@v", "list"), []byte(strings.Join(vs, "\n")+"\n")); err != nil {
			return err
		}
	}
	return nil
}

func writeModule(dir string, m Module) error {
	esc, err := module.EscapePath(m.Path)
	if err != nil {
		return err
	}
	ev, err := module.EscapeVersion(m.Version)
	if err != nil {
		return err
	}
	src, err := os.MkdirTemp("", "proxytest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(src)
	files := map[string]string{}
	for k, v := range m.Files {
		files[k] = v
	}
	mod := "module " + m.Path + "\n"
	if m.GoMod != "" {
		files["go.mod"], mod = m.GoMod, m.GoMod
	}
	for name, data := range files {
		if err := write(filepath.Join(src, filepath.FromSlash(name)), []byte(data)); err != nil {
			return err
		}
	}
	var zb bytes.Buffer
	if err := modzip.CreateFromDir(&zb, module.Version{Path: m.Path, Version: m.Version}, src); err != nil {
		return err
	}
	base := filepath.Join(dir, esc, "@v", ev)
	info := fmt.Sprintf("{\"Version\":%q,\"Time\":%q}\n", m.Version, m.Time.UTC().Format(time.RFC3339))
	for ext, data := range map[string][]byte{".info": []byte(info), ".mod": []byte(mod), ".zip": zb.Bytes()} {
		if err := write(base+ext, data); err != nil {
			return err
		}
	}
	return nil
}

func write(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// GoSum returns the go.sum lines of path@version as the corpus in dir
// holds it: the zip's line when the corpus has the zip, and the go.mod's.
// It returns an error satisfying errors.Is(err, fs.ErrNotExist) when the
// corpus has no .mod for it.
func GoSum(dir, path, version string) ([]byte, error) {
	esc, err := module.EscapePath(path)
	if err != nil {
		return nil, err
	}
	ev, err := module.EscapeVersion(version)
	if err != nil {
		return nil, err
	}
	base := filepath.Join(dir, esc, "@v", ev)
	mod, err := os.ReadFile(base + ".mod")
	if err != nil {
		return nil, err
	}
	modHash, err := dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(mod)), nil
	})
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	zipHash, err := dirhash.HashZip(base+".zip", dirhash.Hash1)
	switch {
	case err == nil:
		fmt.Fprintf(&b, "%s %s %s\n", path, version, zipHash)
	case !errors.Is(err, os.ErrNotExist):
		return nil, err
	}
	fmt.Fprintf(&b, "%s %s/go.mod %s\n", path, version, modHash)
	return []byte(b.String()), nil
}
