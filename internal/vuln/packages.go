package vuln

import (
	"errors"
	"go/build"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/semver"

	"github.com/modhygiene/modhygiene/internal/workspace"
)

// buildContext returns the build constraints the go command applies for
// the environment that get reads (the values of `go env`): GOOS, GOARCH,
// CGO_ENABLED, the -tags of GOFLAGS, and the release tags of GOVERSION.
// What get does not know is taken from go/build's defaults.
func buildContext(get func(string) string) *build.Context {
	c := build.Default
	if v := get("GOOS"); v != "" {
		c.GOOS = v
	}
	if v := get("GOARCH"); v != "" {
		c.GOARCH = v
	}
	if v := get("CGO_ENABLED"); v != "" {
		c.CgoEnabled = v == "1"
	}
	c.BuildTags = nil
	for _, f := range strings.Fields(get("GOFLAGS")) {
		if tags, ok := strings.CutPrefix(strings.TrimLeft(f, "-"), "tags="); ok {
			c.BuildTags = append(c.BuildTags, strings.Split(tags, ",")...)
		}
	}
	if tags := releaseTags(get("GOVERSION")); tags != nil {
		c.ReleaseTags = tags
	}
	return &c
}

// releaseTags returns go1.1 up to the minor version of the Go release v
// (go1.26.8), or nil when v is not one.
func releaseTags(v string) []string {
	sv := goSemver(v)
	if sv == "" || semver.Major(sv) != "v1" {
		return nil
	}
	minor, err := strconv.Atoi(strings.TrimPrefix(semver.MajorMinor(sv), "v1."))
	if err != nil || minor < 1 {
		return nil
	}
	tags := make([]string, minor)
	for i := range tags {
		tags[i] = "go1." + strconv.Itoa(i+1)
	}
	return tags
}

// hasPackages reports whether the module in dir has a package that the go
// command would load under ctx's constraints: a Go file (a _test.go file
// only when tests is set) that its build constraints and file name admit,
// outside nested modules and the directories the go command ignores. A
// module whose only Go file is a `//go:build tools` file has none. A file
// whose constraints cannot be read counts as a package: the scan reports
// what is wrong with it.
func hasPackages(dir string, ctx *build.Context, tests bool) bool {
	found := errors.New("found")
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if p == dir {
				return nil
			}
			if workspace.Skip(d.Name()) {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
				return filepath.SkipDir
			}
			return nil
		}
		name := d.Name()
		if !strings.HasSuffix(name, ".go") || !tests && strings.HasSuffix(name, "_test.go") {
			return nil
		}
		if ok, err := ctx.MatchFile(filepath.Dir(p), name); ok || err != nil {
			return found
		}
		return nil
	})
	return err == found
}
