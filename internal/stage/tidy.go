package stage

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/tidy"
)

// Tidy runs go mod tidy for every module of the workspace, as a check
// (MH001 for an untidy module) or a fix. A module tidy cannot run for is an
// MH000 failure. The zero value checks, one module per CPU, with the memo.
type Tidy struct {
	// Fix rewrites go.mod and go.sum of untidy modules.
	Fix bool
	// Jobs bounds the modules tidied at once; 0 means the number of CPUs.
	Jobs int
	// NoMemo checks every module even when its inputs are unchanged since
	// it was last found tidy.
	NoMemo bool
}

var _ Stage = (*Tidy)(nil)

// Name is "tidy".
func (t *Tidy) Name() string { return "tidy" }

// Run tidies the modules.
func (t *Tidy) Run(ctx context.Context, env *Env) (Result, error) {
	if t.Jobs < 0 {
		return Result{}, Usagef("tidy: --jobs must not be negative")
	}
	report, finish := progress(env, len(env.Workspace.Modules))
	opt := tidy.Options{Fix: t.Fix, Jobs: t.Jobs, Progress: report}
	if !t.NoMemo && env.ToolDir != "" {
		opt.MemoDir = filepath.Join(env.ToolDir, "tidy-memo")
	}
	results, err := tidy.Run(ctx, env.Go, env.Workspace, opt)
	finish()
	if err != nil {
		return Result{}, err
	}
	res, failed := tidyResult(results)
	printFixed(env, results)
	failed.print(env)
	return res, nil
}

// tidyResult turns the modules' results into the stage's result.
func tidyResult(results []tidy.Result) (Result, *failures) {
	var (
		fs     []finding.Finding
		untidy []string
		fixed  int
		failed failures
	)
	for i := range results {
		switch r := &results[i]; r.Status {
		case tidy.Untidy:
			fs = append(fs, r.Finding())
			untidy = append(untidy, r.Module.Rel)
		case tidy.Failed:
			failed.add("tidy", "tidy could not run for", r.Module, r.Err)
		case tidy.Fixed:
			fixed++
		}
	}
	res := Result{Findings: append(fs, failed.findings...), Outputs: map[string]string{"untidy-modules": strings.Join(untidy, " ")},
		Summary: fmt.Sprintf("%d modules: %d untidy, %d fixed, %d failed", len(results), len(untidy), fixed, len(failed.findings))}
	if len(failed.findings) > 0 {
		res.Status = Failed
	}
	return res, &failed
}

// printFixed says what --fix changed in each module.
func printFixed(env *Env, results []tidy.Result) {
	for _, r := range results {
		if r.Status != tidy.Fixed {
			continue
		}
		var parts []string
		for _, c := range tidy.ParseDiff(r.Diff) {
			parts = append(parts, c.Summary())
		}
		fmt.Fprintf(env.Log, "fixed %s (%s)\n", r.Module.GoModFile(), strings.Join(parts, ", "))
	}
}
