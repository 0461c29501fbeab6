package finding

// Rule describes one rule: its stable ID, its name and help for people.
type Rule struct {
	// ID is the stable identifier, such as MH002.
	ID string
	// Name is the short kebab-case name, such as duplicate-major.
	Name string
	// Short is a one-line description.
	Short string
	// Help explains the problem and how to fix it.
	Help string
	// Default is the severity used when the rule does not decide per finding.
	Default Severity
}

// Rules is the catalogue of every rule, in ID order.
var Rules = []Rule{
	{ID: FailedRule, Name: "failed", Default: Error,
		Short: "a stage could not do its work for a module",
		Help:  "tidy, check or vuln could not run for the module: the go command failed (a module the proxy refuses, a private module without credentials, a broken go.mod, no Go). The message carries the go command's reason. The run exits 3 whatever --fail-on says, because its verdict on this module is unknown: fix the cause and run again."},
	{ID: "MH001", Name: "untidy", Default: Error,
		Short: "go mod tidy would change go.mod or go.sum",
		Help:  "The module's go.mod or go.sum is not what `go mod tidy` would write: a requirement is missing or unused, or go.sum lacks or has extra checksums. Run `go mod tidy` in the module directory (or `modhygiene tidy --fix`) and commit the result."},
	{ID: "MH002", Name: "duplicate-major", Default: Warning,
		Short: "one module at two or more major versions in one build list",
		Help:  "Two major versions of the same module (x and x/v2, gopkg.in/x.v2 and x.v3) are linked into the build: both are compiled in, doubling code and splitting global state. A warning when both are linked; the fix upgrades the dependencies that import the old major to releases that no longer require it. When the module imports both itself (two APIs used on purpose, such as etcd's client/v2 and client/v3) moving is a code change and no command is printed. Info when one of them is only in the module graph, or no upgrade drops it."},
	{ID: "MH003", Name: "renamed-twin", Default: Warning,
		Short: "the same code under two module paths",
		Help:  "A module and its renamed copy or fork (dgrijalva/jwt-go and golang-jwt/jwt, satori/go.uuid and gofrs/uuid, a case-only difference) are both linked: values from one are not accepted by the other. A warning (an error for a case-only difference, which the go command refuses); the fix upgrades the dependencies that import the old path, or rewrites the module's own imports for a drop-in twin, or names the migration guide. Info when at most one copy is linked."},
	{ID: "MH004", Name: "family-skew", Default: Error,
		Short: "members of a module family at different versions",
		Help:  "Modules that are released together (go.opentelemetry.io/otel/*, k8s.io/{api,apimachinery,client-go}) are linked at different versions: an error when major.minor differ (the member behind is built against an API it was not released with), a warning for a patch-level lag, info when a member is only in the module graph. The fix upgrades the member behind, never downgrades. A package the go command finds in two modules (\"ambiguous import\", the genproto split) is an error."},
	{ID: "MH005", Name: "cross-module-drift", Default: Warning,
		Short: "modules of one repository select different versions of a dependency",
		Help:  "Two modules of this repository link different versions of the same dependency, so they are tested against different code. Align them with `go work sync` (with a go.work) or `go get dep@version` in each module; a pseudo-version gives way to the release made from its commit."},
	{ID: "MH006", Name: "deprecated", Default: Warning,
		Short: "a linked module is deprecated upstream",
		Help:  "The module's latest go.mod carries a Deprecated comment and a package of it is linked. The fix upgrades the dependencies that import it to releases that no longer do; when the module imports it itself, move to the successor the message names. Info when it is only in the module graph or no upgrade drops it."},
	{ID: "MH007", Name: "retracted", Default: Error,
		Short: "a linked version is retracted",
		Help:  "The module's author retracted the selected version, usually because it is broken or was published by mistake, and a package of it is linked. Upgrade to the version the fix names, which is not retracted. Info when the module is only in the module graph."},
	{ID: "MH008", Name: "directive", Default: Warning,
		Short: "go.mod directive hygiene",
		Help:  "A go.mod directive is out of place: a replace or exclude that does nothing (not in the build list), a guard replace (=> ./FORBIDDEN_DEPENDENCY) whose module path is a typo, or a local replace in a required module of the repository that the requiring module lacks, so it builds against other code. go and toolchain lines that disagree across the repository's modules are info: a lower line in a library is a choice."},
	{ID: "MH009", Name: "environment", Default: Warning,
		Short: "the Go environment weakens integrity or availability",
		Help:  "The environment turns off or narrows checksum verification (GOSUMDB=off, GONOSUMDB, GOINSECURE, GOFLAGS=-insecure) or relies on a single fetch path (GOPROXY=direct or off alone). Remove the setting, or narrow it to the private modules that need it."},
	{ID: "MH010", Name: "vulnerable", Default: Error,
		Short: "a known vulnerability reaches the code",
		Help:  "A required module version has a known vulnerability. Upgrade to the fixed version named in the finding."},
	{ID: "MH011", Name: "stale-sibling", Default: Warning,
		Short: "a module requires an old release of another module of the same repository",
		Help:  "A module of this repository requires another module of the repository without a replace, at an older release than the repository's version (the highest version its other modules require). It builds and tests against that old published code, which explains many drift and vulnerability findings. The fix moves it to the repository's version, or adds the replace by the sibling's directory when that version is not published."},
}

// FailedRule is the ID of the findings that record a failure of the tool
// rather than a problem of the repository: a stage that could not run for a
// module. Such a finding makes the run fail with exit code 3, and every
// reporter shows it (an error annotation, "Failed" in the job summary and
// the merge-request note, a blocker in Code Quality).
const FailedRule = "MH000"

// IsFailure reports whether f records a failure of the tool (rule
// FailedRule), not a problem in the repository.
func (f *Finding) IsFailure() bool { return f.Rule == FailedRule }

// Lookup returns the rule with the given ID.
func Lookup(id string) (Rule, bool) {
	for _, r := range Rules {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}
