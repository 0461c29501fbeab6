package tidy

import (
	"fmt"
	"strings"

	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

// Finding returns the MH001 finding for an untidy module: on the go.mod
// line to change (see FileChange.Line; go.sum's first change when go.mod
// is tidy), with the diff as detail and the command that fixes it. For a
// Failed result it returns the MH000 finding (see Failure).
func (r *Result) Finding() finding.Finding {
	if r.Status == Failed {
		return r.Failure()
	}
	m := r.Module
	changes := ParseDiff(r.Diff)
	file, line := m.GoModFile(), 1
	if c, ok := firstChange(changes); ok {
		line = c.Line()
		if c.Name == "go.sum" {
			file = m.GoSumFile()
		}
	}
	f := finding.Finding{
		Rule:     "MH001",
		Severity: finding.Error,
		Module:   m.Name(),
		File:     file,
		Line:     line,
		Subject:  "tidy",
		Message:  describe(changes),
		Detail:   r.Diff,
		Fix:      FixCommand(m),
	}
	f.Normalize()
	return f
}

// FixCommand is the command, run from the repository root, that tidies m:
// "go mod tidy", after "cd DIR &&" (the directory quoted for the shell) for
// a module below the root.
func FixCommand(m *workspace.Module) string {
	return finding.InDir(m.Rel, finding.Command("go", "mod", "tidy"))
}

func firstChange(cs []FileChange) (FileChange, bool) {
	for _, c := range cs {
		if c.Name == "go.mod" {
			return c, true
		}
	}
	if len(cs) > 0 {
		return cs[0], true
	}
	return FileChange{}, false
}

// describe says in one line what tidy would change.
func describe(cs []FileChange) string {
	var parts []string
	for _, c := range cs {
		if c.Name != "go.mod" {
			parts = append(parts, fmt.Sprintf("%s: %d lines to add, %d to remove", c.Name, len(c.Added), len(c.Removed)))
			continue
		}
		added, removed, marked := c.Net()
		if s := listLines("add", added); s != "" {
			parts = append(parts, "go.mod: "+s)
		}
		if s := listLines("remove", removed); s != "" {
			parts = append(parts, "go.mod: "+s)
		}
		if s := listLines("rewrite as", marked); s != "" {
			parts = append(parts, "go.mod: "+s)
		}
	}
	if len(parts) == 0 {
		return "go mod tidy would change this module"
	}
	return "not tidy: " + strings.Join(parts, "; ")
}

// listLines lists changed go.mod lines, at most three.
func listLines(verb string, lines []DiffLine) string {
	if len(lines) == 0 {
		return ""
	}
	var keep []string
	for _, l := range lines[:min(len(lines), 3)] {
		keep = append(keep, "\""+l.Text+"\"")
	}
	more := ""
	if len(lines) > 3 {
		more = fmt.Sprintf(" and %d more", len(lines)-3)
	}
	return verb + " " + strings.Join(keep, ", ") + more
}
