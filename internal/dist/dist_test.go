package dist_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// root is the repository root, two levels above this package.
var root = filepath.Join("..", "..")

func read(t *testing.T, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// documents decodes every YAML document in data.
func documents(t *testing.T, name string, data []byte) []map[string]any {
	t.Helper()
	var docs []map[string]any
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var d map[string]any
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		docs = append(docs, d)
	}
	return docs
}

// get walks a decoded YAML value by map keys and list indexes ("0", "1").
func get(t *testing.T, v any, path ...string) any {
	t.Helper()
	for i, k := range path {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[k]; !ok {
				t.Fatalf("no %q at %s", k, strings.Join(path[:i], "."))
			}
		case []any:
			n, err := strconv.Atoi(k)
			if err != nil || n < 0 || n >= len(x) {
				t.Fatalf("no element %s at %s", k, strings.Join(path[:i], "."))
			}
			v = x[n]
		default:
			t.Fatalf("%s is a %T, not a map or list", strings.Join(path[:i], "."), v)
		}
	}
	return v
}

func str(t *testing.T, v any, path ...string) string {
	t.Helper()
	s, ok := get(t, v, path...).(string)
	if !ok {
		t.Fatalf("%s is %T, not a string", strings.Join(path, "."), get(t, v, path...))
	}
	return s
}

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func TestPreCommitHooks(t *testing.T) {
	var hooks []map[string]any
	if err := yaml.Unmarshal(read(t, ".pre-commit-hooks.yaml"), &hooks); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"modhygiene-tidy":     "modhygiene tidy",
		"modhygiene-tidy-fix": "modhygiene tidy --fix",
		"modhygiene-check":    "modhygiene check",
	}
	seen := map[string]bool{}
	for _, h := range hooks {
		id, _ := h["id"].(string)
		entry, ok := want[id]
		if !ok {
			t.Errorf("unexpected hook %q", id)
			continue
		}
		seen[id] = true
		if h["entry"] != entry {
			t.Errorf("%s: entry %v, want %q", id, h["entry"], entry)
		}
		if h["language"] != "golang" || h["pass_filenames"] != false || h["require_serial"] != true {
			t.Errorf("%s: language %v, pass_filenames %v, require_serial %v; want golang, false, true",
				id, h["language"], h["pass_filenames"], h["require_serial"])
		}
		if h["name"] == nil {
			t.Errorf("%s has no name", id)
		}
		// pre-commit matches files with Python's re.search; this pattern is
		// also valid RE2.
		files := regexp.MustCompile(h["files"].(string))
		for _, p := range []string{"go.mod", "go.sum", "go.work", "go.work.sum", "svc/api/go.mod", "svc/go.sum", "main.go", "internal/x/x_test.go"} {
			if !files.MatchString(p) {
				t.Errorf("%s: files does not match %s", id, p)
			}
		}
		for _, p := range []string{"README.md", "go.mod.orig", "notgo.mod", "docs/go.md", "x.gox"} {
			if files.MatchString(p) {
				t.Errorf("%s: files matches %s", id, p)
			}
		}
	}
	for id := range want {
		if !seen[id] {
			t.Errorf("no hook %s", id)
		}
	}
}

func TestWorkflows(t *testing.T) {
	var rel map[string]any
	if err := yaml.Unmarshal(read(t, ".github/workflows/release.yml"), &rel); err != nil {
		t.Fatal(err)
	}
	text := string(read(t, ".github/workflows/release.yml"))
	for _, want := range []string{"checksums.txt", "sha256sum", "modhygiene_", "ghcr.io", "internal/cli.Version=", "templates/modhygiene.yml"} {
		if !strings.Contains(text, want) {
			t.Errorf("release.yml lacks %q", want)
		}
	}
	if strings.Contains(text, "setup-qemu-action") {
		t.Error("release.yml sets up QEMU: the Dockerfile cross-compiles, the image needs no emulation")
	}
	for _, goos := range []string{"linux", "darwin", "windows"} {
		for _, goarch := range []string{"amd64", "arm64"} {
			if !strings.Contains(text, goos) || !strings.Contains(text, goarch) {
				t.Errorf("release.yml does not build %s/%s", goos, goarch)
			}
		}
	}
	var ci map[string]any
	if err := yaml.Unmarshal(read(t, ".github/workflows/ci.yml"), &ci); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(read(t, ".github/workflows/ci.yml")), "uses: ./\n") {
		t.Error("ci.yml does not run the project's own action (uses: ./)")
	}
}
