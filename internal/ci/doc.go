// Package ci knows where modhygiene runs: GitHub Actions, GitLab CI,
// pre-commit or a local terminal. It speaks the GitHub runner's interface
// (workflow commands, environment files, the event payload), finds the lines
// a pull or merge request changed, and masks secrets before anything can
// print them.
//
// Nothing here reads the process environment: callers pass a getenv func or
// an environment slice.
//
// Masking, for stages that obtain secrets at run time (a signed cache URL, a
// token read from a file): on GitHub, call
//
//	ci.MaskURL(stderr, signedURL) // masks its sig (and other signature parameters)
//	ci.Mask(stderr, token)
//
// before the value can reach any output; elsewhere the command itself would
// print the secret, so use a Masker, which writes the command only on GitHub
// and redacts everywhere:
//
//	m := ci.NewMasker(ci.Detect(getenv), stderr)
//	m.MaskURL(signedURL)
//	log := m.Writer(stderr) // writes with every known secret replaced by ***
//
// The workflow commands go to stderr: the runner reads both streams, and
// stdout stays clean for --format json and eval-able output.
package ci
