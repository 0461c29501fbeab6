package proxy

import "strings"

// netrcEntry is a machine's credentials from a .netrc file.
type netrcEntry struct {
	login, password string
}

// parseNetrc reads the machine entries of a .netrc file, keyed by host
// name; the first entry for a host wins. Like the go command it reads
// machine, login and password tokens, skips macdef bodies (up to the next
// blank line) and stops at default, which it does not use.
func parseNetrc(data string) map[string]netrcEntry {
	out := map[string]netrcEntry{}
	var machine string
	var cur netrcEntry
	flush := func() {
		if machine != "" && cur.login != "" && cur.password != "" {
			if _, dup := out[machine]; !dup {
				out[machine] = cur
			}
		}
		machine, cur = "", netrcEntry{}
	}
	lines := strings.Split(data, "\n")
	for i := 0; i < len(lines); i++ {
		f := strings.Fields(lines[i])
		for j := 0; j < len(f); j++ {
			var val string
			if j+1 < len(f) {
				val = f[j+1]
			}
			switch f[j] {
			case "machine":
				flush()
				machine = val
				j++
			case "login":
				cur.login = val
				j++
			case "password":
				cur.password = val
				j++
			case "default":
				flush()
				return out
			case "macdef":
				for i+1 < len(lines) && strings.TrimSpace(lines[i+1]) != "" {
					i++
				}
				j = len(f)
			}
		}
	}
	flush()
	return out
}
