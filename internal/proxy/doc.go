// Package proxy is a Go module proxy for the rest of a CI job (or a
// laptop): a GOPROXY protocol server on loopback that answers from the
// local module cache, its own directory, a shared store and then the
// upstream mirrors.
//
// A miss goes to the fastest mirror in good standing; when it has not
// answered within a hedge delay derived from its measured answer times,
// the same request goes to the next mirror too, and the first complete,
// valid answer wins. A mirror that errs or stalls is demoted for the rest
// of the run. Concurrent requests for one file share one fetch.
//
// The proxy is never weaker than the go command: private modules
// (GONOPROXY) are never asked of a mirror; what a mirror served is written
// to the shared store only after it verified against the checksum database
// (golang.org/x/mod/sumdb), so a poisoned mirror cannot poison what other
// runners read; credentials of the mirrors never appear in logs, errors or
// stats.
//
// Nothing here reads the process environment or writes to os.Stdout: the
// caller passes GOMODCACHE, GONOPROXY, GONOSUMDB, GOSUMDB and the .netrc
// content in Options.
package proxy
