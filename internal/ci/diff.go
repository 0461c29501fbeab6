package ci

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
)

// Changes are the lines a change added or modified, by repository-relative
// file path with forward slashes. The zero value holds no change.
type Changes map[string][]LineRange

// LineRange is the 1-based lines From to To inclusive.
type LineRange struct{ From, To int }

// Has reports whether line of file changed. Line 0 (a finding about the
// whole file) counts as changed when any line of the file did.
func (c Changes) Has(file string, line int) bool {
	rs, ok := c[file]
	if !ok {
		return false
	}
	if line <= 0 {
		return true
	}
	i := sort.Search(len(rs), func(i int) bool { return rs[i].To >= line })
	return i < len(rs) && rs[i].From <= line
}

// ParseDiff reads the new-side line ranges of a unified diff as `git diff`
// prints it (best with -U0). Deleted files are left out; a file whose hunks
// only delete lines is present with no ranges, so that Has(file, 0) holds.
func ParseDiff(data []byte) Changes {
	c := Changes{}
	file := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "+++ "):
			file = diffPath(strings.TrimPrefix(line, "+++ "))
			if file != "" {
				if _, ok := c[file]; !ok {
					c[file] = nil
				}
			}
		case strings.HasPrefix(line, "@@ ") && file != "":
			if r, ok := hunkRange(line); ok {
				c[file] = append(c[file], r)
			}
		}
	}
	for f, rs := range c {
		sort.Slice(rs, func(i, j int) bool { return rs[i].From < rs[j].From })
		c[f] = rs
	}
	return c
}

// diffPath turns the name on a "+++ " line into a repository path: "" for
// /dev/null, the "b/" prefix dropped, C-style quoting undone.
func diffPath(s string) string {
	s = strings.TrimRight(s, "\t")
	if strings.HasPrefix(s, `"`) {
		if u, err := strconv.Unquote(s); err == nil {
			s = u
		}
	}
	if s == "/dev/null" {
		return ""
	}
	return strings.TrimPrefix(s, "b/")
}

// hunkRange reads "@@ -a,b +c,d @@" into the new-side lines c .. c+d-1.
func hunkRange(line string) (LineRange, bool) {
	fields := strings.Fields(line)
	if len(fields) < 3 || !strings.HasPrefix(fields[2], "+") {
		return LineRange{}, false
	}
	start, count, ok := strings.Cut(fields[2][1:], ",")
	from, err := strconv.Atoi(start)
	if err != nil {
		return LineRange{}, false
	}
	n := 1
	if ok {
		if n, err = strconv.Atoi(count); err != nil {
			return LineRange{}, false
		}
	}
	if n == 0 {
		return LineRange{}, false
	}
	return LineRange{From: from, To: from + n - 1}, true
}

// GitDiff asks git, once, for the changes between base and the checked-out
// commit in the repository at dir, with the environment env (KEY=VALUE).
func GitDiff(ctx context.Context, dir string, env []string, base string) (Changes, error) {
	if base == "" || strings.HasPrefix(base, "-") || strings.ContainsAny(base, " \t\r\n") {
		return nil, fmt.Errorf("git diff: invalid base %q", base)
	}
	cmd := exec.CommandContext(ctx, "git", "-c", "core.quotePath=false", "diff",
		"--no-color", "--no-ext-diff", "--unified=0", base, "HEAD", "--")
	cmd.Dir = dir
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i]
		}
		if msg != "" {
			return nil, fmt.Errorf("git diff %s HEAD: %v: %s", base, err, msg)
		}
		return nil, fmt.Errorf("git diff %s HEAD: %w", base, err)
	}
	return ParseDiff(out), nil
}

// ChangedLines returns which lines of the repository at dir the pull or
// merge request changed, from the review's base commit and one git diff
// (run with the environment env). It returns nil without error outside a
// review; the error says why the lines are unknown, with advice.
func (e *Env) ChangedLines(ctx context.Context, dir string, env []string) (func(file string, line int) bool, error) {
	rv, err := e.Review(os.ReadFile)
	if err != nil || rv == nil || rv.BaseSHA == "" {
		return nil, err
	}
	c, err := GitDiff(ctx, dir, env, rv.BaseSHA)
	if err != nil {
		hint := ""
		if e.Platform == GitHub {
			hint = " (actions/checkout needs fetch-depth: 2 or more for the base commit)"
		}
		return nil, fmt.Errorf("changed lines unknown%s; findings keep their usual order: %w", hint, err)
	}
	return c.Has, nil
}
