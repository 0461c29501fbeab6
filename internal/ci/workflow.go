package ci

import (
	"bytes"
	"io"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// MaxAnnotationMessage is the length at which the runner cuts an
// annotation's message; Annotate cuts before it, on a rune boundary.
const MaxAnnotationMessage = 4096

// EscapeData escapes a workflow command's message: % first, then CR and LF.
func EscapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// EscapeProperty escapes a workflow command's property value: as EscapeData,
// and also ':' and ','.
func EscapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// Property is one key=value of a workflow command.
type Property struct {
	Key, Value string
}

// CommandWriter is implemented by writers that let workflow commands
// through unchanged while they neutralise every other line (see
// SafeLines). Command writes through WriteCommand when w has it.
type CommandWriter interface {
	// WriteCommand writes line, a whole workflow command ending in a line
	// break, at the start of a line and unchanged.
	WriteCommand(line string) error
}

// Command writes one workflow command, `::name key=value,...::message`, on a
// line of its own. Properties with an empty value are left out. When w is a
// CommandWriter (a SafeLines guard) the command goes through WriteCommand,
// so it is the one kind of line the guard lets through.
func Command(w io.Writer, name string, props []Property, message string) error {
	var b strings.Builder
	b.WriteString("::")
	b.WriteString(name)
	sep := " "
	for _, p := range props {
		if p.Value == "" {
			continue
		}
		b.WriteString(sep)
		b.WriteString(p.Key)
		b.WriteByte('=')
		b.WriteString(EscapeProperty(p.Value))
		sep = ","
	}
	b.WriteString("::")
	b.WriteString(EscapeData(message))
	b.WriteByte('\n')
	if cw, ok := w.(CommandWriter); ok {
		return cw.WriteCommand(b.String())
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Annotation is an error, warning or notice shown on a file's line.
type Annotation struct {
	// Level is "error", "warning" or "notice".
	Level string
	// File is repository-relative with forward slashes; empty for none.
	File string
	// Line is 1-based; 0 for none.
	Line int
	// Title is shown in bold above the message, such as "MH002 duplicate-major".
	Title string
	// Message may span lines; it is cut at MaxAnnotationMessage.
	Message string
}

// Annotate writes a as a workflow command.
func Annotate(w io.Writer, a Annotation) error {
	var props []Property
	props = append(props, Property{"file", a.File})
	if a.Line > 0 {
		l := strconv.Itoa(a.Line)
		props = append(props, Property{"line", l}, Property{"endLine", l})
	}
	props = append(props, Property{"title", a.Title})
	return Command(w, a.Level, props, cut(a.Message, MaxAnnotationMessage))
}

// cut shortens s to at most n bytes without splitting a UTF-8 sequence.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const more = "…"
	n -= len(more)
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + more
}

// Group starts a collapsible group of log lines titled title; EndGroup ends it.
func Group(w io.Writer, title string) error { return Command(w, "group", nil, title) }

// EndGroup ends the group started by Group.
func EndGroup(w io.Writer) error { return Command(w, "endgroup", nil, "") }

// maxHeldLine is how much of a line without a line break a LineGuard holds
// before it writes the part it has.
const maxHeldLine = 16 << 10

// LineGuard is a writer for text on a stream the GitHub runner reads for
// workflow commands (the process's stdout and stderr on GitHub). The runner
// splits the stream into lines at CR, LF and CRLF; it runs a line as a
// command when, after leading white space, it starts with "::", and also
// when "##[" appears anywhere in it (the old command syntax). A LineGuard
// writes every line so that neither can happen: a line that would start
// with "::" gets "> " in front of it, and "##[" becomes "## [". Text keeps
// its lines otherwise. Workflow commands of our own go through
// WriteCommand (ci.Command and ci.Annotate use it) and are written as they
// are. Make one with SafeLines; it is safe for concurrent use.
//
// The guard holds the start of a line until it sees the line's end, so call
// Flush when nothing more will be written.
type LineGuard struct {
	w    io.Writer
	mu   sync.Mutex
	buf  []byte
	rest bool // buf continues a line whose start was already written
}

var _ CommandWriter = (*LineGuard)(nil)

// SafeLines returns a LineGuard writing to w. On GitHub the command layer
// wraps stdout and stderr with it, outermost (over any redacting writer),
// so that text from outside (module paths, deprecation and retraction
// messages, directory names, INPUT_* values, error messages quoting them)
// can never run a workflow command; workflow commands of our own are
// written through the guard with ci.Command, which lets them pass.
func SafeLines(w io.Writer) *LineGuard { return &LineGuard{w: w} }

// Write writes the complete lines of p, each made safe, and holds the rest
// of the last line.
func (g *LineGuard) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.buf = append(g.buf, p...)
	var out []byte
	for {
		i := bytes.IndexAny(g.buf, "\r\n")
		if i < 0 {
			break
		}
		end := i + 1
		if g.buf[i] == '\r' && end < len(g.buf) && g.buf[end] == '\n' {
			end++
		}
		out = append(out, safeLine(g.buf[:i], g.rest)...)
		out = append(out, g.buf[i:end]...)
		g.buf, g.rest = g.buf[end:], false
	}
	if len(g.buf) > maxHeldLine && !g.undecided() {
		// Write what is held but a trailing "#" or "##", which the next
		// write may turn into "##[".
		keep := len(g.buf) - len(bytes.TrimRight(g.buf, "#"))
		keep = min(keep, 2)
		out = append(out, safeLine(g.buf[:len(g.buf)-keep], g.rest)...)
		g.buf, g.rest = g.buf[len(g.buf)-keep:], true
	}
	g.buf = append([]byte(nil), g.buf...)
	if len(out) > 0 {
		if _, err := g.w.Write(out); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// undecided reports whether the held start of a line could still become
// "::" after white space: it is all white space, or white space and one
// colon, or ends in part of a multi-byte character.
func (g *LineGuard) undecided() bool {
	if g.rest {
		return false
	}
	t := bytes.TrimLeftFunc(g.buf, unicode.IsSpace)
	return len(t) == 0 || string(t) == ":" || !utf8.FullRune(t)
}

// WriteCommand ends a held partial line with a line break, then writes
// line (a workflow command made by Command) unchanged.
func (g *LineGuard) WriteCommand(line string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.flush("\n"); err != nil {
		return err
	}
	_, err := io.WriteString(g.w, line)
	return err
}

// Flush writes a held partial line, made safe, without adding a line break.
func (g *LineGuard) Flush() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.flush("")
}

func (g *LineGuard) flush(eol string) error {
	if len(g.buf) == 0 && !g.rest {
		return nil
	}
	out := append(safeLine(g.buf, g.rest), eol...)
	g.buf, g.rest = nil, eol == ""
	if eol == "" && len(out) == 0 {
		return nil
	}
	_, err := g.w.Write(out)
	return err
}

// SafeLine returns line (text without line breaks) so that the GitHub
// runner cannot take it as a workflow command: "> " in front when it starts
// with "::" after white space, and "##[" written as "## [". It is what a
// LineGuard does to each line.
func SafeLine(line string) string { return string(safeLine([]byte(line), false)) }

// safeLine makes line safe; rest is set when line continues a line whose
// start was already written.
func safeLine(line []byte, rest bool) []byte {
	out := bytes.ReplaceAll(line, []byte("##["), []byte("## ["))
	if !rest && bytes.HasPrefix(bytes.TrimLeftFunc(out, unicode.IsSpace), []byte("::")) {
		out = append([]byte("> "), out...)
	}
	return out
}
