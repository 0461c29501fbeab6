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
		Help:  "Two major versions of the same module (x and x/v2, gopkg.in/x.v2 and x.v3) are in the build list. Both are compiled in when both are imported, doubling code and splitting global state. Upgrade the dependencies that still use the old major version, or replace your own use of it."},
	{ID: "MH003", Name: "renamed-twin", Default: Warning,
		Short: "the same code under two module paths",
		Help:  "A module and its renamed copy or fork (dgrijalva/jwt-go and golang-jwt/jwt, satori/go.uuid and gofrs/uuid, a case-only difference) are both in the build list. Values from one are not accepted by the other. Move every user to the maintained path."},
	{ID: "MH004", Name: "family-skew", Default: Error,
		Short: "members of a module family at different versions",
		Help:  "Modules that are released together (go.opentelemetry.io/otel/*, k8s.io/{api,apimachinery,client-go}) are required at different versions. Such mixes often pass `go mod tidy` and fail `go build`, or fail with \"ambiguous import\". Upgrade every member of the family to the same release."},
	{ID: "MH005", Name: "cross-module-drift", Default: Warning,
		Short: "modules of one repository select different versions of a dependency",
		Help:  "Two modules of this repository select different versions of the same dependency, so they are tested against different code. Align them with `go work sync` (with a go.work) or `go get dep@version` in each module."},
	{ID: "MH006", Name: "deprecated", Default: Warning,
		Short: "a required module is deprecated upstream",
		Help:  "The module's latest go.mod carries a Deprecated comment. Move to the successor it names."},
	{ID: "MH007", Name: "retracted", Default: Error,
		Short: "a required version is retracted",
		Help:  "The module's author retracted the selected version, usually because it is broken or was published by mistake. Upgrade to a version that is not retracted."},
	{ID: "MH008", Name: "directive", Default: Warning,
		Short: "go.mod directive hygiene",
		Help:  "A go.mod directive is out of place: a local-path replace in a module that others import, a replace or exclude of a module that is not in the build list, or go/toolchain lines that disagree across the repository's modules."},
	{ID: "MH009", Name: "environment", Default: Warning,
		Short: "the Go environment weakens integrity or availability",
		Help:  "The environment turns off or narrows checksum verification (GOSUMDB=off, GONOSUMDB, GOINSECURE, GOFLAGS=-insecure) or relies on a single fetch path (GOPROXY=direct or off alone). Remove the setting, or narrow it to the private modules that need it."},
	{ID: "MH010", Name: "vulnerable", Default: Error,
		Short: "a known vulnerability reaches the code",
		Help:  "A required module version has a known vulnerability. Upgrade to the fixed version named in the finding."},
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
