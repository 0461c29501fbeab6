package stage

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/gocmd"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

// failures collects the MH000 findings of a stage, which record that it
// could not do its work for a module, and the lines that tell a person.
type failures struct {
	findings []finding.Finding
	lines    []string
}

// add records that the stage could not do its work for module m (nil for
// the whole repository); what says so ("tidy could not run for"). The
// finding is on m's go.mod, with the go command's first real error line as
// the reason and the rest as detail.
func (fs *failures) add(stage, what string, m *workspace.Module, err error) {
	text := err.Error()
	var ge *gocmd.Error
	if errors.As(err, &ge) && strings.TrimSpace(ge.Stderr) != "" {
		text = ge.Stderr // the command is not the reason
	}
	first, rest := reason(goMessage(text, m))
	f := finding.Finding{Rule: finding.FailedRule, Severity: finding.Error, Subject: stage, Detail: rest,
		Message: fmt.Sprintf("%s could not run: %s", stage, first)}
	line := f.Message
	if m != nil {
		// The reporters name the module beside the message.
		f.Module, f.File, f.Line = m.Name(), m.GoModFile(), 1
		line = fmt.Sprintf("%s %s (%s): %s", what, m.Name(), m.GoModFile(), first)
	}
	if rest != "" {
		line += "\n" + indent(rest)
	}
	fs.findings = append(fs.findings, f)
	fs.lines = append(fs.lines, line)
}

// print tells a person about every failure, on env.Log.
func (fs *failures) print(env *Env) {
	for _, l := range fs.lines {
		fmt.Fprintf(env.Log, "modhygiene: %s\n", l)
	}
}

// reason splits the go command's message into its first real error (not a
// "go: downloading" progress line), with the indented lines that continue
// it ("go: m imports\n\tp: reason"), and the rest.
func reason(msg string) (first, rest string) {
	var kept []string
	for _, l := range strings.Split(strings.TrimSpace(msg), "\n") {
		if strings.HasPrefix(l, "go: downloading ") || strings.TrimSpace(l) == "" {
			continue
		}
		kept = append(kept, l)
	}
	if len(kept) == 0 {
		return strings.TrimSpace(msg), ""
	}
	n := 1
	first = kept[0]
	for ; n < len(kept) && strings.HasPrefix(kept[n], "\t") && len(first) < 300; n++ {
		first += " " + strings.TrimSpace(kept[n])
	}
	return first, strings.Join(kept[n:], "\n")
}

// goMessage is the go command's message in err with its positions in m's
// files ("go.mod:3") made repository-relative ("svc/go.mod:3").
func goMessage(text string, m *workspace.Module) string {
	if m == nil {
		return text
	}
	return goFilePosRE.ReplaceAllString(text, "${1}"+relDir(m.Rel)+"${2}")
}

// goFilePosRE matches the go command's positions in a module's files
// ("go.mod:3:"), which are relative to the module directory.
var goFilePosRE = regexp.MustCompile(`(?m)(^|\s)((?:go\.mod|go\.sum):\d+)`)

// relDir returns rel as a prefix for file names ("" for the root).
func relDir(rel string) string {
	if rel == "." || rel == "" {
		return ""
	}
	return rel + "/"
}

func indent(s string) string {
	return "\t" + strings.ReplaceAll(s, "\n", "\n\t")
}
