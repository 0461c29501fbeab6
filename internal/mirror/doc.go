// Package mirror measures candidate Go module proxies and chooses a GOPROXY
// chain from them, without ever weakening checksum verification.
//
// The steps are separate so each can be tested alone:
//
//   - Candidates turns a list of preset names and URLs into candidates;
//     Defaults asks the go command for its own default GOPROXY and GOSUMDB;
//     CheckPrivate refuses private patterns that would switch checksum
//     verification off for every host.
//   - ProbeModules picks the .info requests to measure with: modules the
//     repository really requires, never a private one. SumDBProbe picks the
//     module looked up in the checksum database through each mirror, and
//     SumDBKey finds the database's public key.
//   - Prober.Probe measures every candidate concurrently, each bounded by
//     the prober's timeout, and classifies it healthy, slow, failing or
//     unreachable. A candidate that says it serves the checksum database
//     is verified (golang.org/x/mod/sumdb: signed tree head and inclusion
//     proof) or found invalid. Credentials never go over plain http.
//   - Choose orders the usable mirrors by latency into a `|` chain, keeps
//     the current GOPROXY when nothing is usable (or, with PreferCurrent,
//     while it is good enough), and keeps GOSUMDB on and away from any
//     mirror whose lookup did not verify.
//   - Decision.Vars lists the variables to export, with their real values;
//     WriteShell, WriteDotenv and WriteGitHubEnv write them for later steps.
//     Everything printed or stored goes through ci.RedactURL: WriteTable,
//     WriteJSON, Decision.Redacted, RedactedGOPROXY and StepOutputs.
//
// Nothing here reads the process environment or writes to os.Stdout; the
// HTTP client is injected.
package mirror
