// Package mirror measures candidate Go module proxies and chooses a GOPROXY
// chain from them, without ever weakening checksum verification.
//
// The steps are separate so each can be tested alone:
//
//   - Candidates turns a list of preset names and URLs into candidates;
//     Defaults asks the go command for its own default GOPROXY and GOSUMDB.
//   - ProbeModules picks the .info requests to measure with: modules the
//     repository really requires, never a private one.
//   - Prober.Probe measures every candidate concurrently, each bounded by
//     the prober's timeout, and classifies it healthy, slow, failing or
//     unreachable.
//   - Choose orders the usable mirrors by latency into a `|` chain and keeps
//     GOSUMDB on.
//   - Decision.Vars lists the variables to export; WriteShell, WriteDotenv,
//     WriteGitHubEnv and WriteJSON render them, and WriteTable prints the
//     measurements for a person.
//
// Nothing here reads the process environment or writes to os.Stdout; the
// HTTP client is injected.
package mirror
