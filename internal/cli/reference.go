package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// reference renders every command, subcommand and flag as markdown, the
// "Commands and flags" section of the README (kept in step by a test).
func reference() string {
	var b strings.Builder
	for _, c := range (&app{}).commands() {
		writeReference(&b, c, "")
	}
	return b.String()
}

func writeReference(b *strings.Builder, c *command, parent string) {
	name := strings.TrimSpace(parent + " " + c.name)
	fmt.Fprintf(b, "### `modhygiene %s`\n\n%s%s.\n\n", name, strings.ToUpper(c.short[:1]), c.short[1:])
	fmt.Fprintf(b, "```\nmodhygiene %s\n```\n\n", c.usage)
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if c.flags != nil {
		c.flags(fs)
	}
	rows := 0
	fs.VisitAll(func(f *flag.Flag) {
		if rows == 0 {
			b.WriteString("| flag | default | meaning |\n|---|---|---|\n")
		}
		rows++
		_, usage := flag.UnquoteUsage(f)
		def := f.DefValue
		if def == "" {
			def = " "
		}
		fmt.Fprintf(b, "| `--%s` | `%s` | %s |\n", f.Name, def, strings.ReplaceAll(usage, "|", "\\|"))
	})
	if rows > 0 {
		b.WriteString("\n")
	}
	for _, s := range c.subs {
		writeReference(b, s, name)
	}
}
