package cli

import (
	"context"
	"flag"

	"github.com/modhygiene/modhygiene/internal/stage"
)

func checkCommand() *command {
	var (
		c   = stage.Check{Environment: true}
		dir string
		rf  reportFlags
	)
	return &command{
		name:  "check",
		short: "find duplicate majors, twins, family skew, drift, deprecated and retracted versions",
		usage: "check [--dir DIR] [--offline] [--jobs N] [--format text|json] [--fail-on info|warning|error|never] [--no-memo] [MODULE_DIR...]",
		long:  help("check"),
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&dir, "dir", "", "the repository root to search for modules (default: the current directory)")
			fs.BoolVar(&c.Offline, "offline", false, "do not ask the module proxy for deprecations and retractions: skip MH006 and MH007")
			fs.IntVar(&c.Jobs, "jobs", stage.DefaultCheckJobs, "how many modules to load at once")
			fs.BoolVar(&c.NoMemo, "no-memo", false, "list every module's packages even if their inputs are unchanged since check last listed them")
			rf.define(fs)
		},
		run: func(ctx context.Context, a *app, args []string) error {
			if c.Jobs < 1 {
				return stage.Usagef("check: --jobs must be at least 1")
			}
			return a.runFindings(ctx, "check", &rf, dir, args, &c)
		},
	}
}
