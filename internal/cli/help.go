package cli

import (
	"embed"
	"strings"
)

// helpFiles are the commands' long help texts, one file a command: the
// user manual of each command, kept as text.
//
//go:embed help/*.txt
var helpFiles embed.FS

// help returns the long help of the command name.
func help(name string) string {
	data, err := helpFiles.ReadFile("help/" + name + ".txt")
	if err != nil {
		panic("cli: no help for " + name) // a missing file is a build mistake
	}
	return strings.TrimSpace(string(data))
}
