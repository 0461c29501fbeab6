package cli

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

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
	// inFile says whether the configuration file's run: map may set it.
	inFile bool
}

var runKeys = []runKey{
	{name: "working-directory", flag: "dir", action: "."},
	{name: "mirrors", flag: "mirrors", action: "auto", inFile: true},
	{name: "cache", flag: "cache", action: "auto", inFile: true},
	{name: "build-cache", flag: "build-cache", action: "false", inFile: true},
	{name: "tidy", flag: "tidy", action: "check", inFile: true},
	{name: "checks", flag: "checks", action: "all", inFile: true},
	{name: "vuln", flag: "vuln", action: "false", inFile: true},
	{name: "vuln-db", flag: "vuln-db", inFile: true},
	{name: "fail-on", flag: "fail-on", action: "warning", inFile: true},
	{name: "sarif", flag: "sarif", action: "", inFile: true},
	{name: "config", flag: "config", action: ""},
}

// runSettings is the resolved configuration of one `modhygiene run`.
type runSettings struct {
	platform ci.Platform
	// values and where each came from (a flag, an INPUT_ variable, the
	// configuration file or the default), by key name.
	values map[string]string
	from   map[string]string

	dir        string // absolute working directory
	mirrors    string // "" when off, else the candidate list
	cacheOff   bool
	store      string // --store of the cache commands ("" for the platform's default)
	buildCache bool
	tidy       string // check, fix or off
	checksOff  bool
	checkRules map[string]bool // nil for all
	vuln       bool
	vulnDB     string

	ws  *workspace.Workspace
	cfg *config.File
}

// isCI reports whether p is a CI system whose defaults turn on every stage
// but vuln.
func isCI(p ci.Platform) bool { return p == ci.GitHub || p == ci.GitLab }

// inputName is the environment variable that carries an Action input:
// INPUT_ and the name upper-cased, hyphens kept.
func inputName(key string) string { return "INPUT_" + strings.ToUpper(key) }

// resolveRun merges the flags given on the command line (set), the INPUT_*
// variables, the configuration file's run: map and the defaults, in that
// order, loads the workspace and the configuration file, and validates
// every value. Problems are usage errors.
func (a *app) resolveRun(f *runFlags, set map[string]bool) (*runSettings, error) {
	s := &runSettings{platform: ci.Detect(a.getenv), values: map[string]string{}, from: map[string]string{}}
	a.pickFlagsAndInputs(s, f, set)
	// The working directory and the configuration file come before the
	// file's run: map.
	s.dir = a.abs(s.values["working-directory"])
	ws, cfg, err := a.loadRunConfig(s)
	if err != nil {
		return nil, err
	}
	s.ws, s.cfg = ws, cfg
	if err := s.pickFile(cfg); err != nil {
		return nil, err
	}
	s.pickDefaults()
	if err := a.interpret(s); err != nil {
		return nil, err
	}
	return s, nil
}

// pickFlagsAndInputs takes each setting from its flag when set, else from
// its INPUT_* variable unless that holds the action's own default (the
// runner sets every declared input, so a default says nothing).
func (a *app) pickFlagsAndInputs(s *runSettings, f *runFlags, set map[string]bool) {
	flagVal := map[string]string{}
	f.fs.VisitAll(func(fl *flag.Flag) { flagVal[fl.Name] = fl.Value.String() })
	for _, k := range runKeys {
		if set[k.flag] {
			s.values[k.name], s.from[k.name] = flagVal[k.flag], "--"+k.flag
			continue
		}
		v := strings.TrimSpace(a.getenv(inputName(k.name)))
		if v != "" && !sameValue(v, k.action) {
			s.values[k.name], s.from[k.name] = v, inputName(k.name)
		}
	}
}

// loadRunConfig finds the modules under s.dir and reads the configuration
// file: the "config" setting when given, else .modhygiene.yaml.
func (a *app) loadRunConfig(s *runSettings) (*workspace.Workspace, *config.File, error) {
	ws, cfg, err := a.loadWorkspace(s.dir, nil)
	if err != nil {
		return nil, nil, err
	}
	p := s.values["config"]
	if p == "" {
		return ws, cfg, nil
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(s.dir, p)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, nil, exitcode.UsageError(fmt.Errorf("config: %w", err))
	}
	if cfg, err = config.Parse(p, data); err != nil {
		return nil, nil, exitcode.UsageError(err)
	}
	return ws, cfg, nil
}

// pickFile takes the settings not yet set from the file's run: map, and
// refuses keys that are not settings.
func (s *runSettings) pickFile(cfg *config.File) error {
	fileKeys := make([]string, 0, len(cfg.Run))
	for k := range cfg.Run {
		fileKeys = append(fileKeys, k)
	}
	sort.Strings(fileKeys)
	for _, name := range fileKeys {
		k, ok := lookupRunKey(name)
		if !ok || !k.inFile {
			var valid []string
			for _, k := range runKeys {
				if k.inFile {
					valid = append(valid, k.name)
				}
			}
			return exitcode.UsageError(fmt.Errorf("%s: run: unknown key %q; valid keys: %s", cfg.Path, name, strings.Join(valid, ", ")))
		}
		if _, done := s.values[name]; !done {
			s.values[name], s.from[name] = strings.TrimSpace(cfg.Run[name]), cfg.Path
		}
	}
	return nil
}

// runDefaults are the settings nothing else set. "auto" means: in CI every
// stage but vuln, on a laptop tidy and check with the file store.
var runDefaults = map[string]string{
	"mirrors": "auto", "cache": "auto", "build-cache": "false", "tidy": "check",
	"checks": "all", "vuln": "false", "vuln-db": "official", "fail-on": "warning",
}

func (s *runSettings) pickDefaults() {
	for k, v := range runDefaults {
		if _, done := s.values[k]; !done {
			s.values[k], s.from[k] = v, "default"
		}
	}
}

// interpret validates the settings and turns them into the fields the
// stages read.
func (a *app) interpret(s *runSettings) error {
	bad := func(key, want string) error {
		return exitcode.UsageError(fmt.Errorf("run: %s %q (from %s): want %s", key, s.values[key], s.from[key], want))
	}
	s.interpretStores()
	var err error
	if s.buildCache, err = parseInputBool(s.values["build-cache"]); err != nil {
		return bad("build-cache", "true or false")
	}
	if s.vuln, err = parseInputBool(s.values["vuln"]); err != nil {
		return bad("vuln", "true or false")
	}
	s.vulnDB = s.values["vuln-db"]
	if s.vuln {
		if _, err := vuln.ParseSource(s.vulnDB, a.cwd); err != nil {
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
	if _, err := report.ParseFailOn(s.values["fail-on"]); err != nil {
		return bad("fail-on", "info, warning, error or never")
	}
	return nil
}

// interpretStores reads the mirrors and cache settings.
func (s *runSettings) interpretStores() {
	switch m := s.values["mirrors"]; strings.ToLower(m) {
	case "off", "false", "none":
	case "auto", "":
		if isCI(s.platform) {
			s.mirrors = mirror.DefaultList
		}
	default:
		s.mirrors = m
	}
	switch c := s.values["cache"]; strings.ToLower(c) {
	case "off", "false", "none":
		s.cacheOff = true
	case "auto", "":
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
		s.checksOff = true
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

func lookupRunKey(name string) (runKey, bool) {
	for _, k := range runKeys {
		if k.name == name {
			return k, true
		}
	}
	return runKey{}, false
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

// parseInputBool parses a boolean as the Actions toolkit does (YAML 1.2
// core schema): true, True, TRUE, false, False or FALSE.
func parseInputBool(s string) (bool, error) {
	switch s {
	case "true", "True", "TRUE":
		return true, nil
	case "false", "False", "FALSE":
		return false, nil
	}
	return false, errors.New("not a boolean")
}

// sameValue reports whether an input's value is its declared default
// (booleans in any of their spellings).
func sameValue(v, def string) bool {
	if v == def {
		return true
	}
	b1, err1 := parseInputBool(v)
	b2, err2 := parseInputBool(def)
	return err1 == nil && err2 == nil && b1 == b2
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
		case k.name == "vuln-db" && !s.vuln:
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

// ruleOn reports whether the checks setting selects the graph or
// environment rule id (MH002 to MH009); other rules have stages of their own.
func (s *runSettings) ruleOn(id string) bool {
	switch {
	case id == "MH001" || id == "MH010":
		return true
	case s.checksOff:
		return false
	case s.checkRules != nil:
		return s.checkRules[id]
	}
	return true
}
