package tidy

import (
	"bytes"
	"errors"
	"unicode"
	"unicode/utf8"
)

// goHeader is what `go mod tidy` reads of a Go file: the build constraint
// lines before the package clause, the package name and the import paths
// (as written, quotes included). The go command reads no further
// (cmd/go/internal/imports.ReadImports stops after the imports).
type goHeader struct {
	constraints []string
	pkg         string
	imports     []string
}

// errShort means the scanner ran off the end of its input while still in
// the header: the caller must give it more of the file.
var errShort = errors.New("header continues past the input")

// errSyntax means the header is not valid Go; the file is then hashed whole.
var errSyntax = errors.New("header is not valid Go")

// scanHeader reads the header of the Go source src. complete says whether
// src is the whole file; when it is not and the header may continue past
// it, scanHeader returns errShort.
//
// The scanner knows exactly the tokens a header may hold: comments, the
// package clause, import declarations (single or grouped, with an optional
// name, `.` or `_`), string literals and semicolons. It stops at the first
// token that is not part of an import declaration, as go/parser does in
// ImportsOnly mode, and it is tested against go/parser on the standard
// library. Like the go command's own import reader, and unlike go/parser,
// it reads on past stray semicolons between declarations.
func scanHeader(src []byte, complete bool) (goHeader, error) {
	s := &scanner{src: src, complete: complete}
	if len(src) >= 3 && src[0] == 0xEF && src[1] == 0xBB && src[2] == 0xBF {
		s.pos = 3 // a byte order mark, which the go command skips
	}
	var h goHeader
	s.constraints = &h.constraints
	if err := s.keyword("package"); err != nil {
		if err == errEOF {
			err = errSyntax
		}
		return h, err
	}
	s.constraints = nil
	pkg, err := s.ident()
	if err != nil {
		if err == errEOF {
			err = errSyntax
		}
		return h, err
	}
	h.pkg = pkg
	for {
		if err := s.skipSemis(); err != nil {
			if err == errEOF {
				err = nil
			}
			return h, err
		}
		ok, err := s.peekKeyword("import")
		if err != nil || !ok {
			return h, err
		}
		s.pos += len("import")
		if h.imports, err = s.importDecl(h.imports); err != nil {
			if err == errEOF {
				err = errSyntax
			}
			return h, err
		}
	}
}

type scanner struct {
	src      []byte
	pos      int
	complete bool
	// constraints, when set, collects the //go:build and // +build lines
	// of the comments skipped.
	constraints *[]string
}

// importDecl reads what follows the import keyword.
func (s *scanner) importDecl(paths []string) ([]string, error) {
	c, err := s.peek()
	if err != nil {
		return paths, err
	}
	if c != '(' {
		p, err := s.importSpec()
		if err != nil {
			return paths, err
		}
		return append(paths, p), nil
	}
	s.pos++
	for {
		c, err := s.peek()
		if err != nil {
			return paths, err
		}
		if c == ')' {
			s.pos++
			return paths, nil
		}
		p, err := s.importSpec()
		if err != nil {
			return paths, err
		}
		paths = append(paths, p)
		if c, err = s.peek(); err != nil {
			return paths, err
		}
		if c == ';' {
			s.pos++
		}
	}
}

// importSpec reads [name] "path" and returns the path literal.
func (s *scanner) importSpec() (string, error) {
	c, err := s.peek()
	if err != nil {
		return "", err
	}
	switch {
	case c == '.' || c == '_' && !s.identAt(s.pos+1):
		s.pos++
	case c != '"' && c != '`':
		if _, err := s.ident(); err != nil {
			return "", err
		}
	}
	if _, err := s.peek(); err != nil {
		return "", err
	}
	return s.str()
}

// str reads a string literal at the current position.
func (s *scanner) str() (string, error) {
	start := s.pos
	q := s.src[s.pos]
	if q != '"' && q != '`' {
		return "", errSyntax
	}
	for i := s.pos + 1; i < len(s.src); i++ {
		switch c := s.src[i]; {
		case c == q:
			s.pos = i + 1
			return string(s.src[start:s.pos]), nil
		case c == '\n' && q == '"':
			return "", errSyntax
		case c == '\\' && q == '"':
			i++
		}
	}
	return "", s.short()
}

// skipSemis skips semicolons between declarations. It returns errEOF at
// the end of a complete input.
func (s *scanner) skipSemis() error {
	for {
		c, err := s.peek()
		if err != nil || c != ';' {
			return err
		}
		s.pos++
	}
}

// keyword reads the keyword kw, skipping space and comments before it.
func (s *scanner) keyword(kw string) error {
	ok, err := s.peekKeyword(kw)
	if err != nil {
		return err
	}
	if !ok {
		return errSyntax
	}
	s.pos += len(kw)
	return nil
}

// peekKeyword reports whether the next token is the keyword kw.
func (s *scanner) peekKeyword(kw string) (bool, error) {
	if _, err := s.peek(); err != nil {
		if err == errEOF {
			return false, nil
		}
		return false, err
	}
	end := s.pos + len(kw)
	if end > len(s.src) {
		if s.complete {
			return false, nil
		}
		return false, errShort
	}
	if string(s.src[s.pos:end]) != kw {
		return false, nil
	}
	if end == len(s.src) && !s.complete {
		return false, errShort
	}
	return !s.identAt(end), nil
}

// ident reads an identifier.
func (s *scanner) ident() (string, error) {
	if _, err := s.peek(); err != nil {
		return "", err
	}
	start := s.pos
	for s.identAt(s.pos) {
		_, n := utf8.DecodeRune(s.src[s.pos:])
		s.pos += n
	}
	if s.pos < len(s.src) && !s.complete && !utf8.FullRune(s.src[s.pos:]) {
		return "", errShort
	}
	if s.pos == start {
		return "", errSyntax
	}
	if s.pos == len(s.src) && !s.complete {
		return "", errShort
	}
	return string(s.src[start:s.pos]), nil
}

// identAt reports whether an identifier character starts at i.
func (s *scanner) identAt(i int) bool {
	if i >= len(s.src) {
		return false
	}
	r, _ := utf8.DecodeRune(s.src[i:])
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// errEOF is the end of a complete input.
var errEOF = errors.New("end of file")

func (s *scanner) atEnd() error {
	if s.complete {
		return errEOF
	}
	return errShort
}

func (s *scanner) short() error {
	if s.complete {
		return errSyntax
	}
	return errShort
}

// peek skips space and comments and returns the next byte.
func (s *scanner) peek() (byte, error) {
	for s.pos < len(s.src) {
		c := s.src[s.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			s.pos++
		case c == '/' && s.pos+1 < len(s.src) && s.src[s.pos+1] == '/':
			if err := s.lineComment(); err != nil {
				return 0, err
			}
		case c == '/' && s.pos+1 < len(s.src) && s.src[s.pos+1] == '*':
			if err := s.blockComment(); err != nil {
				return 0, err
			}
		case c == '/' && s.pos+1 == len(s.src) && !s.complete:
			return 0, errShort
		default:
			return c, nil
		}
	}
	return 0, s.atEnd()
}

func (s *scanner) lineComment() error {
	end := s.pos
	for end < len(s.src) && s.src[end] != '\n' {
		end++
	}
	if end == len(s.src) && !s.complete {
		return errShort
	}
	if c := bytes.TrimRight(s.src[s.pos:end], "\r"); s.constraints != nil && isConstraint(c) {
		*s.constraints = append(*s.constraints, string(c))
	}
	s.pos = end
	return nil
}

func (s *scanner) blockComment() error {
	for i := s.pos + 2; i+1 < len(s.src); i++ {
		if s.src[i] == '*' && s.src[i+1] == '/' {
			s.pos = i + 2
			return nil
		}
	}
	return s.short()
}

// isConstraint reports whether the line comment c may be a build
// constraint: "//go:build ..." or "// +build ...". Every such line before
// the package clause is kept, a superset of those the go command obeys.
func isConstraint(c []byte) bool {
	t := string(c[2:])
	if len(t) >= 8 && t[:8] == "go:build" {
		return true
	}
	for len(t) > 0 && (t[0] == ' ' || t[0] == '\t') {
		t = t[1:]
	}
	return len(t) >= 6 && t[:6] == "+build"
}
