package cache

import (
	"bufio"
	"bytes"
	"sort"
	"strings"
)

// Version is one module version named by a go.sum line.
type Version struct {
	Path    string
	Version string
	// ModOnly is true when the go.sum lines name only the version's go.mod
	// (the "/go.mod" hash), so the zip and extracted tree are not needed.
	ModOnly bool
}

// SumLines returns the well-formed, de-duplicated lines of go.sum files,
// sorted. Malformed lines are skipped: the go command reports them.
func SumLines(files ...[]byte) []string {
	seen := map[string]bool{}
	var out []string
	for _, data := range files {
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) != 3 || !strings.HasPrefix(f[2], "h1:") {
				continue
			}
			if _, _, err := escape(f[0], strings.TrimSuffix(f[1], "/go.mod")); err != nil {
				continue
			}
			line := strings.Join(f, " ")
			if !seen[line] {
				seen[line] = true
				out = append(out, line)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Versions returns the module versions named by sorted go.sum lines.
func Versions(lines []string) []Version {
	idx := map[[2]string]int{}
	var out []Version
	for _, l := range lines {
		f := strings.Fields(l)
		v, modOnly := strings.CutSuffix(f[1], "/go.mod")
		k := [2]string{f[0], v}
		if i, ok := idx[k]; ok {
			out[i].ModOnly = out[i].ModOnly && modOnly
			continue
		}
		idx[k] = len(out)
		out = append(out, Version{Path: f[0], Version: v, ModOnly: modOnly})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Version < out[j].Version
	})
	return out
}

// linePath returns the module path of a go.sum line.
func linePath(l string) string {
	p, _, _ := strings.Cut(l, " ")
	return p
}
