package finding

import "strings"

// Quote returns s quoted for a POSIX shell: unchanged when it holds only
// characters no shell treats specially, else in single quotes with every
// single quote written as '\”. Every fix command is built with it, so that
// a module path or a directory name from outside cannot run anything when
// the command is pasted.
func Quote(s string) string {
	if s != "" && strings.IndexFunc(s, unsafeRune) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func unsafeRune(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return false
	}
	return !strings.ContainsRune("@%+=:,./-_", r)
}

// Command joins args into one shell command line, each argument quoted with
// Quote.
func Command(args ...string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = Quote(a)
	}
	return strings.Join(q, " ")
}

// InDir prefixes the command line cmd with "cd DIR && " for a module below
// the repository root (dir is repository-relative, with forward slashes);
// for the root ("" or ".") it returns cmd unchanged.
func InDir(dir, cmd string) string {
	if dir == "" || dir == "." {
		return cmd
	}
	return "cd " + Quote(dir) + " && " + cmd
}
