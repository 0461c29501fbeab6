package stage

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/modhygiene/modhygiene/internal/check"
	"github.com/modhygiene/modhygiene/internal/config"
	"github.com/modhygiene/modhygiene/internal/envcheck"
	"github.com/modhygiene/modhygiene/internal/modgraph"
)

// Check runs the dependency-graph rules (MH002 to MH008, and MH009 when
// Environment is set) over every module of the workspace. A module whose
// graph cannot be loaded is an MH000 failure; the others are still
// checked. The zero value checks online, DefaultCheckJobs modules at once.
type Check struct {
	// Offline skips the proxy lookups of MH006 and MH007.
	Offline bool
	// Jobs bounds the modules loaded at once; 0 means DefaultCheckJobs.
	Jobs int
	// Environment reports MH009 for the go command's environment. A plan
	// reports MH009 from one stage only.
	Environment bool
	// NoMemo lists every module's packages even when their inputs are
	// unchanged since check last listed them.
	NoMemo bool

	// Graphs are the module graphs Run loaded, in the order of the
	// workspace's modules (nil for a module that could not be loaded), for
	// a later stage to reuse (see Vuln.Check).
	Graphs []*modgraph.Graph
}

// DefaultCheckJobs is the number of modules check loads at once.
var DefaultCheckJobs = max(2, runtime.NumCPU())

var _ Stage = (*Check)(nil)

// Name is "check".
func (c *Check) Name() string { return "check" }

// Run checks the module graphs.
func (c *Check) Run(ctx context.Context, env *Env) (Result, error) {
	if c.Jobs < 0 {
		return Result{}, Usagef("check: --jobs must be at least 1")
	}
	opt := check.Options{Offline: c.Offline, Concurrency: c.Jobs}
	if opt.Concurrency == 0 {
		opt.Concurrency = DefaultCheckJobs
	}
	addConfigTables(&opt, env.Config)
	if !c.NoMemo && env.ToolDir != "" {
		opt.ListingDir = listingDir(env)
		importListings(env)
	}
	var (
		wg     sync.WaitGroup
		goenv  map[string]string
		envErr error
	)
	if c.Environment {
		wg.Add(1)
		go func() {
			defer wg.Done()
			goenv, envErr = env.Go.GoEnv(ctx, env.Workspace.Root, envcheck.Vars...)
		}()
	}
	res, err := check.Run(ctx, env.Go, env.Workspace, opt)
	wg.Wait()
	if ctx.Err() != nil {
		return Result{}, ctx.Err()
	}
	var out Result
	if res != nil {
		out.Findings, c.Graphs, env.listingKeys = res.Findings, res.Graphs, res.ListingKeys
	}
	notices := c.notices(res)
	if c.Environment && envErr != nil {
		notices = append(notices, "MH009 environment skipped: "+firstLine(envErr.Error()))
	} else if c.Environment {
		out.Findings = append(out.Findings, envcheck.Findings(envcheck.FromGoEnv(goenv), envcheck.RequiredPaths(env.Workspace))...)
	}
	for _, n := range notices {
		notice(env, "%s", n)
	}
	failed := checkFailures(res, err)
	failed.print(env)
	n := len(out.Findings)
	out.Findings = append(out.Findings, failed.findings...)
	out.Status, out.Summary = checkSummary(len(env.Workspace.Modules), n, notices, len(failed.findings))
	if res != nil && res.Reused > 0 {
		reused := fmt.Sprintf("packages of %d of %d modules reused, unchanged since their last check", res.Reused, len(env.Workspace.Modules))
		out.Summary += "; " + reused
		fmt.Fprintf(env.Log, "check: %s\n", reused)
	}
	return out, nil
}

func (c *Check) notices(res *check.Result) []string {
	if res == nil {
		return nil
	}
	return res.Notices
}

// checkFailures turns the modules whose graph could not be loaded into
// MH000 findings; err without per-module failures fails the whole stage.
func checkFailures(res *check.Result, err error) *failures {
	var fs failures
	const what = "check could not load the module graph of"
	if res != nil {
		for _, f := range res.Failed {
			fs.add("check", what, f.Module, f.Err)
		}
	}
	if err != nil && len(fs.findings) == 0 {
		fs.add("check", what, nil, err)
	}
	return &fs
}

func checkSummary(modules, findings int, notices []string, failed int) (Status, string) {
	status, summary := OK, fmt.Sprintf("%d modules, %d findings", modules, findings)
	if findings > 0 {
		status = Findings
	}
	if len(notices) > 0 {
		summary += "; " + strings.Join(notices, "; ")
		if findings == 0 {
			status = Warning
		}
	}
	if failed > 0 {
		status = Failed
		summary += fmt.Sprintf("; %d %s could not be loaded", failed, Plural(failed, "module", "modules"))
	}
	return status, summary
}

// addConfigTables adds the configuration file's twins and families, which
// config.Parse has validated, to opt.
func addConfigTables(opt *check.Options, cfg *config.File) {
	if cfg == nil {
		return
	}
	for _, t := range cfg.Twins {
		opt.Twins = append(opt.Twins, check.Twin{Old: t.Old, New: t.New, Reason: t.Reason})
	}
	for _, fam := range cfg.Families {
		m := check.Match(strings.ToLower(fam.Match))
		if m == "" {
			m = check.Exact
		}
		name := fam.Name
		if name == "" {
			name = "configured"
		}
		opt.Families = append(opt.Families, check.Family{Name: name, Prefixes: fam.Prefixes, Modules: fam.Modules, Match: m})
	}
}

// listingDir is where check keeps package listings.
func listingDir(env *Env) string {
	return filepath.Join(env.ToolDir, "check-listings")
}

// importListings adds the package listings that the last saved run of this
// branch (or its base branch) kept in the store, so that a fresh runner
// lists only the modules whose inputs changed.
func importListings(env *Env) {
	if env.previous == nil {
		return
	}
	r := env.previous().stored
	if r == nil {
		return
	}
	st := &modgraph.ListingStore{Dir: listingDir(env)}
	for key, data := range r.Listings {
		st.AddRaw(key, data)
	}
}

// listingEntries returns the stored listings of keys for the run's state,
// at most maxListings bytes of them.
func listingEntries(env *Env, keys []string) map[string][]byte {
	if env.ToolDir == "" || len(keys) == 0 {
		return nil
	}
	st := &modgraph.ListingStore{Dir: listingDir(env)}
	out := map[string][]byte{}
	size := 0
	for _, k := range keys {
		data, ok := st.Raw(k)
		if !ok || size+len(data) > maxListings {
			continue
		}
		out[k], size = data, size+len(data)
	}
	return out
}
