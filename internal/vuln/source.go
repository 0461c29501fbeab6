package vuln

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"golang.org/x/mod/semver"
)

// SourceKind says where the vulnerability database comes from.
type SourceKind int

// The kinds of database source.
const (
	// Official is x/vuln's default database.
	Official SourceKind = iota
	// URL is a database at a file:// (standard layout) or http(s):// URL.
	URL
	// Module is a database built from the golang.org/x/vulndb module,
	// fetched through GOPROXY; see ModuleDB.
	Module
)

// VulnDBModule is the module whose data/osv directory holds every entry of
// the Go vulnerability database.
const VulnDBModule = "golang.org/x/vulndb"

// Source is a parsed --db value.
type Source struct {
	Kind SourceKind
	// URL is the database URL for Kind URL.
	URL string
	// Version is the module version or query for Kind Module ("latest"
	// unless pinned as module@VERSION).
	Version string
}

// ParseSource parses a --db value: "" or "official" for x/vuln's default
// database; "module" or "module@VERSION" for the database built from
// golang.org/x/vulndb; a file:// URL of a directory in the standard layout
// (a relative path after file: is taken relative to cwd); or an http(s)://
// URL that serves the same layout.
func ParseSource(s, cwd string) (Source, error) {
	switch {
	case s == "" || s == "official":
		return Source{Kind: Official}, nil
	case s == "module":
		return Source{Kind: Module, Version: "latest"}, nil
	case strings.HasPrefix(s, "module@"):
		v := strings.TrimPrefix(s, "module@")
		if v != "latest" && !semver.IsValid(v) {
			return Source{}, fmt.Errorf("--db %s: %q is not a module version", s, v)
		}
		return Source{Kind: Module, Version: v}, nil
	case strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://"):
		if _, err := url.Parse(s); err != nil {
			return Source{}, fmt.Errorf("--db %s: %v", s, err)
		}
		return Source{Kind: URL, URL: strings.TrimRight(s, "/")}, nil
	case strings.HasPrefix(s, "file:"):
		p := strings.TrimPrefix(s, "file:")
		if strings.HasPrefix(p, "//") {
			u, err := url.Parse(s)
			if err != nil || (u.Host != "" && u.Host != "localhost") {
				return Source{}, fmt.Errorf("--db %s: want file:///absolute/path", s)
			}
			p = filepath.FromSlash(u.Path)
		} else if !filepath.IsAbs(p) {
			p = filepath.Join(cwd, filepath.FromSlash(p))
		}
		if !IsLayout(p) {
			return Source{}, fmt.Errorf("--db %s: %s %w", s, p, errNoLayout)
		}
		return Source{Kind: URL, URL: FileURL(p)}, nil
	}
	return Source{}, fmt.Errorf("--db %q: want official, module, module@VERSION, file:///path or an http(s) URL", s)
}

// FileURL returns the file:// URL of the directory dir.
func FileURL(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows drive letter
	}
	return (&url.URL{Scheme: "file", Path: p}).String()
}
