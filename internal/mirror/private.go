package mirror

import (
	"fmt"
	"path"
	"strings"

	"github.com/modhygiene/modhygiene/internal/ci"
	"github.com/modhygiene/modhygiene/internal/envcheck"
)

// CheckPrivate checks private patterns before Choose exports them as
// GOPRIVATE, GONOPROXY and GONOSUMDB (--private). It refuses a pattern
// that matches the modules of every host, such as "*", "*.*", "*/*" or
// "*.com" (see envcheck.MatchesAnyHost): as GONOSUMDB it would switch
// checksum verification off for modules anyone can publish, which MH009
// reports as an error. It also refuses a malformed glob, which the go
// command would silently ignore, and control characters. The command
// layer exits 2 on its error.
func CheckPrivate(patterns string) error {
	for _, p := range strings.Split(patterns, ",") {
		p = strings.TrimSpace(p)
		switch {
		case p == "":
			continue
		case strings.ContainsFunc(p, func(r rune) bool { return r < ' ' || r == 0x7f }):
			return fmt.Errorf("private pattern %q contains a control character", ci.Redact(p))
		case envcheck.MatchesAnyHost(p):
			return fmt.Errorf("private pattern %q matches the modules of every host: as GONOSUMDB it would switch checksum verification off for all of them; name your own host or path instead, such as git.corp.example or github.com/yourorg", p)
		}
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("private pattern %q is not a valid glob: %v", p, err)
		}
	}
	return nil
}
