package stage

import (
	"errors"
	"fmt"
	"strings"

	"github.com/modhygiene/modhygiene/internal/ci"

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
// the whole repository); what says so ("check could not load the module
// graph of"). The finding is on m's go.mod, with the go command's first
// real error line as the reason and the rest as detail.
func (fs *failures) add(stage, what string, m *workspace.Module, err error) {
	first, rest := gocmd.SplitFirst(err.Error())
	var ge *gocmd.Error
	if errors.As(err, &ge) {
		first, rest = ge.FirstLine() // the command line is not the reason
	}
	f := finding.Finding{Rule: finding.FailedRule, Severity: finding.Error, Subject: stage,
		Message: stage + " could not run: " + first}
	line := f.Message
	if m != nil {
		// The reporters name the module beside the message.
		first, rest = m.RepoPositions(first), m.RepoPositions(rest)
		f.Module, f.File, f.Line, f.Message = m.Name(), m.GoModFile(), 1, stage+" could not run: "+first
		line = fmt.Sprintf("%s %s (%s): %s", what, m.Name(), m.GoModFile(), first)
	}
	f.Detail = rest
	fs.record(f, line)
}

// record adds a failure finding and the line that tells a person, with the
// finding's detail indented below it.
func (fs *failures) record(f finding.Finding, line string) {
	if f.Detail != "" {
		line += "\n" + indent(f.Detail)
	}
	fs.findings = append(fs.findings, f)
	fs.lines = append(fs.lines, line)
}

// print tells a person about every failure, on env.Log.
func (fs *failures) print(env *Env) {
	for _, l := range fs.lines {
		fmt.Fprintf(env.Log, "modhygiene: %s\n", ci.Redact(l))
	}
}

func indent(s string) string {
	return "\t" + strings.ReplaceAll(s, "\n", "\n\t")
}
