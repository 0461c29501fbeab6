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
		usage: "check [--dir DIR] [--offline] [--jobs N] [--format text|json] [--fail-on info|warning|error|never] [MODULE_DIR...]",
		long: `Analyses the module graph of every module of the repository (the modules of
go.work, else every go.mod below --dir; MODULE_DIRs, relative to --dir,
select some of them), each as it builds on its own:

  MH002 duplicate-major     one module at several major versions
  MH003 renamed-twin        the same code under two module paths
  MH004 family-skew         modules released together at different versions
  MH005 cross-module-drift  modules of the repository select different versions
  MH006 deprecated          a module is deprecated upstream
  MH007 retracted           a selected version is retracted
  MH008 directive           replaces and excludes that do nothing, guard typos, missing sibling replaces
  MH009 environment         GOSUMDB=off, GOINSECURE, GOPROXY=direct alone, ...
  MH011 stale-sibling       a module requires an older release of a module of the same repository

Each finding names the go.mod line to change, the dependency path that
brings the module in (as go mod why -m gives it), and the command that fixes
it; docs/rules.md says what each severity promises. MH006 and MH007 ask the
module proxy (go list -m -u), and fixes are checked against its newest
releases; with --offline, or when the proxy cannot be reached, the lookups
are skipped with a notice (upgrade fixes then name @latest) (modules missing from the module
cache are still downloaded as the go command needs them). Nothing is
written: go.mod and go.sum should be tidy (see 'modhygiene tidy').

.modhygiene.yaml at the repository root sets rule severities, ignores, and
extra twins and families.

Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage or
configuration error, 3 the module graph of a module could not be loaded
(an MH000 finding; the other modules are still reported).`,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&dir, "dir", "", "the repository root to search for modules (default: the current directory)")
			fs.BoolVar(&c.Offline, "offline", false, "do not ask the module proxy for deprecations and retractions: skip MH006 and MH007")
			fs.IntVar(&c.Jobs, "jobs", stage.DefaultCheckJobs, "how many modules to load at once")
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
