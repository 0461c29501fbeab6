package report

import (
	"fmt"
	"sort"
	"strings"

	"github.com/modhygiene/modhygiene/internal/finding"
)

// MarkdownOptions configure Markdown. The zero value renders everything
// without a verdict line, a marker or a size limit.
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
	// Note is a paragraph placed after the counts (such as which findings
	// became annotations).
	Note string
	// Limit is the largest output in bytes; rows are left out, with a note
	// saying so, to stay under it. 0 means no limit.
	Limit int
}

// Markdown renders a run for a GitHub job summary or a GitLab note: the
// counts by rule, a table per module with every finding, and the stage
// timings.
func Markdown(run *Run, opt MarkdownOptions) string {
	var head, tail strings.Builder
	if opt.Marker != "" {
		head.WriteString(opt.Marker + "\n")
	}
	c := Verdict(run.Findings, Never)
	cmd := run.Header.Command
	if cmd == "" {
		cmd = "run"
	}
	fmt.Fprintf(&head, "## modhygiene %s: %s\n\n", cmd, plural(c.Total(), "finding"))
	if v := opt.Verdict; v != nil {
		switch {
		case opt.FailOn == Never:
			fmt.Fprintf(&head, "**Passed**: --fail-on never.\n\n")
		case v.Fails():
			fmt.Fprintf(&head, "**Failed**: %s at or above %s.\n\n", plural(v.Failing, "new finding"), opt.FailOn)
		default:
			fmt.Fprintf(&head, "**Passed**: no new finding at or above %s.\n\n", opt.FailOn)
		}
	}
	if c.Total() > 0 {
		fmt.Fprintf(&head, "%d errors, %d warnings, %d info", c.Errors, c.Warnings, c.Infos)
		if old := c.Total() - c.New; old > 0 {
			fmt.Fprintf(&head, "; %d new, %d already on the base branch", c.New, old)
		}
		head.WriteString(".\n\n")
		writeRuleCounts(&head, run.Findings)
	}
	if opt.Note != "" {
		head.WriteString(opt.Note + "\n\n")
	}

	if len(run.Stages) > 0 {
		tail.WriteString("### Stages\n\n| stage | status | time | previous run | change | summary |\n|---|---|--:|--:|--:|---|\n")
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
			fmt.Fprintf(&tail, "| %s | %s | %s | %s | %s | %s |\n", cell(s.Name), cell(s.Status), FormatDuration(s.Duration), prev, change, cell(s.Summary))
		}
		tail.WriteString("\n")
	}
	tail.WriteString("<sub>modhygiene " + cell(run.Header.Version) + "</sub>\n")

	var body strings.Builder
	budget := -1
	if opt.Limit > 0 {
		// Room for the note that says rows were cut.
		budget = opt.Limit - head.Len() - tail.Len() - 300
	}
	shown, cut := 0, false
	for _, g := range GroupByModule(run.Findings) {
		fs := g.Findings
		if opt.Changed != nil {
			sort.SliceStable(fs, func(i, j int) bool {
				return opt.Changed(fs[i].File, fs[i].Line) && !opt.Changed(fs[j].File, fs[j].Line)
			})
		}
		var t strings.Builder
		title := ModuleTitle(&run.Header, g.Module)
		if g.Module != "" {
			title = g.Module
			for _, m := range run.Header.Modules {
				if m.Path == g.Module && m.GoMod != "" {
					title = fmt.Sprintf("%s (`%s`)", g.Module, m.GoMod)
				}
			}
		}
		fmt.Fprintf(&t, "### %s\n\n| severity | location | rule | finding | fix |\n|---|---|---|---|---|\n", title)
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
		fmt.Fprintf(&body, "> [!NOTE]\n> This summary was cut to stay under its size limit: %d of %d findings are listed. The job log and the JSON report have them all.\n\n", shown, c.Total())
	}
	return head.String() + body.String() + tail.String()
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
		switch f.Severity {
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
		fmt.Fprintf(b, "| %s | %d | %d | %d | %d |\n", cell(r.title), r.c.Errors, r.c.Warnings, r.c.Infos, r.c.Total())
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
		locCell = code(loc)
	}
	if changed != nil && changed(f.File, f.Line) {
		locCell += " ✎"
	}
	msg := cell(f.Message)
	if len(f.Path) > 0 {
		msg += "<br><sub>via " + cell(strings.Join(f.Path, " → ")) + "</sub>"
	}
	if f.Existing {
		msg += " <sub>(existing)</sub>"
	}
	fix := ""
	if f.Fix != "" {
		fix = code(f.Fix)
	}
	return fmt.Sprintf("| %s | %s | %s | %s | %s |\n", severityIcon(f.Severity), locCell, cell(f.Title()), msg, fix)
}

func severityIcon(s finding.Severity) string {
	switch s {
	case finding.Error:
		return "🔴 error"
	case finding.Warning:
		return "🟡 warning"
	}
	return "🔵 info"
}

// cell escapes text for a markdown table cell: pipes, line breaks and HTML.
func cell(s string) string {
	return strings.NewReplacer("|", "\\|", "\r\n", "<br>", "\n", "<br>", "\r", "", "<", "&lt;", ">", "&gt;", "&", "&amp;").Replace(s)
}

// code puts s in a code span inside a table cell.
func code(s string) string {
	s = strings.NewReplacer("|", "\\|", "\r", " ", "\n", " ").Replace(s)
	if strings.Contains(s, "`") {
		return "`` " + s + " ``"
	}
	return "`" + s + "`"
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
