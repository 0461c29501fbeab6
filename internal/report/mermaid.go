package report

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/modhygiene/modhygiene/internal/finding"
)

// DefaultDiagrams is how many findings get a dependency diagram in the
// job summary and the merge-request note; the others are listed.
const DefaultDiagrams = 5

// maxPathNodes is the longest dependency path drawn in full; a longer one
// keeps its ends and shows how many modules were left out between them.
const maxPathNodes = 12

// drawnRules are the rules whose findings are about two modules or two
// versions, or about a path worth seeing (MH010): their dependency paths
// are drawn.
var drawnRules = map[string]bool{"MH002": true, "MH003": true, "MH004": true, "MH005": true, "MH010": true}

// The classes of a path diagram: the two sides, the shared part and the
// module the fix changes.
const mermaidClasses = `  classDef sideA fill:#fde2e1,stroke:#c62828,color:#000
  classDef sideB fill:#e3f2fd,stroke:#1565c0,color:#000
  classDef both fill:#f5f5f5,stroke:#757575,color:#000
  classDef target stroke:#e65100,stroke-width:4px,font-weight:bold
`

// graphNode is one module in a path diagram.
type graphNode struct {
	id     string
	label  string
	module string
	sides  int // bit 1: side A, bit 2: side B
}

// pathGraph is the diagram of one finding's dependency paths.
type pathGraph struct {
	nodes []*graphNode
	byKey map[string]*graphNode
	edges [][2]string
	seen  map[[2]string]bool
}

// PathGraph returns a Mermaid flowchart (graph LR) of the dependency paths
// behind f: f.Path (side A, ending in the module at f.Version) and, for a
// finding that compares two, f.Other.Path (side B). A module on both paths
// is drawn once, so shared prefixes merge; the sides are coloured apart and
// the module the fix changes (f.Target) gets a thick border. It returns ""
// when f has no path to draw. Every label is escaped with mermaidText.
func PathGraph(f *finding.Finding) string {
	g := &pathGraph{byKey: map[string]*graphNode{}, seen: map[[2]string]bool{}}
	n := g.addPath(f.Path, f.Version, 1)
	if f.Other != nil {
		p := f.Other.Path
		if len(p) == 0 && f.Other.Module != "" {
			p = []string{f.Other.Module}
		}
		n += g.addPath(p, f.Other.Version, 2)
	}
	if n == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("graph LR\n")
	for _, nd := range g.nodes {
		fmt.Fprintf(&b, "  %s[\"%s\"]\n", nd.id, mermaidText(nd.label))
	}
	for _, e := range g.edges {
		fmt.Fprintf(&b, "  %s --> %s\n", e[0], e[1])
	}
	b.WriteString(mermaidClasses)
	for _, c := range []struct {
		name string
		keep func(*graphNode) bool
	}{
		{"sideA", func(n *graphNode) bool { return n.sides == 1 }},
		{"sideB", func(n *graphNode) bool { return n.sides == 2 }},
		{"both", func(n *graphNode) bool { return n.sides == 3 }},
		{"target", g.isTarget(f.Target)},
	} {
		var ids []string
		for _, nd := range g.nodes {
			if c.keep(nd) {
				ids = append(ids, nd.id)
			}
		}
		if len(ids) > 0 {
			fmt.Fprintf(&b, "  class %s %s\n", strings.Join(ids, ","), c.name)
		}
	}
	return b.String()
}

// isTarget returns whether a node is the module the fix changes: a node of
// module target, on side A (the finding's own module, where the fix runs)
// when both sides have one (two versions of one module, MH005).
func (g *pathGraph) isTarget(target string) func(*graphNode) bool {
	onA := false
	for _, nd := range g.nodes {
		onA = onA || target != "" && nd.module == target && nd.sides&1 != 0
	}
	return func(n *graphNode) bool {
		return target != "" && n.module == target && (!onA || n.sides&1 != 0)
	}
}

// addPath adds one side's path and returns how many modules it has. The
// last module is keyed with its version, so that two versions of one
// module (MH005) stay two nodes; the others are keyed by module path. A
// path longer than maxPathNodes keeps its ends around one node that counts
// the modules left out.
func (g *pathGraph) addPath(path []string, version string, side int) int {
	if len(path) == 0 {
		return 0
	}
	type step struct{ key, label, module string }
	var steps []step
	for i, m := range path {
		s := step{key: "m:" + m, label: m, module: m}
		if i == len(path)-1 && version != "" {
			s.key, s.label = "v:"+m+"@"+version, m+" "+version
		}
		steps = append(steps, s)
	}
	if len(steps) > maxPathNodes {
		head, tail := steps[:maxPathNodes/2], steps[len(steps)-maxPathNodes/2+1:]
		gap := len(steps) - len(head) - len(tail)
		elided := step{key: fmt.Sprintf("gap:%d:%s:%s", side, head[len(head)-1].key, tail[0].key), label: fmt.Sprintf("… %d more", gap)}
		steps = append(append(append([]step(nil), head...), elided), tail...)
	}
	prev := ""
	for _, s := range steps {
		nd := g.byKey[s.key]
		if nd == nil {
			nd = &graphNode{id: "n" + strconv.Itoa(len(g.nodes)), label: s.label, module: s.module}
			g.byKey[s.key] = nd
			g.nodes = append(g.nodes, nd)
		}
		nd.sides |= side
		if prev != "" && prev != nd.id {
			e := [2]string{prev, nd.id}
			if !g.seen[e] {
				g.seen[e] = true
				g.edges = append(g.edges, e)
			}
		}
		prev = nd.id
	}
	return len(path)
}

// drawable reports whether f gets a path diagram, and its size (the
// modules on its paths) for drawing the largest first.
func drawable(f *finding.Finding) (int, bool) {
	if !drawnRules[f.Rule] {
		return 0, false
	}
	n := len(f.Path)
	if f.Other != nil {
		n += max(len(f.Other.Path), 1)
	}
	return n, n > 0
}

// PathDiagrams renders the dependency diagrams of fs for a job summary or a
// note: at most limit findings (0 means DefaultDiagrams) of the rules that
// compare two modules or versions (MH002 to MH005) and of MH010, the
// largest diagrams first, each in a ```mermaid block with a legend; the
// findings not drawn are listed by name. All of it is inside one <details>
// block, so the summary stays short. It returns "" when no finding has a
// path to draw.
func PathDiagrams(fs []finding.Finding, limit int) string {
	if limit <= 0 {
		limit = DefaultDiagrams
	}
	type cand struct {
		f    *finding.Finding
		size int
	}
	sorted := append([]finding.Finding(nil), fs...)
	finding.Sort(sorted)
	var cs []cand
	for i := range sorted {
		if n, ok := drawable(&sorted[i]); ok {
			cs = append(cs, cand{&sorted[i], n})
		}
	}
	if len(cs) == 0 {
		return ""
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].size > cs[j].size })
	drawn := min(limit, len(cs))
	var b strings.Builder
	fmt.Fprintf(&b, "<details><summary>Dependency paths: %d of %s drawn</summary>\n\n", drawn, plural(len(cs), "finding"))
	for _, c := range cs[:drawn] {
		fmt.Fprintf(&b, "#### %s\n\n", diagramTitle(c.f))
		b.WriteString(mermaidBlock(PathGraph(c.f)))
		b.WriteString(legend(c.f) + "\n\n")
	}
	if rest := cs[drawn:]; len(rest) > 0 {
		fmt.Fprintf(&b, "Not drawn (%d):\n\n", len(rest))
		for _, c := range rest {
			fmt.Fprintf(&b, "- %s\n", diagramTitle(c.f))
		}
		b.WriteString("\n")
	}
	b.WriteString("</details>\n\n")
	return b.String()
}

// diagramTitle is "MH002 duplicate-major: gopkg.in/yaml.v2 (`go.mod:7`)".
func diagramTitle(f *finding.Finding) string {
	loc := f.File
	if f.Line > 0 {
		loc = fmt.Sprintf("%s:%d", f.File, f.Line)
	}
	t := mdText(f.Title())
	if f.Subject != "" {
		t += ": " + mdText(f.Subject)
	}
	if loc != "" {
		t += " (" + mdCode(loc) + ")"
	}
	return t
}

// legend says which colour is which side and which module the fix changes.
func legend(f *finding.Finding) string {
	side := func(module, version string) string {
		s := module
		if version != "" {
			s += " " + version
		}
		return mdCode(s)
	}
	last := f.Subject
	if n := len(f.Path); n > 0 {
		last = f.Path[n-1]
	}
	parts := []string{"🟥 " + side(last, f.Version)}
	if o := f.Other; o != nil {
		parts = append(parts, "🟦 "+side(o.Module, o.Version))
	}
	if f.Target != "" {
		parts = append(parts, "thick border: "+mdCode(f.Target)+", the module the fix changes")
	}
	return strings.Join(parts, " · ")
}

// mermaidBlock fences a diagram for markdown. No escaped diagram contains
// a backtick, so nothing inside can close the fence.
func mermaidBlock(diagram string) string {
	return "```mermaid\n" + diagram + "```\n"
}

// TimingChart returns a Mermaid gantt chart of the stages' wall times, each
// stage a section with this run's bar and, where the cache held it, the
// previous run's bar beside it; "" when there is nothing to compare (no
// stage, or one without a previous time). The axis counts seconds from the
// start of each bar (the stages' bars all start at 0: the chart compares
// durations, it is not a timeline).
func TimingChart(stages []Stage) string {
	if len(stages) == 0 || len(stages) == 1 && stages[0].Previous <= 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("gantt\n  title Stage wall time, this run and the previous one\n  dateFormat x\n  axisFormat %ss\n  todayMarker off\n")
	for _, s := range stages {
		if s.Duration <= 0 && s.Previous <= 0 {
			continue // skipped, or not timed
		}
		fmt.Fprintf(&b, "  section %s\n", ganttText(s.Name))
		fmt.Fprintf(&b, "  %s :active, 0, %d\n", ganttText("this run "+FormatDuration(s.Duration)), max(s.Duration.Milliseconds(), 1))
		if s.Previous > 0 {
			fmt.Fprintf(&b, "  %s :done, 0, %d\n", ganttText("previous "+FormatDuration(s.Previous)), max(s.Previous.Milliseconds(), 1))
		}
	}
	return b.String()
}

// mermaidText escapes text for a quoted Mermaid label: letters, digits and
// the punctuation of module paths and versions (. / @ - _ + ~ :) and
// spaces are kept; everything else, quotes, backticks, #, %, ;, angle
// brackets and non-ASCII included, is written as a Mermaid entity code
// (#34; for "), which Mermaid turns back into the character after parsing.
// So a label can neither end its quotes, nor start a directive (%%{...}%%),
// nor a code fence, nor markup; line breaks become spaces.
func mermaidText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\r' || r == '\n' || r == '\t':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f:
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune(" ./@-_+~:,()…", r):
			b.WriteRune(r)
		default:
			fmt.Fprintf(&b, "#%d;", r)
		}
	}
	return b.String()
}

// ganttText makes a gantt section or task name: the same characters as
// mermaidText keeps, less ':' and ',' (which end a gantt name), and '?'
// for anything else.
func ganttText(s string) string {
	return keepText(s, " ./@-_+~()…")
}

// keepText replaces every rune of s but ASCII letters, digits and those in
// keep with '?'.
func keepText(s, keep string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune(keep, r):
			b.WriteRune(r)
		default:
			b.WriteByte('?')
		}
	}
	if strings.TrimSpace(b.String()) == "" {
		return "?"
	}
	return b.String()
}

// PieSlice is one slice of a PieChart.
type PieSlice struct {
	Label string
	Value int64
}

// PieChart returns a Mermaid pie chart, fenced for markdown, of the slices
// with a value above zero (such as where a proxy's answers came from), or
// "" when there are none. Labels keep the characters ganttText keeps and
// ':' (they stand in quotes), so that text from outside (a mirror's URL)
// can neither end its quotes nor start a directive.
func PieChart(title string, slices []PieSlice) string {
	var b strings.Builder
	fmt.Fprintf(&b, "pie title %s\n", ganttText(title))
	n := 0
	for _, s := range slices {
		if s.Value > 0 {
			fmt.Fprintf(&b, "  %q : %d\n", keepText(s.Label, " ./@-_+~()…:"), s.Value)
			n++
		}
	}
	if n == 0 {
		return ""
	}
	return mermaidBlock(b.String())
}
