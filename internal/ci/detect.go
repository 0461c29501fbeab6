package ci

import (
	"io"
	"os"
)

// Platform is where modhygiene runs.
type Platform int

// The platforms, in the order Detect tries them.
const (
	// Local is a person's terminal or an unknown CI system.
	Local Platform = iota
	// GitHub is a GitHub Actions runner (GITHUB_ACTIONS=true).
	GitHub
	// GitLab is a GitLab CI job (GITLAB_CI=true).
	GitLab
	// PreCommit is a pre-commit hook (PRE_COMMIT=1).
	PreCommit
)

// String returns the platform's lower-case name.
func (p Platform) String() string {
	switch p {
	case GitHub:
		return "github"
	case GitLab:
		return "gitlab"
	case PreCommit:
		return "pre-commit"
	}
	return "local"
}

// Detect tells the platform from the environment. pre-commit wins over the
// CI systems, because a hook run inside a CI job reports to its own output
// only.
func Detect(getenv func(string) string) Platform {
	switch {
	case getenv("PRE_COMMIT") == "1":
		return PreCommit
	case getenv("GITHUB_ACTIONS") == "true":
		return GitHub
	case getenv("GITLAB_CI") == "true":
		return GitLab
	}
	return Local
}

// IsTerminal reports whether w is a character device (a person's terminal),
// where colour and live progress are welcome.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Stat() (os.FileInfo, error) })
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Color reports whether text written to w may use ANSI colour: w is a
// terminal and neither NO_COLOR nor TERM=dumb says otherwise.
func Color(w io.Writer, getenv func(string) string) bool {
	if getenv("NO_COLOR") != "" || getenv("TERM") == "dumb" {
		return false
	}
	return IsTerminal(w)
}

// Reporters says which CI reporters run besides the format on stdout.
type Reporters struct {
	// Annotations, Summary and Outputs are GitHub's workflow-command
	// annotations, job summary and step outputs.
	Annotations, Summary, Outputs bool
	// CodeQuality is GitLab's Code Quality file; Note the merge-request note.
	CodeQuality, Note bool
}

// DefaultReporters picks the reporters for a platform: on GitHub,
// annotations, the job summary and the step outputs; on GitLab, the Code
// Quality file and the merge-request note; elsewhere (a terminal,
// pre-commit) none: the text on stdout is the report.
func DefaultReporters(p Platform) Reporters {
	switch p {
	case GitHub:
		return Reporters{Annotations: true, Summary: true, Outputs: true}
	case GitLab:
		return Reporters{CodeQuality: true, Note: true}
	}
	return Reporters{}
}
