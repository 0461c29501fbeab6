package cli

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/modhygiene/modhygiene/internal/cache"
	"github.com/modhygiene/modhygiene/internal/cache/stores"
	"github.com/modhygiene/modhygiene/internal/ci"
	"github.com/modhygiene/modhygiene/internal/config"
	"github.com/modhygiene/modhygiene/internal/exitcode"
	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/mirror"
	"github.com/modhygiene/modhygiene/internal/report"
	"github.com/modhygiene/modhygiene/internal/vuln"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

// runKey is one setting of `modhygiene run`, named as the Action's input
// and the key of the configuration file's run: map.
type runKey struct {
	name string
	// flag is the command-line flag that sets it.
	flag string
	// action is the input's default in action.yml. The runner sets every
	// declared input, at its default when the workflow does not; an input at
	// its default therefore does not override the configuration file.
	action string
	// def is the default when nothing sets it.
	def string
}

var runKeys = []runKey{
	{name: "working-directory", flag: "dir", action: "."},
	{name: "mirrors", flag: "mirrors", action: "auto", def: "auto"},
	{name: "cache", flag: "cache", action: "auto", def: "auto"},
	{name: "build-cache", flag: "build-cache", action: "true", def: "auto"},
	{name: "tidy", flag: "tidy", action: "check", def: "check"},
	{name: "checks", flag: "checks", action: "all", def: "all"},
	{name: "vuln", flag: "vuln", action: "false", def: "false"},
	{name: "vuln-db", flag: "vuln-db", def: "official"},
	{name: "fail-on", flag: "fail-on", action: "warning", def: "warning"},
	{name: "sarif", flag: "sarif", action: ""},
	{name: "config", flag: "config", action: ""},
	{name: "only-new-issues", flag: "only-new", action: "false", def: "false"},
	{name: "proxy", flag: "proxy", action: "off", def: "off"},
	{name: "restore-timeout", flag: "restore-timeout", def: cache.DefaultRestoreBudget.String()},
	{name: "save-timeout", flag: "save-timeout", def: cache.DefaultSaveBudget.String()},
}

// shimInputs are the action's inputs that only its node shim reads (which
// binary to get, extra arguments, whether to save in the post step); they
// are not settings of run.
var shimInputs = []string{"version", "install-only", "args", "skip-save-cache", "token"}

// runSettings is the resolved configuration of one `modhygiene run`: every
// setting read once, from its flag, its input, the configuration file or
// its default, and interpreted into the values the stages take.
type runSettings struct {
	// values and where each came from (a flag, an INPUT_ variable, the
	// configuration file or the default), by key name.
	values map[string]string
	from   map[string]string

	dir        string // absolute working directory
	mirrors    string // "" when off, else the candidate list
	autoMirror bool   // mirrors is auto: keep a good current GOPROXY
	store      string // the cache store spec ("" for the platform's)
	cacheOff   bool
	buildCache bool
	onlyNew    bool
	budgets    [2]time.Duration // restore and save budgets
	proxy      bool             // start the local module proxy
	proxyStore string           // its shared store, "" for none
	tidy       string           // check, fix or off
	checkRules map[string]bool  // nil for all; empty when off
	vuln       bool
	vulnSource vuln.Source
	failOn     report.FailOn

	ws  *workspace.Workspace
	cfg *config.File
}

// isCI reports whether p is a CI system whose defaults turn on every stage
// but vuln.
func isCI(p ci.Platform) bool { return p == ci.GitHub || p == ci.GitLab }

// resolveRun merges the flags given on the command line, the action's
// inputs, the configuration file's run: map and the defaults, in that
// order, loads the workspace and the configuration file, and validates
// every value. Problems are usage errors.
func (a *app) resolveRun(c *command) (*runSettings, error) {
	s := &runSettings{values: map[string]string{}, from: map[string]string{}}
	a.pickFlagsAndInputs(s, c)
	// The working directory and the configuration file come before the
	// file's run: map.
	s.dir = a.abs(s.values["working-directory"])
	ws, err := a.loadWorkspace(s.dir, nil)
	if err != nil {
		return nil, err
	}
	cfg, err := loadConfig(ws, s.dir, s.values["config"])
	if err != nil {
		return nil, err
	}
	s.ws, s.cfg = ws, cfg
	s.pickFile(cfg)
	s.pickDefaults()
	if err := s.interpret(a.ci.Platform, a.cwd); err != nil {
		return nil, err
	}
	return s, nil
}

// pickFlagsAndInputs takes each setting from its flag when set, else from
// its input unless that holds the action's own default (the runner sets
// every declared input, so a default says nothing).
func (a *app) pickFlagsAndInputs(s *runSettings, c *command) {
	for _, k := range runKeys {
		if c.set[k.flag] {
			s.values[k.name], s.from[k.name] = c.values[k.flag], "--"+k.flag
			continue
		}
		if v := a.ci.Input(k.name); v != "" && !ci.SameInput(v, k.action) {
			s.values[k.name], s.from[k.name] = v, ci.InputVar(k.name)
		}
	}
}

// pickFile takes the settings not yet set from the file's run: map, whose
// keys config.Parse has checked.
func (s *runSettings) pickFile(cfg *config.File) {
	for _, name := range slices.Sorted(maps.Keys(cfg.Run)) {
		if _, done := s.values[name]; !done {
			s.values[name], s.from[name] = strings.TrimSpace(cfg.Run[name]), cfg.Path
		}
	}
}

// pickDefaults fills the settings nothing else set. "auto" means: in CI
// every stage but vuln, on a laptop tidy and check.
func (s *runSettings) pickDefaults() {
	for _, k := range runKeys {
		if _, done := s.values[k.name]; !done && k.def != "" {
			s.values[k.name], s.from[k.name] = k.def, "default"
		}
	}
}

// interpret validates the settings and turns them into the fields the
// stages read.
func (s *runSettings) interpret(p ci.Platform, cwd string) error {
	bad := func(key, want string) error {
		return exitcode.UsageError(fmt.Errorf("run: %s %q (from %s): want %s", key, s.values[key], s.from[key], want))
	}
	s.interpretStores(p)
	var err error
	if s.values["build-cache"] == "auto" {
		// The README advises turning setup-go's cache off on GitHub
		// Actions: then the build cache is ours to keep.
		s.values["build-cache"] = fmt.Sprint(p == ci.GitHub)
	}
	if s.buildCache, err = ci.ParseInputBool(s.values["build-cache"]); err != nil {
		return bad("build-cache", "true or false")
	}
	if s.onlyNew, err = ci.ParseInputBool(s.values["only-new-issues"]); err != nil {
		return bad("only-new-issues", "true or false")
	}
	for i, k := range []string{"restore-timeout", "save-timeout"} {
		if s.budgets[i], err = time.ParseDuration(s.values[k]); err != nil || s.budgets[i] <= 0 {
			return bad(k, "a positive duration such as 2m or 90s")
		}
	}
	switch v := s.values["proxy"]; strings.ToLower(v) {
	case "off", "false", "":
	case "on", "true":
		s.proxy = true
	default:
		if _, _, err := stores.Open(v, &ci.Env{}, stores.Options{}); err != nil {
			return bad("proxy", "on, off or the URL of a shared store (s3://BUCKET/PREFIX?..., file:///PATH)")
		}
		s.proxy, s.proxyStore = true, v
	}
	if s.vuln, err = ci.ParseInputBool(s.values["vuln"]); err != nil {
		return bad("vuln", "true or false")
	}
	if s.vuln {
		if s.vulnSource, err = vuln.ParseSource(s.values["vuln-db"], cwd); err != nil {
			return exitcode.UsageError(fmt.Errorf("run: vuln-db (from %s): %w", s.from["vuln-db"], err))
		}
	}
	switch s.tidy = strings.ToLower(s.values["tidy"]); s.tidy {
	case "check", "fix", "off":
	case "true":
		s.tidy = "check"
	case "false":
		s.tidy = "off"
	default:
		return bad("tidy", "check, fix or off")
	}
	if !s.interpretChecks() {
		return bad("checks", "all, off or a comma-separated list of rule IDs or names (MH002,family-skew,...)")
	}
	if s.failOn, err = report.ParseFailOn(s.values["fail-on"]); err != nil {
		return bad("fail-on", "info, warning, error or never")
	}
	return nil
}

// interpretStores reads the mirrors and cache settings. cache: true and
// false, as setup-go users write them, mean auto and off.
func (s *runSettings) interpretStores(p ci.Platform) {
	switch m := s.values["mirrors"]; strings.ToLower(m) {
	case "off", "false", "none":
	case "auto", "", "true":
		if isCI(p) {
			s.mirrors, s.autoMirror = mirror.DefaultList, true
		}
	default:
		s.mirrors = m
	}
	switch c := s.values["cache"]; strings.ToLower(c) {
	case "off", "false", "none":
		s.cacheOff = true
	case "auto", "", "true":
		// On a laptop the module cache is already on the machine: a copy
		// in a store would only cost time and disk.
		s.cacheOff = !isCI(p)
	default:
		s.store = c
	}
}

// interpretChecks reads the checks setting; false means it names an
// unknown rule.
func (s *runSettings) interpretChecks() bool {
	switch c := strings.ToLower(s.values["checks"]); c {
	case "all", "true", "":
		return true
	case "off", "false", "none":
		s.checkRules = map[string]bool{}
		return true
	}
	s.checkRules = map[string]bool{}
	for _, item := range strings.Split(s.values["checks"], ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		id := ruleID(item)
		if id == "" {
			return false
		}
		s.checkRules[id] = true
	}
	return true
}

// checksOff reports whether the checks setting turns the check stage off.
func (s *runSettings) checksOff() bool { return s.checkRules != nil && len(s.checkRules) == 0 }

// rules is the plan's rule filter: the graph and environment rules the
// checks setting selects, and the rules of the other stages (MH001 tidy,
// MH010 vuln) always; nil for all.
func (s *runSettings) rules() map[string]bool {
	if s.checkRules == nil {
		return nil
	}
	keep := map[string]bool{"MH001": true, "MH010": true}
	for id := range s.checkRules {
		keep[id] = true
	}
	return keep
}

// ruleID returns the ID of the rule named by an ID or a name ("MH002",
// "mh002", "duplicate-major"), or "".
func ruleID(s string) string {
	for _, r := range finding.Rules {
		if strings.EqualFold(s, r.ID) || strings.EqualFold(s, r.Name) {
			return r.ID
		}
	}
	return ""
}

// describe is one line with every setting as it applies and, where it is
// not the default, its source.
func (s *runSettings) describe() string {
	var parts []string
	for _, k := range runKeys {
		v, ok := s.values[k.name]
		switch {
		case k.name == "mirrors" && s.mirrors == "":
			v = "off"
		case k.name == "cache" && s.cacheOff:
			v = "off"
		case k.name == "vuln-db" && !s.vuln, k.name == "only-new-issues" && !s.onlyNew, k.name == "proxy" && !s.proxy,
			strings.HasSuffix(k.name, "-timeout") && s.from[k.name] == "default":
			continue
		case !ok || v == "":
			continue
		}
		p := k.name + "=" + v
		if from := s.from[k.name]; from != "default" {
			p += " (" + filepath.Base(from) + ")"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, " ")
}

// runKeyNamed returns the setting called name.
func runKeyNamed(name string) (runKey, bool) {
	for _, k := range runKeys {
		if k.name == name {
			return k, true
		}
	}
	return runKey{}, false
}
