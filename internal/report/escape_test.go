package report_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/modhygiene/modhygiene/internal/report"
)

// ourTags are the HTML tags the markdown renderer writes itself.
var ourTags = map[string]bool{"br": true, "sub": true, "/sub": true, "details": true, "/details": true,
	"summary": true, "/summary": true, "code": true, "/code": true}

// withoutCodeSpans removes the code spans of a markdown line as CommonMark
// finds them: a run of n backticks (not escaped) opens one, the next run of
// exactly n closes it; a run that is never closed is literal.
func withoutCodeSpans(line string) string {
	var b strings.Builder
	for i := 0; i < len(line); {
		c := line[i]
		if c == '\\' && i+1 < len(line) {
			b.WriteString(line[i : i+2])
			i += 2
			continue
		}
		if c != '`' {
			b.WriteByte(c)
			i++
			continue
		}
		n := 0
		for i+n < len(line) && line[i+n] == '`' {
			n++
		}
		close := -1
		for j := i + n; j < len(line); {
			if line[j] != '`' {
				j++
				continue
			}
			m := 0
			for j+m < len(line) && line[j+m] == '`' {
				m++
			}
			if m == n {
				close = j
				break
			}
			j += m
		}
		if close < 0 {
			b.WriteString(line[i : i+n])
			i += n
			continue
		}
		b.WriteString("CODE")
		i = close + n
	}
	return b.String()
}

// unescapedPipes counts the pipes of a table row that split cells.
func unescapedPipes(line string) int {
	n := 0
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '\\':
			i++
		case '|':
			n++
		}
	}
	return n
}

var tag = regexp.MustCompile(`<(/?[A-Za-z][A-Za-z0-9]*)`)

// TestMarkdownInert: in every summary and note, including the hostile
// stream's (a directory named x`<img src=x onerror=alert(1)>`$(touch
// PWNED), messages full of markup), every table row has its five cells,
// every HTML tag outside code spans is one of ours, no code span is left
// open, and no text from outside starts a line.
func TestMarkdownInert(t *testing.T) {
	for _, path := range streams(t) {
		run, _ := readRun(t, path)
		md := report.Markdown(run, report.MarkdownOptions{Marker: "<!-- modhygiene:job -->"})
		inFence := false
		for n, line := range strings.Split(md, "\n") {
			if strings.HasPrefix(line, "```") {
				inFence = line == "```mermaid"
				continue
			}
			if inFence {
				continue
			}
			rest := withoutCodeSpans(line)
			for _, m := range tag.FindAllStringSubmatch(rest, -1) {
				if !ourTags[strings.ToLower(m[1])] {
					t.Errorf("%s:%d: HTML tag <%s outside a code span: %q", path, n+1, m[1], line)
				}
			}
			if strings.Contains(rest, "`") && !strings.Contains(rest, "\\`") {
				t.Errorf("%s:%d: an unmatched backtick: %q", path, n+1, line)
			}
			if strings.HasPrefix(line, "| ") && !strings.HasPrefix(line, "| rule ") && !strings.HasPrefix(line, "| stage ") {
				cells := unescapedPipes(line) - 1
				if cells != 5 && cells != 6 {
					t.Errorf("%s:%d: %d cells: %q", path, n+1, cells, line)
				}
			}
			for _, bad := range []string{"::error", "::add-mask", "click n0"} {
				if strings.HasPrefix(strings.TrimSpace(line), bad) {
					t.Errorf("%s:%d: outside text starts a line: %q", path, n+1, line)
				}
			}
		}
		if inFence {
			t.Errorf("%s: a code block is left open", path)
		}
	}
}

// TestTextOutputIsOneLinePerField: the text format prints each field of a
// finding on its own line, whatever the field holds, with no control
// character and no workflow command in the old syntax.
func TestTextOutputIsOneLinePerField(t *testing.T) {
	run, _ := readRun(t, "testdata/streams/hostile.json")
	var b bytes.Buffer
	if err := report.Replay(run, report.NewTextHandler(&b)); err != nil {
		t.Fatal(err)
	}
	for n, line := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "::") || strings.Contains(line, "##[") || strings.ContainsAny(line, "\r\x1b") {
			t.Errorf("line %d: %q", n+1, line)
		}
	}
	for in, want := range map[string]string{
		"a\nb\r\nc\rd":         "a b c d",
		"\x1b[31mred\x1b[0m":   `\x1b[31mred\x1b[0m`,
		"rtl\u202eevil":        `rtl\u202eevil`,
		"tab\tkept ##[x]":      "tab\tkept ## [x]",
		"bad utf8 \xff":        `bad utf8 \xff`,
		"日本語 ok, ünïcödé kept": "日本語 ok, ünïcödé kept",
	} {
		if got := report.OneLine(in); got != want {
			t.Errorf("OneLine(%q) = %q, want %q", in, got, want)
		}
	}
}
