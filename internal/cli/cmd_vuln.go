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
		long:  help("vuln"),
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
