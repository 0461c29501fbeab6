package mirror

import (
	"strings"
	"testing"
)

func TestCheckPrivate(t *testing.T) {
	for patterns, errHas := range map[string]string{
		"":                                     "",
		"git.corp.example":                     "",
		"git.corp.example/team,*.corp.example": "",
		"github.com/yourorg":                   "",
		" git.corp.example , ":                 "",
		"*":                                    `private pattern "*" matches the modules of every host`,
		"git.corp.example,*.*":                 `"*.*" matches the modules of every host`,
		"*/*":                                  "every host",
		"*.com":                                "every host",
		"git.corp.example/[x":                  "not a valid glob",
		"git.corp.example\nGOSUMDB=off":        "control character",
	} {
		err := CheckPrivate(patterns)
		switch {
		case errHas == "" && err != nil:
			t.Errorf("CheckPrivate(%q) = %v, want nil", patterns, err)
		case errHas != "" && (err == nil || !strings.Contains(err.Error(), errHas)):
			t.Errorf("CheckPrivate(%q) = %v, want an error containing %q", patterns, err, errHas)
		}
	}
}
