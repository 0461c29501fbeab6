// Package check implements the dependency-graph rules of `modhygiene check`:
//
//	MH002 duplicate-major     rule_dupmajor.go
//	MH003 renamed-twin        rule_twin.go
//	MH004 family-skew         rule_family.go
//	MH005 cross-module-drift  rule_drift.go
//	MH006 deprecated          rule_deprecated.go
//	MH007 retracted           rule_retracted.go
//	MH008 directive           rule_directive.go
//	MH011 stale-sibling       rule_stalesibling.go
//
// Each rule is a function over the loaded module graphs (package modgraph)
// and the parsed go.mod files (package workspace); the rules do no I/O
// beyond reading the module cache through modgraph. What several rules
// share (how a module stops linking a dependency, the import rewrite for
// drop-in twins, the folding of info findings) is in fixes.go.
//
// Run loads the graphs, asks the module proxy once for what the rules
// need to verify their fixes (Wants, then Input.Lookups) and applies every
// rule; Analyze applies the rules to graphs loaded by the caller. The
// severity policy is docs/rules.md. The known twins and families are
// documented data in tables.go, extended by the configuration file.
package check
