package ci

import (
	"io"
	"strconv"
	"strings"
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

// Command writes one workflow command, `::name key=value,...::message`, on a
// line of its own. Properties with an empty value are left out.
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
