package ci

import (
	"bytes"
	"strings"
	"testing"
	"unicode"
)

// runnerCommands returns the lines of out that the GitHub runner would run
// as workflow commands, by its rules (ActionCommand.TryParseV2 and
// TryParse): lines split at CR, LF and CRLF; "::" after leading white space,
// or "##[" anywhere.
func runnerCommands(out string) []string {
	var cmds []string
	for _, l := range strings.FieldsFunc(out, func(r rune) bool { return r == '\r' || r == '\n' }) {
		if strings.HasPrefix(strings.TrimLeftFunc(l, unicode.IsSpace), "::") || strings.Contains(l, "##[") {
			cmds = append(cmds, l)
		}
	}
	return cmds
}

var hostileLines = []string{
	"::error title=INJECTED::pwned\n",
	"  \t::add-mask::SECRET\n",
	"text\r::warning::after a lone CR\r\n",
	"\u00a0\u3000::notice::after Unicode white space\n",
	"retracted: see ##[error]legacy command mid-line\n",
	"###[error] and ####[x]\n",
	"::",
	"ok line\n",
	"\n\n",
	":",
	":stop-commands::tok\n",
}

// TestSafeLinesNeutralises: whatever is written, and however the writes
// are split, the runner finds no command but our own.
func TestSafeLinesNeutralises(t *testing.T) {
	input := strings.Join(hostileLines, "")
	for split := 1; split <= len(input); split++ {
		var out bytes.Buffer
		g := SafeLines(&out)
		for i := 0; i < len(input); i += split {
			if _, err := g.Write([]byte(input[i:min(i+split, len(input))])); err != nil {
				t.Fatal(err)
			}
		}
		if err := Annotate(g, Annotation{Level: "error", File: "go.mod", Line: 3, Title: "MH007 retracted", Message: "a\n::error::b ##[x]"}); err != nil {
			t.Fatal(err)
		}
		g.Write([]byte("::tail without a line break"))
		if err := g.Flush(); err != nil {
			t.Fatal(err)
		}
		cmds := runnerCommands(out.String())
		want := []string{"::error file=go.mod,line=3,endLine=3,title=MH007 retracted::a%0A::error::b ##[x]"}
		if len(cmds) != 1 || cmds[0] != want[0] {
			t.Fatalf("split %d: the runner would run %q\noutput:\n%s", split, cmds, out.String())
		}
		// The text is kept: only "> " and "## [" were added.
		plain := strings.NewReplacer("> ", "", "## [", "##[").Replace(out.String())
		plain = strings.Replace(plain, want[0]+"\n", "", 1)
		if wantText := input + "\n::tail without a line break"; strings.ReplaceAll(plain, "\n", "") != strings.ReplaceAll(wantText, "\n", "") {
			t.Fatalf("split %d: text changed:\n%q\nwant\n%q", split, plain, wantText)
		}
	}
}

func TestSafeLine(t *testing.T) {
	for in, want := range map[string]string{
		"plain":              "plain",
		"::error::x":         "> ::error::x",
		" \t::x":             ">  \t::x",
		"a ::x":              "a ::x",
		"a ##[error]b":       "a ## [error]b",
		"##[group]x ##[y]":   "## [group]x ## [y]",
		"\u2028::add-mask::": "> \u2028::add-mask::",
	} {
		if got := SafeLine(in); got != want {
			t.Errorf("SafeLine(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSafeLinesHoldsOnlyUndecidedStarts: a long line without a break is
// written once it is known not to be a command, and a command written in
// the middle of a partial line starts on a line of its own.
func TestSafeLinesHoldsOnlyUndecidedStarts(t *testing.T) {
	var out bytes.Buffer
	g := SafeLines(&out)
	long := strings.Repeat("x", maxHeldLine+10)
	g.Write([]byte(long))
	if out.Len() == 0 {
		t.Fatalf("a %d-byte line was held whole", len(long))
	}
	g.Write([]byte("#"))
	g.Write([]byte("#[error]split"))
	if err := Command(g, "group", nil, "title"); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), long+"## [error]split\n::group::title\n"; got != want {
		t.Errorf("got %q...\nwant %q...", got[len(long)-5:], want[len(long)-5:])
	}
	out.Reset()
	g = SafeLines(&out)
	g.Write([]byte(strings.Repeat(" ", maxHeldLine+10)))
	g.Write([]byte("::error::late"))
	g.Flush()
	if cmds := runnerCommands(out.String()); len(cmds) != 0 {
		t.Errorf("a command after a long run of white space got through: %q", cmds)
	}
}

// TestAnnotationEscapes: a message and properties from outside stay one
// command with the runner's escapes.
func TestAnnotationEscapes(t *testing.T) {
	var out bytes.Buffer
	Annotate(&out, Annotation{Level: "warning", File: "a,b:c%/go.mod", Line: 2, Title: "T: x, y", Message: "100% \r\n::error::x"})
	want := "::warning file=a%2Cb%3Ac%25/go.mod,line=2,endLine=2,title=T%3A x%2C y::100%25 %0D%0A::error::x\n"
	if out.String() != want {
		t.Errorf("got  %q\nwant %q", out.String(), want)
	}
}
