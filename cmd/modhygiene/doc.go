// Command modhygiene keeps a repository's Go module dependencies fast to
// fetch and healthy, in CI and on a laptop.
//
// Usage:
//
//	modhygiene <command> [flags] [arguments]
//
// The commands:
//
//	run      the whole job: mirrors, cache restore, tidy, check, vuln, report
//	         (run --post saves the caches: the GitHub Action's post step)
//	mirrors  measure candidate GOPROXY mirrors and export a resilient chain
//	cache    key, restore, save and prune keyed module and build caches
//	tidy     go mod tidy for every module in parallel, as a check or a fix
//	check    duplicate majors, renamed twins, family skew, drift, deprecated
//	         and retracted versions, directive and environment hygiene
//	vuln     known vulnerabilities with golang.org/x/vuln
//	report   re-render a saved JSON run in another format
//	version  print the version
//	help     show help for a command
//
// Every command takes --help. The modules of a repository are the use
// entries of go.work at --dir, else every go.mod below --dir, skipping
// vendor, testdata and directories whose names start with "." or "_".
//
// Findings carry a rule ID (MH001 to MH010), a severity, the go.mod file and
// line to change, the dependency path and the command that fixes them. The
// JSON stream (--format json or --json FILE) is the canonical output; text,
// SARIF, GitLab Code Quality and the GitHub annotations and job summary are
// rendered from it.
//
// Exit codes:
//
//	0  clean: no new finding at or above --fail-on
//	1  findings at or above --fail-on
//	2  usage or configuration error (bad flags, no module, a malformed
//	   .modhygiene.yaml, reported with file:line)
//	3  the tool or the go command failed (tidy could not run for a module)
//
// A cache problem never changes the exit code. Checksum verification is never
// weakened: modhygiene never sets GOSUMDB=off, GOINSECURE or -insecure, and
// reports them where it finds them (rule MH009).
package main
