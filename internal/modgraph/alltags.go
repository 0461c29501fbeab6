package modgraph

import (
	"bufio"
	"bytes"
	"go/build/constraint"
	"go/scanner"
	"go/token"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// allTagsCache holds the imports of package directories that cannot
// change while the process runs (those in the module cache), shared by
// the graphs loaded concurrently.
var allTagsCache sync.Map // dir -> [2][]string

// withAllTags replaces the imports of each package (this platform's, as
// the go command lists them) with the imports of all its files whatever
// their build tags, as `go mod why` reads them (the go command's
// imports.ScanDir with the "*" tag): every tag but "ignore" counts as both
// set and unset. A package whose directory cannot be read keeps the
// listed imports. immutable reports whether a directory's contents are
// fixed (a module cache directory), so its imports can be cached.
func withAllTags(pkgs []Package, dirs map[string]string, immutable func(module string) bool) {
	for i := range pkgs {
		p := &pkgs[i]
		dir := dirs[p.ImportPath]
		if dir == "" || p.Module == "" {
			continue
		}
		if imports, tests, ok := scanCached(dir, immutable(p.Module)); ok {
			p.Imports, p.TestImports = imports, tests
		}
	}
}

// scanCached is scanAllTags, remembered for directories whose contents
// cannot change while the process runs (immutable: in the module cache).
func scanCached(dir string, immutable bool) (imports, tests []string, ok bool) {
	if v, ok := allTagsCache.Load(dir); ok {
		im := v.([2][]string)
		return im[0], im[1], true
	}
	imports, tests, ok = scanAllTags(dir)
	if ok && immutable {
		allTagsCache.Store(dir, [2][]string{imports, tests})
	}
	return imports, tests, ok
}

// scanAllTags returns the sorted imports of the non-test and of the test
// .go files of dir under every build tag but "ignore".
func scanAllTags(dir string) (imports, tests []string, ok bool) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, false
	}
	im, tm := map[string]bool{}, map[string]bool{}
	buf := make([]byte, headSize)
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasSuffix(name, ".go") || strings.HasPrefix(name, "_") || strings.HasPrefix(name, ".") {
			continue
		}
		list, ok := fileImports(filepath.Join(dir, name), buf)
		if !ok {
			continue
		}
		m := im
		if strings.HasSuffix(name, "_test.go") {
			m = tm
		}
		for _, q := range list {
			if q != "C" {
				m[q] = true
			}
		}
	}
	return sortedSet(im), sortedSet(tm), true
}

// headSize is how much of a file fileImports reads first: the build
// constraints and imports come before any declaration, and generated
// files run to megabytes.
const headSize = 16 << 10

// fileImports returns the import paths of the Go file at path when its
// build constraint can hold under some tags; ok is false otherwise or when
// it cannot be read or its imports cannot be parsed.
func fileImports(path string, buf []byte) (list []string, ok bool) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, false
	}
	n, err := io.ReadFull(fh, buf)
	fh.Close()
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, false
	}
	data := buf[:n]
	if !anyTagBuilds(data) {
		return nil, false
	}
	list, complete, eof := scanImports(data)
	if n < len(buf) || complete && !eof {
		return list, complete
	}
	// The head ends before the imports do: read the whole file.
	if data, err = os.ReadFile(path); err != nil {
		return nil, false
	}
	list, complete, _ = scanImports(data)
	return list, complete
}

// scanImports reads the package clause and the import declarations of Go
// source with go/scanner, without building a syntax tree. complete is set
// when a declaration other than an import, or the end of src (eof), was
// reached after well-formed imports.
func scanImports(src []byte) (list []string, complete, eof bool) {
	var sc scanner.Scanner
	fset := token.NewFileSet()
	sc.Init(fset.AddFile("", -1, len(src)), src, nil, 0)
	next := func() (token.Token, string) {
		_, tok, lit := sc.Scan()
		return tok, lit
	}
	if tok, _ := next(); tok != token.PACKAGE {
		return nil, false, false
	}
	if tok, _ := next(); tok != token.IDENT {
		return nil, false, false
	}
	for {
		tok, _ := next()
		switch tok {
		case token.SEMICOLON:
			continue
		case token.IMPORT:
		case token.EOF:
			return list, true, true
		default:
			return list, tok != token.ILLEGAL, false
		}
		tok, lit := next()
		if tok != token.LPAREN {
			p, ok := importSpec(next, tok, lit)
			if !ok {
				return list, false, false
			}
			list = append(list, p)
			continue
		}
		for {
			tok, lit := next()
			if tok == token.SEMICOLON {
				continue
			}
			if tok == token.RPAREN {
				break
			}
			p, ok := importSpec(next, tok, lit)
			if !ok {
				return list, false, false
			}
			list = append(list, p)
		}
	}
}

// importSpec reads one import spec ([name] "path") starting at tok.
func importSpec(next func() (token.Token, string), tok token.Token, lit string) (string, bool) {
	if tok == token.IDENT || tok == token.PERIOD {
		tok, lit = next()
	}
	if tok != token.STRING {
		return "", false
	}
	p, err := strconv.Unquote(lit)
	return p, err == nil
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// anyTagBuilds reports whether a file's build constraint (//go:build, or
// the +build lines before it) can hold under some set of tags other than
// "ignore".
func anyTagBuilds(data []byte) bool {
	var exprs []constraint.Expr
	goBuild := false
	inBlock := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case inBlock:
			inBlock = !strings.Contains(line, "*/")
			continue
		case strings.HasPrefix(line, "/*"):
			inBlock = !strings.Contains(line[2:], "*/")
			continue
		case line == "":
			continue
		case !strings.HasPrefix(line, "//"):
			return evalAll(exprs) // the package clause: the header is over
		}
		if !constraint.IsGoBuild(line) && !constraint.IsPlusBuild(line) {
			continue
		}
		x, err := constraint.Parse(line)
		if err != nil {
			continue
		}
		if constraint.IsGoBuild(line) {
			exprs, goBuild = []constraint.Expr{x}, true
		} else if !goBuild {
			exprs = append(exprs, x)
		}
	}
	return evalAll(exprs)
}

func evalAll(exprs []constraint.Expr) bool {
	for _, x := range exprs {
		if !evalAny(x, true) {
			return false
		}
	}
	return true
}

// evalAny evaluates x with every tag but "ignore" both true and false (it
// answers prefer), as the go command's imports.eval does for tags["*"].
func evalAny(x constraint.Expr, prefer bool) bool {
	switch x := x.(type) {
	case *constraint.TagExpr:
		if x.Tag == "ignore" {
			return false
		}
		return prefer
	case *constraint.NotExpr:
		return !evalAny(x.X, !prefer)
	case *constraint.AndExpr:
		return evalAny(x.X, prefer) && evalAny(x.Y, prefer)
	case *constraint.OrExpr:
		return evalAny(x.X, prefer) || evalAny(x.Y, prefer)
	}
	return true
}
