package cli

import (
	"context"
	"flag"

	"github.com/modhygiene/modhygiene/internal/report"
	"github.com/modhygiene/modhygiene/internal/stage"
)

func tidyCommand() *command {
	var (
		t   stage.Tidy
		dir string
		rf  reportFlags
	)
	return &command{
		name:  "tidy",
		short: "run go mod tidy for every module, as a check or a fix",
		usage: "tidy [--fix] [--jobs N] [--dir DIR] [--format text|json] [--no-memo] [MODULE_DIR...]",
		long:  help("tidy"),
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&t.Fix, "fix", false, "rewrite go.mod and go.sum of untidy modules")
			fs.IntVar(&t.Jobs, "jobs", 0, "how many modules to tidy at once (0: the number of CPUs)")
			fs.StringVar(&dir, "dir", "", "the repository root to search for modules (default: the current directory)")
			fs.BoolVar(&t.NoMemo, "no-memo", false, "check every module even if its inputs are unchanged since it was last found tidy")
			rf.define(fs)
		},
		run: func(ctx context.Context, a *app, args []string) error {
			return a.runFindings(ctx, "tidy", &rf, dir, args, &t)
		},
	}
}

// runFindings runs one stage over the repository in dir (the module
// directories args, relative to dir, or all) and reports its findings.
func (a *app) runFindings(ctx context.Context, name string, rf *reportFlags, dir string, args []string, s stage.Stage) error {
	rp, err := rf.resolve()
	if err != nil {
		return err
	}
	env, err := a.repoEnv(dir, "", args)
	if err != nil {
		return err
	}
	return a.runPlan(ctx, env, stage.Plan{Stages: []stage.Stage{s}}, rp, name, nil)
}

// runPlan runs plan in env and reports the outcome under the command's
// name; out, when not nil, says where the report goes and what to do
// before it.
func (a *app) runPlan(ctx context.Context, env *stage.Env, plan stage.Plan, rp *reporting, name string, out *outcome) error {
	res, err := stage.Run(ctx, env, plan)
	if err != nil {
		return err
	}
	if out == nil {
		out = &outcome{}
	}
	if out.after != nil {
		out.after(res)
	}
	out.header = report.Header{Command: name, Modules: moduleInfos(env.Workspace), Dir: env.RepoDir()}
	out.stages, out.findings, out.base = res.Stages, res.Findings, res.BaseFindings
	return a.emit(rp, out)
}
