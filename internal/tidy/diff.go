package tidy

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// FileChange summarises one file's part of a tidy diff.
type FileChange struct {
	// Name is "go.mod" or "go.sum".
	Name string
	// Added and Removed are the changed lines. A removed line's Line is its
	// line in the current file; an added line's Line is the current line
	// it follows (at least 1).
	Added, Removed []DiffLine
}

// DiffLine is one added or removed line of a diff.
type DiffLine struct {
	Text string
	Line int
}

var hunkRE = regexp.MustCompile(`^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@`)

// ParseDiff summarises a diff printed by `go mod tidy -diff` (or by fix
// mode), file by file, in the order they appear.
func ParseDiff(d string) []FileChange {
	var out []FileChange
	var cur *FileChange
	oldLine := 0
	for _, l := range strings.Split(d, "\n") {
		switch {
		case strings.HasPrefix(l, "--- "):
			name := strings.TrimSpace(l[len("--- "):])
			out = append(out, FileChange{Name: name[strings.LastIndex(name, "/")+1:]})
			cur = &out[len(out)-1]
		case cur == nil, strings.HasPrefix(l, "+++ "):
		case hunkRE.MatchString(l):
			m := hunkRE.FindStringSubmatch(l)
			oldLine, _ = strconv.Atoi(m[1])
			if m[2] == "0" {
				oldLine++ // the hunk inserts after line N
			}
		case strings.HasPrefix(l, "-"):
			cur.Removed = append(cur.Removed, DiffLine{l[1:], oldLine})
			oldLine++
		case strings.HasPrefix(l, "+"):
			cur.Added = append(cur.Added, DiffLine{l[1:], max(oldLine-1, 1)})
		case strings.HasPrefix(l, " "):
			oldLine++
		}
	}
	return out
}

// Summary describes the change in a few words, such as "go.mod +1 -2".
func (c FileChange) Summary() string {
	return fmt.Sprintf("%s +%d -%d", c.Name, len(c.Added), len(c.Removed))
}

// Net returns the meaningful lines that tidy adds and removes, ignoring
// lines that only moved (a requirement taken into or out of a block) and
// blank or bracket lines. A requirement that stays but changes (its
// version, or only its "// indirect" comment) is in marked, with its new
// text and its line in the current file.
func (c FileChange) Net() (added, removed, marked []DiffLine) {
	before, after := map[string]DiffLine{}, map[string]string{}
	for _, l := range c.Removed {
		if n := normalize(l.Text); n != "" {
			before[key(n)] = DiffLine{n, l.Line}
		}
	}
	for _, l := range c.Added {
		if n := normalize(l.Text); n != "" {
			after[key(n)] = n
		}
	}
	for _, l := range c.Added {
		n := normalize(l.Text)
		old, ok := before[key(n)]
		switch {
		case n == "":
		case !ok:
			added = append(added, DiffLine{n, l.Line})
		case old.Text != n:
			marked = append(marked, DiffLine{n, old.Line})
		}
	}
	for _, l := range c.Removed {
		if n := normalize(l.Text); n != "" {
			if _, ok := after[key(n)]; !ok {
				removed = append(removed, DiffLine{n, l.Line})
			}
		}
	}
	return added, removed, marked
}

// key identifies a go.mod line across a change: a requirement by its
// module path (so that a new version or "// indirect" marker is a change
// of the same line), any other line by its text.
func key(n string) string {
	f := strings.Fields(n)
	if len(f) >= 2 && !strings.Contains(n, "=>") && strings.HasPrefix(f[1], "v") {
		return "require " + f[0]
	}
	return n
}

// Line is the line a finding about this change points at, the line to
// change: a requirement that changes (version or "// indirect") before a
// line that goes away, and that before the place a line is added; a direct
// requirement before an indirect one, which is usually its consequence.
func (c FileChange) Line() int {
	added, removed, marked := c.Net()
	for _, ls := range [][]DiffLine{marked, direct(removed), removed, direct(added), added, c.Removed, c.Added} {
		if len(ls) > 0 {
			return ls[0].Line
		}
	}
	return 1
}

// direct keeps the lines that are not marked "// indirect".
func direct(ls []DiffLine) []DiffLine {
	var out []DiffLine
	for _, l := range ls {
		if !strings.HasSuffix(l.Text, "// indirect") {
			out = append(out, l)
		}
	}
	return out
}

func normalize(l string) string {
	l = strings.TrimSpace(l)
	l = strings.TrimSpace(strings.TrimPrefix(l, "require "))
	if l == "(" || l == ")" || l == "require (" {
		return ""
	}
	return l
}
