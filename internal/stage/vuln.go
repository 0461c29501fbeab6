package stage

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/vuln"
)

// Vuln scans every module of the workspace with golang.org/x/vuln (MH010).
// A module that cannot be scanned is an MH000 failure. The zero value scans
// at symbol level, one module at a time, with the official database.
type Vuln struct {
	// Source is the vulnerability database, parsed once from the setting.
	Source vuln.Source
	// Level is vuln.LevelModule, LevelPackage or LevelSymbol; "" means
	// symbol.
	Level string
	// Tests also analyses test files.
	Tests bool
	// Jobs bounds the modules scanned at once; 0 means 1 (a symbol scan
	// holds a module's program in memory).
	Jobs int
	// Check, when set, is the plan's check stage, which ran before: its
	// module graphs are reused instead of loaded again, and the paths of
	// MH010 are the ones check's findings name.
	Check *Check
}

var _ Stage = (*Vuln)(nil)

// Name is "vuln".
func (v *Vuln) Name() string { return "vuln" }

// Run prepares the database and scans the modules.
func (v *Vuln) Run(ctx context.Context, env *Env) (Result, error) {
	level := v.Level
	switch level {
	case "":
		level = vuln.LevelSymbol
	case vuln.LevelModule, vuln.LevelPackage, vuln.LevelSymbol:
	default:
		return Result{}, Usagef("--scan %q: want module, package or symbol", level)
	}
	if v.Jobs < 0 {
		return Result{}, Usagef("--jobs %d: want at least 1", v.Jobs)
	}
	res := Result{Outputs: map[string]string{}}
	dbURL, err := v.database(ctx, env, res.Outputs)
	if err != nil {
		return v.failed(env, res, err), nil
	}
	opt := vuln.Options{
		DB: dbURL, Level: level, Tests: v.Tests, Env: env.Go.Env, Runner: env.Go, Jobs: v.Jobs,
		Done: func(r *vuln.Result) {
			status := fmt.Sprintf("%d found", len(r.Findings))
			switch {
			case r.Err != nil:
				status = "failed"
			case r.NoPackages:
				status += " (no packages: build list)"
			}
			fmt.Fprintf(env.Log, "vuln %-40s %-9s %s\n", r.Module.Rel, status, r.Duration.Round(time.Millisecond))
		},
	}
	if v.Check != nil {
		opt.Graphs = v.Check.Graphs
	}
	results, err := vuln.Scan(ctx, env.Workspace.Modules, opt)
	if err != nil {
		if ctx.Err() != nil {
			return Result{}, ctx.Err()
		}
		return v.failed(env, res, err), nil
	}
	return v.result(env, res, results), nil
}

// database prepares the database and returns its URL ("" for the
// official one), recording what it built in outputs.
func (v *Vuln) database(ctx context.Context, env *Env, outputs map[string]string) (string, error) {
	if v.Source.Kind != vuln.Module {
		return v.Source.URL, nil
	}
	if env.ToolDir == "" {
		return "", fmt.Errorf("--db module: no user cache directory (set HOME or XDG_CACHE_HOME)")
	}
	mdb := &vuln.ModuleDB{Runner: env.Go, Dir: filepath.Join(env.ToolDir, "vulndb"), Version: v.Source.Version}
	db, err := mdb.Prepare(ctx)
	if err != nil {
		return "", fmt.Errorf("--db module: %w", err)
	}
	if db.Stale != nil {
		warn(env, "%v; using the database built from %s@%s", db.Stale, vuln.VulnDBModule, db.Version)
	}
	outputs["vulndb-dir"] = db.Dir
	outputs["vulndb-version"] = db.Version
	outputs["vulndb-built"] = fmt.Sprint(db.Built)
	return db.URL, nil
}

// failed is the result when no scan could start.
func (v *Vuln) failed(env *Env, res Result, err error) Result {
	var f failures
	f.add("vuln", "vuln could not scan", nil, err)
	f.print(env)
	v.hint(env)
	res.Findings = f.findings
	res.Status, res.Summary = Failed, firstLine(err.Error())
	return res
}

// hint says how to reach a database when the official one may be out of
// reach.
func (v *Vuln) hint(env *Env) {
	if v.Source.Kind == vuln.Official {
		fmt.Fprintln(env.Log, "modhygiene: vuln: if the official database cannot be reached from here, --db module fetches it through GOPROXY like any module")
	}
}

func (v *Vuln) result(env *Env, res Result, results []vuln.Result) Result {
	var (
		fs     []finding.Finding
		failed failures
		hit    int
	)
	for _, r := range results {
		if r.Err != nil {
			failed.add("vuln", "vuln could not scan", r.Module, r.Err)
			continue
		}
		if len(r.Findings) > 0 {
			hit++
		}
		fs = append(fs, r.Findings...)
	}
	res.Summary = fmt.Sprintf("%d %s in %d of %d %s", len(fs), Plural(len(fs), "vulnerability", "vulnerabilities"), hit, len(results), Plural(len(results), "module", "modules"))
	if len(failed.findings) > 0 {
		failed.print(env)
		v.hint(env)
		res.Status = Failed
		res.Summary += fmt.Sprintf("; %d could not be scanned", len(failed.findings))
	}
	res.Findings = append(fs, failed.findings...)
	return res
}
