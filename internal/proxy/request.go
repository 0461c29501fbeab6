package proxy

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/mod/sumdb/tlog"
)

// kind is what a request asks for.
type kind int

const (
	kindList   kind = iota // <module>/@v/list
	kindLatest             // <module>/@latest
	kindInfo               // <module>/@v/<version>.info
	kindMod                // <module>/@v/<version>.mod
	kindZip                // <module>/@v/<version>.zip
	kindSumDB              // sumdb/<name>/...
)

func (k kind) String() string {
	return [...]string{"list", "latest", "info", "mod", "zip", "sumdb"}[k]
}

// request is a parsed proxy request.
type request struct {
	kind kind
	// path and version are the module path and version, unescaped.
	path, version string
	// rel is the file's path below the proxy's root in the GOPROXY
	// layout, escaped and without a leading slash.
	rel string
	// immutable is true for the .info, .mod and .zip of a canonical
	// version: their content never changes.
	immutable bool
	// db and dbPath are, for a checksum-database request, the database's
	// name and the rest of the path ("supported", "latest",
	// "lookup/<path>@<version>", "tile/...").
	db, dbPath string
}

var errBadPath = errors.New("not a module proxy path")

// parseRequest parses the URL path of a GOPROXY protocol request.
func parseRequest(urlPath string) (request, error) {
	p := strings.TrimPrefix(urlPath, "/")
	if rest, ok := strings.CutPrefix(p, "sumdb/"); ok {
		return parseSumDB(rest)
	}
	if esc, ok := strings.CutSuffix(p, "/@latest"); ok {
		path, err := module.UnescapePath(esc)
		if err != nil {
			return request{}, err
		}
		return request{kind: kindLatest, path: path, rel: esc + "/@latest"}, nil
	}
	esc, file, ok := strings.Cut(p, "/@v/")
	if !ok {
		return request{}, errBadPath
	}
	path, err := module.UnescapePath(esc)
	if err != nil {
		return request{}, err
	}
	if file == "list" {
		return request{kind: kindList, path: path, rel: esc + "/@v/list"}, nil
	}
	r := request{path: path}
	var escVers string
	for _, k := range []kind{kindInfo, kindMod, kindZip} {
		if v, ok := strings.CutSuffix(file, "."+k.String()); ok {
			r.kind, escVers = k, v
			break
		}
	}
	if escVers == "" {
		return request{}, errBadPath
	}
	if r.version, err = module.UnescapeVersion(escVers); err != nil {
		return request{}, err
	}
	if r.version == "" || strings.ContainsAny(r.version, "/\\") || strings.HasPrefix(r.version, ".") {
		return request{}, fmt.Errorf("invalid version %q", r.version)
	}
	r.rel = esc + "/@v/" + escVers + "." + r.kind.String()
	r.immutable = semver.IsValid(r.version) && module.CanonicalVersion(r.version) == r.version
	return r, nil
}

// parseSumDB parses "<name>/<endpoint>" below sumdb/.
func parseSumDB(rest string) (request, error) {
	var name, sub string
	for _, sep := range []string{"/lookup/", "/tile/"} {
		if i := strings.Index(rest, sep); i > 0 {
			name, sub = rest[:i], rest[i+1:]
			break
		}
	}
	if name == "" {
		for _, end := range []string{"/supported", "/latest"} {
			if n, ok := strings.CutSuffix(rest, end); ok {
				name, sub = n, end[1:]
				break
			}
		}
	}
	if name == "" || !validDBName(name) {
		return request{}, errBadPath
	}
	r := request{kind: kindSumDB, db: name, dbPath: sub, rel: "sumdb/" + rest}
	switch {
	case strings.HasPrefix(sub, "lookup/"):
		esc, escVers, ok := strings.Cut(strings.TrimPrefix(sub, "lookup/"), "@")
		if !ok {
			return request{}, errBadPath
		}
		var err error
		if r.path, err = module.UnescapePath(esc); err != nil {
			return request{}, err
		}
		if r.version, err = module.UnescapeVersion(escVers); err != nil {
			return request{}, err
		}
	case strings.HasPrefix(sub, "tile/"):
		if _, err := tlog.ParseTilePath(sub); err != nil {
			return request{}, err
		}
	}
	return r, nil
}

// validDBName accepts a checksum database's name: host[/path], without
// empty, "." or ".." elements.
func validDBName(name string) bool {
	for _, elem := range strings.Split(name, "/") {
		if elem == "" || elem == "." || elem == ".." {
			return false
		}
		for _, r := range elem {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-._:", r)) {
				return false
			}
		}
	}
	return true
}
