package stage

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/modhygiene/modhygiene/internal/cache/store"
	"github.com/modhygiene/modhygiene/internal/cache/stores"
	"github.com/modhygiene/modhygiene/internal/ci"
	"github.com/modhygiene/modhygiene/internal/config"
	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/gocmd"
	"github.com/modhygiene/modhygiene/internal/report"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

// Status is the outcome of a stage, as the report shows it.
type Status string

// The statuses of a stage.
const (
	// OK: the stage did its work and found nothing.
	OK Status = "ok"
	// Findings: the stage did its work and has findings.
	Findings Status = "findings"
	// Skipped: the stage had nothing to do or was not allowed to.
	Skipped Status = "skipped"
	// Warning: the stage could not do all of its work, and that is not a
	// failure (a cache or mirror problem).
	Warning Status = "warning"
	// Failed: the stage could not do its work for some module; the run
	// exits 3.
	Failed Status = "failed"
)

// Env is what the stages of a run share. The command line builds it once;
// stage.Run adds each stage's exported variables to Go.Env for the stages
// after it.
type Env struct {
	// Dir is the absolute directory the run works in (--dir); Cwd is the
	// invocation's working directory, which relative paths of settings are
	// resolved against.
	Dir, Cwd string
	// Go runs every go command of the run. Its Env is the run's whole
	// environment.
	Go *gocmd.Runner
	// CI is what the runner's variables say.
	CI *ci.Env
	// Workspace is the repository's modules; nil when there is no go.mod
	// (only the mirrors stage works without one).
	Workspace *workspace.Workspace
	// Config is the repository's configuration file (never nil).
	Config *config.File
	// Store is where the caches, the stage timings and the tidy memo are
	// kept, opened once; nil with StoreKind None or InProject.
	Store store.Store
	// StoreKind is the kind of Store.
	StoreKind stores.Kind
	// Log receives notices, warnings and progress for a person (stderr).
	Log io.Writer
	// ToolDir is modhygiene's directory under the user cache directory,
	// "" when there is none.
	ToolDir string
	// Live says that Log is a person's terminal, where a live progress
	// line is welcome.
	Live bool

	// previous waits for what the runs before kept (set by Run).
	previous func() *previous
	// listingKeys are the keys of check's package listings of this run
	// (set by Check), for the state.
	listingKeys []string
}

// Result is what a stage produced.
type Result struct {
	// Status is the stage's outcome; empty means OK, or Findings when there
	// are findings.
	Status Status
	// Summary is one line about the outcome.
	Summary string
	// Outputs are key/value results other tools read (step outputs).
	Outputs map[string]string
	// Findings are the stage's findings, failures (rule MH000) included.
	Findings []finding.Finding
	// Exports are NAME=value variables that the later stages' go commands
	// see (the mirrors' GOPROXY).
	Exports []string
}

// Stage is one step of a run.
type Stage interface {
	// Name is the stage's name in reports: mirrors, restore, tidy, check,
	// vuln or save.
	Name() string
	// Run does the stage's work. Problems of the repository, the network
	// or the cache are part of the Result (findings, failures, a warning
	// status); the error means a usage problem that stops the run (exit 2),
	// or that ctx ended.
	Run(ctx context.Context, env *Env) (Result, error)
}

// Plan is the stages of one run, in order, and what is done with their
// findings.
type Plan struct {
	// Stages run one after another.
	Stages []Stage
	// Rules, when not nil, keeps only the findings of these rule IDs;
	// failures (MH000) are always kept.
	Rules map[string]bool
	// State keeps the stages' wall times, the tidy memo and the findings
	// for the next run and reads the last run's; nil keeps none.
	State *State
}

// Outcome is what a run produced.
type Outcome struct {
	// Stages are the stages that ran, timed, in order.
	Stages []report.Stage
	// Findings are every stage's findings after the plan's rule filter and
	// the configuration's severities and ignores, each once, in
	// finding.Sort order.
	Findings []finding.Finding
	// BaseFindings are the fingerprints of the findings of the base
	// branch's last saved run, when the store keeps one (see State).
	BaseFindings []string
}

// Run runs the plan's stages in order. Each stage is timed; the variables
// it exports are added to env.Go.Env before the next one runs; the
// findings are filtered, configured, normalised, deduplicated and sorted
// once. The error is a stage's usage error, or ctx's when it ended; the
// outcome then holds the stages that ran.
func Run(ctx context.Context, env *Env, plan Plan) (*Outcome, error) {
	out := &Outcome{}
	prev := plan.State.startLoad(ctx, env)
	env.previous = prev
	var all []finding.Finding
	for _, s := range plan.Stages {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		start := time.Now()
		res, err := s.Run(ctx, env)
		if err != nil {
			return out, err
		}
		env.Go.Env = gocmd.Merge(env.Go.Env, res.Exports)
		out.Stages = append(out.Stages, res.stage(s.Name(), time.Since(start)))
		all = append(all, res.Findings...)
	}
	out.Findings = plan.collect(env, all)
	p := prev()
	if p.base != nil {
		out.BaseFindings = p.base.Findings
	}
	plan.State.keep(ctx, env, out, p)
	return out, ctx.Err()
}

// stage describes r as the report's stage name, which took d.
func (r *Result) stage(name string, d time.Duration) report.Stage {
	st := report.Stage{Name: name, Duration: d, Status: string(r.Status), Summary: r.Summary, Outputs: r.Outputs}
	if st.Status == "" {
		st.Status = string(OK)
		if len(r.Findings) > 0 {
			st.Status = string(Findings)
		}
	}
	return st
}

// collect keeps the findings the plan's rules select, applies the
// configuration, and returns each finding once, sorted.
func (p *Plan) collect(env *Env, fs []finding.Finding) []finding.Finding {
	var kept []finding.Finding
	for _, f := range fs {
		if p.Rules == nil || p.Rules[f.Rule] || f.IsFailure() {
			kept = append(kept, f)
		}
	}
	kept = env.Config.Apply(kept, time.Now())
	seen := map[string]bool{}
	out := kept[:0]
	for _, f := range kept {
		f.Normalize()
		if seen[f.Fingerprint] {
			continue
		}
		seen[f.Fingerprint] = true
		out = append(out, f)
	}
	finding.Sort(out)
	return out
}

// Failed returns the names of the stages that failed.
func (o *Outcome) Failed() []string {
	var names []string
	for _, s := range o.Stages {
		if s.Status == string(Failed) {
			names = append(names, s.Name)
		}
	}
	return names
}

// Stage returns the stage named name, or nil when it did not run.
func (o *Outcome) Stage(name string) *report.Stage {
	for i := range o.Stages {
		if o.Stages[i].Name == name {
			return &o.Stages[i]
		}
	}
	return nil
}

// DefaultOutputs makes sure the Action's outputs are set when their stage
// did not run: cache-hit false, untidy-modules empty, goproxy as the go
// command sees it (credentials redacted). They go on the last stage.
func (o *Outcome) DefaultOutputs(ctx context.Context, env *Env) {
	if len(o.Stages) == 0 {
		return
	}
	have := map[string]bool{}
	for _, st := range o.Stages {
		for k := range st.Outputs {
			have[k] = true
		}
	}
	add := map[string]string{}
	if !have["cache-hit"] {
		add["cache-hit"] = "false"
	}
	if !have["untidy-modules"] {
		add["untidy-modules"] = ""
	}
	if !have["goproxy"] {
		if m, err := env.Go.GoEnv(ctx, env.Dir, "GOPROXY"); err == nil {
			add["goproxy"] = ci.RedactURL(m["GOPROXY"])
		}
	}
	last := &o.Stages[len(o.Stages)-1]
	if last.Outputs == nil {
		last.Outputs = map[string]string{}
	}
	for k, v := range add {
		last.Outputs[k] = v
	}
}

// RepoDir is the run's directory relative to the repository root, with
// forward slashes ("" for the root): it names the run's SARIF category.
func (e *Env) RepoDir() string {
	if e.Workspace == nil {
		return ""
	}
	rel, err := filepath.Rel(e.Workspace.RepoRoot, e.Dir)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return ""
	}
	return filepath.ToSlash(rel)
}
