package tidy

import (
	"bytes"
	"go/build/constraint"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// parsedHeader is the header as go/parser sees it, or false when go/parser
// rejects the file.
func parsedHeader(src []byte) (goHeader, bool) {
	f, err := parser.ParseFile(token.NewFileSet(), "x.go", src, parser.ImportsOnly|parser.ParseComments)
	if err != nil {
		return goHeader{}, false
	}
	h := goHeader{pkg: f.Name.Name}
	for _, cg := range f.Comments {
		if cg.Pos() >= f.Package {
			break
		}
		for _, c := range cg.List {
			if strings.HasPrefix(c.Text, "//go:build") || strings.HasPrefix(strings.TrimLeft(c.Text[2:], " \t"), "+build") {
				h.constraints = append(h.constraints, c.Text)
			}
		}
	}
	for _, imp := range f.Imports {
		h.imports = append(h.imports, imp.Path.Value)
	}
	return h, true
}

var headerOpt = cmp.AllowUnexported(goHeader{})

// checkScan compares scanHeader with go/parser on src, for the whole file
// and for about prefixes prefixes of it spread over its first 4 KiB (each
// must either ask for more or give the same header).
func checkScan(t *testing.T, name string, src []byte, prefixes int) {
	want, ok := parsedHeader(src)
	got, err := scanHeader(src, true)
	if !ok {
		return // go/parser rejects it: the go command fails on it too
	}
	// The go command's import reader takes semicolons for spaces, where
	// go/parser stops at a stray one ("package p;; import"): there the
	// scanner, like the go command, may read on, or give up.
	strayOK := bytes.Contains(src, []byte(";"))
	if err != nil {
		if !strayOK {
			t.Errorf("%s: scanHeader: %v", name, err)
		}
		return
	}
	if !reflect.DeepEqual(want, got) {
		if !strayOK || !readsOn(want, got) {
			t.Errorf("%s: scanHeader (-parser +scan):\n%s", name, cmp.Diff(want, got, headerOpt))
		}
		return
	}
	// Every build constraint the go command obeys is among those kept.
	for _, l := range strings.Split(string(src), "\n") {
		l = strings.TrimRight(l, "\r")
		if (constraint.IsGoBuild(l) || constraint.IsPlusBuild(l)) && strings.Index(string(src), l) < strings.Index(string(src), "package ") {
			found := false
			for _, c := range got.constraints {
				found = found || c == l
			}
			if !found && strings.HasPrefix(string(src), l) {
				t.Errorf("%s: constraint %q not kept", name, l)
			}
		}
	}
	end := min(len(src), 4096)
	step := max(1, end/max(1, prefixes))
	for n := 0; n < end && prefixes > 0; n += step {
		pre, err := scanHeader(src[:n], false)
		if err == errShort {
			continue
		}
		if err != nil {
			t.Errorf("%s: prefix %d: %v", name, n, err)
			return
		}
		if reflect.DeepEqual(want, pre) {
			continue
		}
		if diff := cmp.Diff(want, pre, headerOpt); diff != "" {
			t.Errorf("%s: prefix %d gives another header (-parser +scan):\n%s", name, n, diff)
			return
		}
	}
}

// readsOn reports whether got is want with more imports.
func readsOn(want, got goHeader) bool {
	return want.pkg == got.pkg && slices.Equal(want.constraints, got.constraints) &&
		len(got.imports) > len(want.imports) && slices.Equal(want.imports, got.imports[:len(want.imports)])
}

func TestScanHeaderCases(t *testing.T) {
	for _, src := range []string{
		"package p",
		"package p\n",
		"\xef\xbb\xbfpackage p; import \"a\"",
		"//go:build linux && !cgo\n// +build linux,!cgo\n\n// Package p does.\npackage p\n\nimport (\n\t\"a\"\n\tb \"b/c\" // note\n\t. \"d\"\n\t_ \"e\"\n\t`raw/path`\n)\n\nimport \"f\"\n\nfunc main() {}\n",
		"/* block\n//go:build not */ package /* x */ p /* y */ ; import ( \"a\"; \"b\" ) ; import _x \"c\"\nvar x = 1",
		"// +build ignore\r\n\r\npackage p\r\nimport \"a\\\"b\"\r\n",
		"package p\nimport \"C\"\nimport \"unsafe\"\nconst c = 1\nimport \"late\"",
		"package p\nimport()\nimport ()\nfunc f()",
		"package ünï\nimport ß \"x\"",
		"package p\nimportant := 1",
		"package p\n\n// comment\n/* c */\nimport \"a\" /* trailing\n*/ import \"b\"",
	} {
		checkScan(t, src, []byte(src), len(src))
	}
}

func TestScanHeaderRejects(t *testing.T) {
	for _, src := range []string{"", "// only a comment\n", "pack p", "package", "package p\nimport (\n\"a\"", "package p\nimport \"a", "package p\nimport \"a\nb\"", "package p; import x", "/* open"} {
		if h, err := scanHeader([]byte(src), true); err == nil {
			t.Errorf("scanHeader(%q) = %+v, want an error", src, h)
		}
	}
}

// TestScanHeaderStandardLibrary compares the scanner with go/parser on
// every Go file of GOROOT/src.
func TestScanHeaderStandardLibrary(t *testing.T) {
	root := filepath.Join(runtime.GOROOT(), "src")
	n := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") {
			return err
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n++
		if testing.Short() && n%10 != 0 {
			return nil
		}
		checkScan(t, p, src, 64)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 1000 {
		t.Fatalf("only %d files under %s", n, root)
	}
}

func FuzzScanHeader(f *testing.F) {
	f.Add([]byte("//go:build a\n\npackage p\nimport (\n\tx \"a\"\n)\n"))
	f.Add([]byte("package p; import `b`; import . \"c\"; func f() {}"))
	f.Fuzz(func(t *testing.T, src []byte) {
		checkScan(t, "fuzz", src, min(len(src), 512))
	})
}
