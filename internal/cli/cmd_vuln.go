package cli

import (
	"context"
	"flag"

	"github.com/modhygiene/modhygiene/internal/stage"
	"github.com/modhygiene/modhygiene/internal/vuln"
)

func vulnCommand() *command {
	var (
		v   stage.Vuln
		db  string
		dir string
		rf  reportFlags
	)
	return &command{
		name:  "vuln",
		short: "find known vulnerabilities with golang.org/x/vuln, on the require line to change",
		usage: "vuln [--dir DIR] [--db SOURCE] [--scan module|package|symbol] [--format ...] [MODULE_DIR...]",
		long: `Scans every module of the repository (or the MODULE_DIRs given, relative to
--dir) with golang.org/x/vuln, in process, one module at a time (--jobs for
more), and reports each vulnerability as MH010 on the go.mod line that
requires the vulnerable module, with its OSV ID, summary, fixed version and
the go get command that upgrades to it. Severity: error when a vulnerable
function is called, warning when its package is imported, info when the
module is only required (go.mod requirements that no package imports are
looked up too). Standard library entries are reported on the toolchain or
go line.

--scan package stops at imports; --scan module loads no package at all and
looks up the module's build list (what go list -m all selects) and the Go
version. A module with no package under the current build constraints (a
tools.go behind //go:build tools) gets the build-list lookup at any level.

Databases (--db):
  official          x/vuln's default database (needs its web site)
  module            built from the golang.org/x/vulndb module fetched through
                    GOPROXY like any module, under the user cache directory
                    (modhygiene/vulndb), rebuilt only when the version changes
  module@VERSION    the same, pinned to one version of golang.org/x/vulndb
  file:///path      a directory in the standard layout (index/db.json,
                    index/modules.json, ID/<id>.json)
  https://host/...  a server with the same layout

Ignore a vulnerability in .modhygiene.yaml:

  ignore:
    - id: GO-2022-1059
      reason: the header never reaches ParseAcceptLanguage
      expires: 2026-12-31   # optional; afterwards it is reported again`,
		flags: func(fs *flag.FlagSet) {
			rf.define(fs)
			fs.StringVar(&dir, "dir", ".", "repository `DIR` whose modules are scanned")
			fs.StringVar(&db, "db", "official", "vulnerability database `SOURCE`: official, module, module@VERSION, file:///path or an http(s) URL")
			fs.StringVar(&v.Level, "scan", vuln.LevelSymbol, "scan `level`: module, package or symbol")
			fs.BoolVar(&v.Tests, "test", false, "also analyse test files")
			fs.IntVar(&v.Jobs, "jobs", 1, "modules scanned at once (a symbol scan holds a module's program in memory)")
		},
		run: func(ctx context.Context, a *app, args []string) error {
			src, err := vuln.ParseSource(db, a.cwd)
			if err != nil {
				return stage.Usagef("%v", err)
			}
			v.Source = src
			return a.runFindings(ctx, "vuln", &rf, dir, args, &v)
		},
	}
}
