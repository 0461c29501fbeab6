// Package ci knows where modhygiene runs: GitHub Actions, GitLab CI,
// pre-commit or a local terminal. It speaks the GitHub runner's interface
// (workflow commands, environment files, the event payload), finds the lines
// a pull or merge request changed, and masks secrets before anything can
// print them.
//
// Nothing here reads the process environment: callers pass a getenv func.
package ci
