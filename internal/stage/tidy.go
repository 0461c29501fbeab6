package stage

import (
	"context"
	"encoding/json"
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
	opt := tidy.Options{Fix: t.Fix, Jobs: t.Jobs, Progress: report, Warn: func(msg string) { warn(env, "%s", msg) }}
	if !t.NoMemo && memoDir(env) != "" {
		opt.Memo = openMemo(env)
	}
	results, err := tidy.Run(ctx, env.Go, env.Workspace, opt)
	finish()
	if err != nil {
		return Result{}, err
	}
	if opt.Memo != nil {
		if err := opt.Memo.Save(); err != nil {
			warn(env, "tidy memo: %v", err)
		}
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
			f := r.Finding()
			why := strings.TrimPrefix(f.Message, "tidy could not run: ")
			failed.record(f, fmt.Sprintf("tidy could not run for %s (%s): %s", r.Module.Name(), r.Module.GoModFile(), why))
		case tidy.Fixed:
			fixed++
		}
	}
	res := Result{Findings: append(fs, failed.findings...), Outputs: map[string]string{"untidy-modules": strings.Join(untidy, " ")},
		Summary: fmt.Sprintf("%s: %d untidy, %d fixed, %d failed", tidy.Summarize(results), len(untidy), fixed, len(failed.findings))}
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

// memoDir is where the tidy memo lives, "" for none.
func memoDir(env *Env) string {
	if env.ToolDir == "" {
		return ""
	}
	return filepath.Join(env.ToolDir, "tidy-memo")
}

// memoEntries is the tidy memo's entries for the run's state, nil when
// there are none.
func memoEntries(env *Env) json.RawMessage {
	dir := memoDir(env)
	if dir == "" {
		return nil
	}
	m, err := tidy.OpenMemo(dir)
	if err != nil || m.Len() == 0 {
		return nil
	}
	data, err := m.MarshalEntries()
	if err != nil {
		return nil
	}
	return data
}

// openMemo opens the memo and adds the entries the last saved run of this
// branch (or its base branch) kept in the store, so that a fresh runner
// tidies only the modules whose inputs changed. Problems are warnings.
func openMemo(env *Env) *tidy.Memo {
	m, err := tidy.OpenMemo(memoDir(env))
	if err != nil {
		warn(env, "tidy memo: %v", err)
	}
	if env.previous == nil {
		return m
	}
	if r := env.previous().stored; r != nil && len(r.Memo) > 0 {
		from := r.Branch
		if from == "" {
			from = "the last run"
		}
		if _, err := m.Import(r.Memo, from); err != nil {
			warn(env, "tidy memo from the cache: %v", err)
		}
	}
	return m
}
