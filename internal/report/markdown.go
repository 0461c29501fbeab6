package report

import (
	"fmt"
	"sort"
	"strings"

	"github.com/modhygiene/modhygiene/internal/finding"
)

// MarkdownOptions configure Markdown. The zero value renders everything
// without a verdict line, a marker or a size limit, with at most
// DefaultDiagrams dependency diagrams.
type MarkdownOptions struct {
	// Marker, when set, is the first line (a hidden HTML comment such as
	// "<!-- modhygiene -->" that finds the note again).
	Marker string
	// Verdict, when set, is the run's verdict, computed once by the caller.
	Verdict *Counts
	// FailOn is the level the verdict used.
	FailOn FailOn
	// Changed, when set, reports whether a finding's line was changed by the
	// pull or merge request; those findings come first in their tables and
	// are marked.
	Changed func(file string, line int) bool
	// Note is a paragraph of markdown placed after the counts (such as which
	// findings became annotations). It is written as it is: never put text
	// from outside in it.
	Note string
	// Limit is the largest output in bytes; rows are left out, with a note
	// saying so, to stay under it. 0 means no limit.
	Limit int
	// Diagrams is how many findings get a Mermaid diagram of their
	// dependency paths, the largest first; 0 means DefaultDiagrams and a
	// negative number draws none. The stage timing chart is drawn whenever
	// the run has stages, unless Diagrams is negative.
	Diagrams int
}

// Markdown renders a run for a GitHub job summary, a GitLab note or
// --format markdown: the verdict (a stage that could not run first), the
// counts by rule, Mermaid diagrams of the dependency paths behind the
// findings that compare two modules or versions, a table per module with
// every finding, and the stage timings with a chart. Every text that can
// come from outside is escaped for the place it lands in (see mdText,
// mdCode and mermaidText), so no module path, message or directory name can
// add markup, break a table or leave a code span.
func Markdown(run *Run, opt MarkdownOptions) string {
	head := markdownHead(run, opt)
	tail := markdownTail(run, opt)
	diagrams := ""
	if opt.Diagrams >= 0 {
		diagrams = PathDiagrams(run.Findings, opt.Diagrams)
	}
	if opt.Limit <= 0 {
		tables, _ := markdownTables(run, opt, -1)
		return head + diagrams + tables + tail
	}
	// Room for the note that says rows were cut.
	room := opt.Limit - len(head) - len(tail) - 300
	tables, cut := markdownTables(run, opt, max(room-len(diagrams), 0))
	if cut && diagrams != "" {
		// The findings matter more than the pictures.
		diagrams = diagramsCut
		tables, _ = markdownTables(run, opt, max(room-len(diagrams), 0))
	}
	return head + diagrams + tables + tail
}

// diagramsCut replaces the diagrams when they would not fit.
const diagramsCut = "> [!NOTE]\n> The dependency diagrams were left out to stay under the size limit.\n\n"

// markdownHead is the marker, the title, the verdict, the counts and the
// caller's note.
func markdownHead(run *Run, opt MarkdownOptions) string {
	var b strings.Builder
	if opt.Marker != "" {
		b.WriteString(opt.Marker + "\n")
	}
	c := Verdict(run.Findings, Never)
	cmd := run.Header.Command
	if cmd == "" {
		cmd = "run"
	}
	fmt.Fprintf(&b, "## modhygiene %s: %s\n\n", mdText(cmd), plural(c.Total(), "finding"))
	if line := verdictLine(run.Findings, opt); line != "" {
		b.WriteString(line + "\n\n")
	}
	if c.Total() > 0 {
		fmt.Fprintf(&b, "%d errors, %d warnings, %d info", c.Errors, c.Warnings, c.Infos)
		if old := c.Total() - c.New; old > 0 {
			fmt.Fprintf(&b, "; %d new, %d already on the base branch", c.New, old)
		}
		b.WriteString(".\n\n")
		writeRuleCounts(&b, run.Findings)
	}
	if opt.Note != "" {
		b.WriteString(opt.Note + "\n\n")
	}
	return b.String()
}

// verdictLine is "**Failed**: ..." or "**Passed**: ...". A stage that could
// not run makes it Failed whatever the verdict and --fail-on say; without
// a failure and without a verdict it is empty.
func verdictLine(fs []finding.Finding, opt MarkdownOptions) string {
	v := opt.Verdict
	if failed := Failures(fs); len(failed) > 0 {
		line := "**Failed**: " + FailureLine(failed)
		if v != nil && v.Fails() && opt.FailOn != Never {
			line += fmt.Sprintf("; %s at or above %s", plural(v.Failing, "new finding"), opt.FailOn)
		}
		return line + "."
	}
	switch {
	case v == nil:
		return ""
	case opt.FailOn == Never:
		return "**Passed**: --fail-on never."
	case v.Fails():
		return fmt.Sprintf("**Failed**: %s at or above %s.", plural(v.Failing, "new finding"), opt.FailOn)
	}
	return fmt.Sprintf("**Passed**: no new finding at or above %s.", opt.FailOn)
}

// markdownTail is the stage table, the timing chart and the version line.
func markdownTail(run *Run, opt MarkdownOptions) string {
	var b strings.Builder
	if len(run.Stages) > 0 {
		b.WriteString("### Stages\n\n| stage | status | time | previous run | change | summary |\n|---|---|--:|--:|--:|---|\n")
		for _, s := range run.Stages {
			prev, change := "", ""
			if s.Previous > 0 {
				prev = FormatDuration(s.Previous)
				d := s.Duration - s.Previous
				sign := "+"
				if d < 0 {
					sign, d = "−", -d
				}
				change = fmt.Sprintf("%s%s (%s%d%%)", sign, FormatDuration(d), sign, int(float64(d)*100/float64(s.Previous)+0.5))
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", mdText(s.Name), mdText(s.Status), FormatDuration(s.Duration), prev, change, mdText(s.Summary))
		}
		b.WriteString("\n")
		if opt.Diagrams >= 0 {
			if chart := TimingChart(run.Stages); chart != "" {
				b.WriteString("<details><summary>Stage timings, drawn</summary>\n\n" + mermaidBlock(chart) + "\n</details>\n\n")
			}
		}
	}
	b.WriteString("<sub>modhygiene " + mdText(run.Header.Version) + "</sub>\n")
	return b.String()
}

// markdownTables is a table per module with every finding, cut to budget
// bytes (a negative budget is no limit) with a note saying so; cut reports
// whether rows were left out.
func markdownTables(run *Run, opt MarkdownOptions, budget int) (md string, cut bool) {
	var body strings.Builder
	shown := 0
	for _, g := range GroupByModule(run.Findings) {
		fs := g.Findings
		if opt.Changed != nil {
			sort.SliceStable(fs, func(i, j int) bool {
				return opt.Changed(fs[i].File, fs[i].Line) && !opt.Changed(fs[j].File, fs[j].Line)
			})
		}
		var t strings.Builder
		fmt.Fprintf(&t, "### %s\n\n| severity | location | rule | finding | fix |\n|---|---|---|---|---|\n", groupHeading(&run.Header, g.Module))
		if budget >= 0 && body.Len()+t.Len() > budget {
			cut = true
			break
		}
		rows := 0
		for i := range fs {
			row := markdownRow(&fs[i], opt.Changed)
			if budget >= 0 && body.Len()+t.Len()+len(row) > budget {
				cut = true
				break
			}
			t.WriteString(row)
			rows++
		}
		if rows > 0 {
			body.WriteString(t.String())
			body.WriteString("\n")
			shown += rows
		}
		if cut {
			break
		}
	}
	if cut {
		fmt.Fprintf(&body, "> [!NOTE]\n> This summary was cut to stay under its size limit: %d of %d findings are listed. The job log and the JSON report have them all.\n\n", shown, len(run.Findings))
	}
	return body.String(), cut
}

// groupHeading titles a module's table: the module path and its go.mod.
func groupHeading(h *Header, module string) string {
	if module == "" {
		return mdText(ModuleTitle(h, module))
	}
	for _, m := range h.Modules {
		if m.Path == module && m.GoMod != "" {
			return fmt.Sprintf("%s (%s)", mdText(module), mdCode(m.GoMod))
		}
	}
	return mdText(module)
}

func writeRuleCounts(b *strings.Builder, fs []finding.Finding) {
	type row struct {
		title string
		c     Counts
	}
	byRule := map[string]*row{}
	for _, f := range fs {
		r := byRule[f.Rule]
		if r == nil {
			r = &row{title: f.Title()}
			byRule[f.Rule] = r
		}
		switch severity(&f) {
		case finding.Error:
			r.c.Errors++
		case finding.Warning:
			r.c.Warnings++
		default:
			r.c.Infos++
		}
	}
	var ids []string
	for id := range byRule {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	b.WriteString("| rule | errors | warnings | info | total |\n|---|--:|--:|--:|--:|\n")
	for _, id := range ids {
		r := byRule[id]
		fmt.Fprintf(b, "| %s | %d | %d | %d | %d |\n", mdText(r.title), r.c.Errors, r.c.Warnings, r.c.Infos, r.c.Total())
	}
	b.WriteString("\n")
}

func markdownRow(f *finding.Finding, changed func(string, int) bool) string {
	loc := f.File
	if f.Line > 0 {
		loc = fmt.Sprintf("%s:%d", f.File, f.Line)
	}
	locCell := ""
	if loc != "" {
		locCell = mdCode(loc)
	}
	if changed != nil && changed(f.File, f.Line) {
		locCell += " ✎"
	}
	msg := mdText(f.Message)
	if f.IsFailure() && f.Module != "" {
		msg = mdText(f.Module) + ": " + msg
	}
	if len(f.Path) > 0 {
		msg += "<br><sub>via " + mdText(strings.Join(f.Path, " → ")) + "</sub>"
	}
	if f.Existing && !f.IsFailure() {
		msg += " <sub>(existing)</sub>"
	}
	fix := ""
	if f.Fix != "" {
		fix = mdCode(f.Fix)
	}
	return fmt.Sprintf("| %s | %s | %s | %s | %s |\n", severityIcon(f), locCell, mdText(f.Title()), msg, fix)
}

func severityIcon(f *finding.Finding) string {
	if f.IsFailure() {
		return "⛔ failed"
	}
	switch f.Severity {
	case finding.Error:
		return "🔴 error"
	case finding.Warning:
		return "🟡 warning"
	}
	return "🔵 info"
}

// mdText escapes text for markdown, in a table cell, a heading or a
// paragraph: every character that could start markup (code spans,
// emphasis, links, images, HTML, entities, table pipes, math, and GitLab's
// references and mentions: #1, !1, ~label, %milestone, @user) is escaped,
// and line breaks become <br>, so that text from outside renders as the
// characters it holds and nothing else.
func mdText(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '"':
			b.WriteString("&quot;")
		case '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
			b.WriteString("<br>")
		case '\n':
			b.WriteString("<br>")
		case '\\', '`', '*', '_', '[', ']', '|', '~', '#', '!', '$', '@', '%':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			if c < 0x20 || c == 0x7f {
				b.WriteByte(' ')
				continue
			}
			b.WriteByte(c)
		}
	}
	return b.String()
}

// mdCode puts s in a code span that nothing in s can end: the fence is one
// backtick longer than the longest run of backticks in s, line breaks
// become spaces and pipes are escaped (GitHub and GitLab split table cells
// on them even inside code spans). Inside a code span HTML is not
// interpreted, so s needs no other escaping. A backslash before a pipe
// cannot be written in a code span inside a table (the table would take it
// as escaping the pipe's escape), so such text is set in a <code> element
// with its characters escaped instead.
func mdCode(s string) string {
	s = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ").Replace(s)
	if strings.Contains(s, "\\|") {
		return "<code>" + mdText(s) + "</code>"
	}
	s = strings.ReplaceAll(s, "|", "\\|")
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	if longest == 0 {
		return "`" + s + "`"
	}
	fence := strings.Repeat("`", longest+1)
	return fence + " " + s + " " + fence
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
