package cache

import (
	"archive/zip"
	"bytes"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/dirhash"
)

// fv is a module version of the test fixtures.
type fv struct {
	path, version string
	modOnly       bool
}

var fixtureVersions = []fv{
	{"example.com/a", "v1.0.0", false},
	{"example.com/B", "v1.2.0", false},
	{"example.com/modonly", "v0.1.0", true},
	{"example.com/c/v2", "v2.0.1", false},
}

// testSum is the go.sum of fixtureVersions, with real hashes.
var testSum = sumText(fixtureVersions...)

// treeFiles are the files of a fixture version's tree, with their modes.
func treeFiles(path, version string) map[string]struct {
	data string
	mode fs.FileMode
} {
	type f = struct {
		data string
		mode fs.FileMode
	}
	return map[string]f{
		"go.mod":   {"module " + path + "\n", 0o444},
		"sub/x.go": {"package sub\n\n// " + version + "\n", 0o444},
		"run.sh":   {"#!/bin/sh\n", 0o555},
	}
}

// zipOf is the module zip of a fixture version, as a proxy serves it.
func zipOf(t testing.TB, path, version string) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	files := treeFiles(path, version)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		w, err := zw.Create(path + "@" + version + "/" + name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, files[name].data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// sumsOf returns the h1 hashes of a fixture version's zip and go.mod.
func sumsOf(path, version string) (h1, mod string) {
	files := treeFiles(path, version)
	var names []string
	for n := range files {
		names = append(names, path+"@"+version+"/"+n)
	}
	h1, err := dirhash.Hash1(names, func(n string) (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader(files[strings.TrimPrefix(n, path+"@"+version+"/")].data)), nil
	})
	if err != nil {
		panic(err)
	}
	mod, err = dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader(files["go.mod"].data)), nil
	})
	if err != nil {
		panic(err)
	}
	return h1, mod
}

// sumText is the go.sum text naming vs.
func sumText(vs ...fv) string {
	var b strings.Builder
	for _, v := range vs {
		h1, mod := sumsOf(v.path, v.version)
		if !v.modOnly {
			b.WriteString(v.path + " " + v.version + " " + h1 + "\n")
		}
		b.WriteString(v.path + " " + v.version + "/go.mod " + mod + "\n")
	}
	return b.String()
}

// bumped is fixtureVersions with example.com/c/v2 at v2.0.2.
func bumped() []fv {
	vs := slices.Clone(fixtureVersions)
	vs[3].version = "v2.0.2"
	return vs
}

// writeVersion makes the module cache files of one version as the go
// command does: download files 0644, the extracted tree read-only.
func writeVersion(t *testing.T, root, path, version string, modOnly bool) {
	t.Helper()
	ep, ev, err := escape(path, version)
	if err != nil {
		t.Fatal(err)
	}
	files := treeFiles(path, version)
	dl := filepath.Join(root, "cache", "download", filepath.FromSlash(ep), "@v")
	must(t, os.MkdirAll(dl, 0o755))
	must(t, os.WriteFile(filepath.Join(dl, ev+".info"), []byte(`{"Version":"`+version+`"}`), 0o644))
	must(t, os.WriteFile(filepath.Join(dl, ev+".mod"), []byte(files["go.mod"].data), 0o644))
	if modOnly {
		return
	}
	h1, _ := sumsOf(path, version)
	must(t, os.WriteFile(filepath.Join(dl, ev+".zip"), zipOf(t, path, version), 0o644))
	must(t, os.WriteFile(filepath.Join(dl, ev+".ziphash"), []byte(h1), 0o644))
	must(t, os.WriteFile(filepath.Join(dl, ev+".lock"), nil, 0o644))
	tree := filepath.Join(root, filepath.FromSlash(ep)+"@"+ev)
	for name, f := range files {
		p := filepath.Join(tree, filepath.FromSlash(name))
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.WriteFile(p, []byte(f.data), f.mode))
	}
	must(t, os.Chmod(filepath.Join(tree, "sub"), 0o555))
	must(t, os.Chmod(tree, 0o555))
}
