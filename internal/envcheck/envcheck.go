// Package envcheck implements rule MH009 (environment): it reads a Go
// environment and reports the settings that weaken checksum verification or
// leave a single fetch path.
//
// It does no I/O. Callers pass the environment as KEY=value pairs: the
// process environment, or the go command's own view of the variables in
// Vars (see FromGoEnv), which also covers settings written with `go env -w`.
package envcheck

import (
	"fmt"
	"sort"
	"strings"

	"golang.org/x/mod/module"

	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/gocmd"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

// Rule is the rule ID of every finding this package produces.
const Rule = "MH009"

// Vars are the variables Findings reads. Pass them to `go env -json` to get
// the go command's view, including values written with `go env -w`; the go
// command does not know GONOSUMCHECK, so take that one from the process
// environment (see Collect).
var Vars = []string{"GOSUMDB", "GONOSUMDB", "GONOSUMCHECK", "GOPRIVATE", "GOINSECURE", "GOFLAGS", "GOPROXY"}

// processOnly are variables of Vars that `go env` does not report.
var processOnly = []string{"GONOSUMCHECK"}

// Collect returns the environment for Findings: the go command's view
// (the map from `go env -json Vars...`) plus the variables the go command
// does not know, taken from env (the process environment as KEY=value).
func Collect(goenv map[string]string, env []string) []string {
	out := FromGoEnv(goenv)
	for _, name := range processOnly {
		if v := gocmd.Lookup(env, name); v != "" {
			out = append(out, name+"="+v)
		}
	}
	return out
}

// publicHosts are hosts that serve many unrelated public modules: a
// GOPRIVATE or GONOSUMDB pattern naming one of them whole turns checksum
// verification off for every module hosted there.
var publicHosts = map[string]bool{
	"github.com": true, "gitlab.com": true, "bitbucket.org": true, "codeberg.org": true,
	"gitee.com": true, "golang.org": true, "golang.org/x": true, "google.golang.org": true,
	"gopkg.in": true, "go.googlesource.com": true, "cloud.google.com": true, "k8s.io": true,
	"sigs.k8s.io": true, "go.uber.org": true, "go.opentelemetry.io": true, "go.etcd.io": true,
	"honnef.co": true, "go.yaml.in": true, "launchpad.net": true, "git.sr.ht": true,
}

// FromGoEnv turns the map returned by `go env -json` (gocmd.Runner.GoEnv)
// into KEY=value pairs for Findings, in a stable order.
func FromGoEnv(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	env := make([]string, 0, len(keys))
	for _, k := range keys {
		env = append(env, k+"="+m[k])
	}
	return env
}

// RequiredPaths returns the module paths the workspace's modules declare
// and require (in go.mod), sorted and without duplicates: the paths a
// GOPRIVATE or GONOSUMDB pattern is expected to match.
func RequiredPaths(ws *workspace.Workspace) []string {
	seen := map[string]bool{}
	for _, m := range ws.Modules {
		if m.Path != "" {
			seen[m.Path] = true
		}
		if m.File == nil {
			continue
		}
		for _, r := range m.File.Require {
			seen[r.Mod.Path] = true
		}
		for _, r := range m.File.Replace {
			if r.New.Version != "" {
				seen[r.New.Path] = true
			}
		}
	}
	paths := make([]string, 0, len(seen))
	for p := range seen {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths
}

// Findings returns the MH009 findings for env (KEY=value pairs; the last
// value of a key wins). required lists the module paths the repository
// declares and requires (see RequiredPaths); when it is nil, patterns are
// not checked against the requirements.
//
// Reported, from most to least serious:
//   - GOSUMDB=off, GOINSECURE set, GOFLAGS with -insecure (error: checksum
//     verification or TLS is off);
//   - GONOSUMCHECK set (warning: the go command ignores it, but it asks for
//     verification to be skipped);
//   - a GONOSUMDB or GOPRIVATE pattern that matches modules of any host
//     (`*`, `*.*`, `*/*`, `*.com`: see MatchesAnyHost), which turns checksum
//     verification off for all of them as GOSUMDB=off does (error);
//   - a GONOSUMDB or GOPRIVATE pattern naming a whole public host such as
//     github.com (warning);
//   - GOPROXY=direct alone (warning: one fetch path, no fallback);
//   - a GONOSUMDB or GOPRIVATE pattern that matches none of required, and
//     GOPROXY=off alone (info).
//
// When GONOSUMDB equals GOPRIVATE (the go command's default), its patterns
// are reported once, under GOPRIVATE. Findings are sorted by subject.
func Findings(env []string, required []string) []finding.Finding {
	get := func(name string) string { return gocmd.Lookup(env, name) }
	var fs []finding.Finding
	add := func(sev finding.Severity, subject, msg, fix string) {
		f := finding.Finding{Rule: Rule, Severity: sev, Subject: subject, Message: msg, Fix: fix}
		f.Normalize()
		fs = append(fs, f)
	}

	if v := strings.TrimSpace(get("GOSUMDB")); strings.EqualFold(v, "off") {
		add(finding.Error, "GOSUMDB", "GOSUMDB=off turns off checksum verification for every module; downloads are trusted blindly",
			"unset GOSUMDB; go env -u GOSUMDB")
	}
	if v := get("GONOSUMCHECK"); v != "" {
		add(finding.Warning, "GONOSUMCHECK", fmt.Sprintf("GONOSUMCHECK=%s asks to skip checksum checks; the go command does not read it, but it shows an intent to weaken verification that other settings may carry out", v),
			"unset GONOSUMCHECK")
	}
	if v := strings.TrimSpace(get("GOINSECURE")); v != "" {
		add(finding.Error, "GOINSECURE", fmt.Sprintf("GOINSECURE=%s lets modules matching it be fetched over plain HTTP or unverified TLS", v),
			"unset GOINSECURE; go env -u GOINSECURE")
	}
	if flags := get("GOFLAGS"); flags != "" {
		for _, fl := range strings.Fields(flags) {
			name, _, _ := strings.Cut(strings.TrimLeft(fl, "-"), "=")
			if name == "insecure" {
				rest := without(strings.Fields(flags), fl)
				add(finding.Error, "GOFLAGS=-insecure", fmt.Sprintf("GOFLAGS contains %s, which allows fetching over insecure schemes", fl),
					fmt.Sprintf("export GOFLAGS=%s", shellQuote(strings.Join(rest, " "))))
				break
			}
		}
	}

	private, nosum := get("GOPRIVATE"), get("GONOSUMDB")
	fs = append(fs, patternFindings("GOPRIVATE", private, required)...)
	if nosum != private {
		fs = append(fs, patternFindings("GONOSUMDB", nosum, required)...)
	}

	switch proxy := strings.TrimSpace(get("GOPROXY")); proxy {
	case "direct":
		add(finding.Warning, "GOPROXY", "GOPROXY=direct fetches every module from its origin with no proxy to fall back on; a slow or missing origin stalls the build",
			"modhygiene mirrors --export shell")
	case "off":
		add(finding.Info, "GOPROXY", "GOPROXY=off forbids every download; a module missing from the cache fails the build",
			"modhygiene mirrors --export shell")
	}
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].Subject < fs[j].Subject })
	return fs
}

// patternFindings checks the comma-separated glob patterns of name.
func patternFindings(name, value string, required []string) []finding.Finding {
	pats := splitPatterns(value)
	var fs []finding.Finding
	var bad []string
	add := func(sev finding.Severity, pat, msg string) {
		bad = append(bad, pat)
		fs = append(fs, finding.Finding{Rule: Rule, Severity: sev, Subject: name + "=" + pat, Message: msg})
	}
	for _, p := range pats {
		switch {
		case MatchesAnyHost(p):
			add(finding.Error, p, fmt.Sprintf("%s pattern %q matches modules of every host: all of them bypass the checksum database, as with GOSUMDB=off", name, p))
		case publicHosts[strings.TrimSuffix(p, "/*")]:
			add(finding.Warning, p, fmt.Sprintf("%s pattern %q covers a whole public host: every module there bypasses the checksum database; name your organisation's path instead, such as %s/yourorg", name, p, strings.TrimSuffix(p, "/*")))
		case required != nil && !matchesAny(p, required):
			add(finding.Info, p, fmt.Sprintf("%s pattern %q matches none of the repository's modules or requirements", name, p))
		}
	}
	fix := fmt.Sprintf("go env -w %s=%s", name, shellQuote(strings.Join(without(pats, bad...), ",")))
	for i := range fs {
		fs[i].Fix = fix
		fs[i].Normalize()
	}
	return fs
}

// MatchesAnyHost reports whether a GOPRIVATE, GONOPROXY or GONOSUMDB
// pattern matches the modules of hosts that nobody owns alone: its first
// path element (the host) holds a wildcard and does not end in a fixed
// domain of at least two labels. "*", "*.*", "*/*", "*.com" and "corp.*" do;
// "*.corp.example" and "git*.corp.example/team" do not. Such a pattern in
// GONOSUMDB (which defaults to GOPRIVATE) switches checksum verification
// off for modules anyone can publish.
func MatchesAnyHost(pattern string) bool {
	host, _, _ := strings.Cut(strings.TrimSpace(pattern), "/")
	i := strings.LastIndexAny(host, "*?[]\\")
	if i < 0 {
		return false
	}
	labels := 0
	for _, l := range strings.Split(host[i+1:], ".") {
		if l != "" {
			labels++
		}
	}
	return labels < 2
}

func matchesAny(pattern string, paths []string) bool {
	for _, p := range paths {
		if module.MatchPrefixPatterns(pattern, p) {
			return true
		}
	}
	return false
}

func splitPatterns(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func without(list []string, drop ...string) []string {
	var out []string
outer:
	for _, s := range list {
		for _, d := range drop {
			if s == d {
				continue outer
			}
		}
		out = append(out, s)
	}
	return out
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
