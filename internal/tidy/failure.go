package tidy

import (
	"errors"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/gocmd"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

// Failure returns the MH000 finding for a Failed result: on the module's
// go.mod (repository-relative), at the go.mod line the go command's error
// points at (else line 1), with the message "tidy could not run: " and the
// go command's first real error line ("go: downloading" lines dropped,
// positions in the module's files made repository-relative) and the rest of
// its message as detail.
func (r *Result) Failure() finding.Finding {
	m := r.Module
	first, rest := failureText(r.Err, m)
	f := finding.Finding{
		Rule:     finding.FailedRule,
		Severity: finding.Error,
		Module:   m.Name(),
		File:     m.GoModFile(),
		Line:     goModLine(r.Err, m),
		Subject:  "tidy",
		Message:  "tidy could not run: " + first,
		Detail:   rest,
	}
	f.Normalize()
	return f
}

// FailureMessage is the go command's whole message for a Failed result,
// without progress lines and with positions made repository-relative, for
// printing on the terminal.
func (r *Result) FailureMessage() string {
	first, rest := failureText(r.Err, r.Module)
	if rest == "" {
		return first
	}
	return first + "\n" + rest
}

func failureText(err error, m *workspace.Module) (first, rest string) {
	if err == nil {
		return "unknown error", ""
	}
	var ge *gocmd.Error
	if errors.As(err, &ge) {
		first, rest = ge.FirstLine()
	} else {
		first, rest = gocmd.SplitFirst(err.Error())
	}
	return m.RepoPositions(first), m.RepoPositions(rest)
}

// goModLineRE finds a position in the module's go.mod in a go command
// message.
var goModLineRE = regexp.MustCompile(`(?:^|[\s(])go\.mod:(\d+)(?::\d+)?:`)

// goModLine returns the go.mod line the go command's error points at, 1
// when it points at none.
func goModLine(err error, m *workspace.Module) int {
	if err == nil {
		return 1
	}
	msg := err.Error()
	var ge *gocmd.Error
	if errors.As(err, &ge) {
		msg = ge.Reason()
	}
	msg = strings.ReplaceAll(msg, filepath.Join(m.Dir, "go.mod"), "go.mod")
	if sm := goModLineRE.FindStringSubmatch(msg); sm != nil {
		if n, err := strconv.Atoi(sm[1]); err == nil && n > 0 {
			return n
		}
	}
	return 1
}
