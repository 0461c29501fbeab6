// Package stage is the work of a modhygiene run, one file per stage:
// mirrors, restore and save (cache.go), tidy, check and vuln, with the
// stage timings kept between runs (timings.go).
//
// A Stage is a value: typed options whose zero value is the default,
// defined once, and a Run method that takes the run's shared Env and
// returns a Result (status, summary, outputs, findings, exported
// variables). Problems of the repository, the network or the cache are
// part of the result: a module a stage could not handle is an MH000
// finding and a failed status (the run exits 3); a cache or mirror problem
// is a warning status. Run's error means a usage problem (exit 2) or that
// the context ended.
//
// stage.Run runs a Plan: it times every stage, adds each stage's exported
// variables to the environment of the go commands that follow, and
// filters, configures, normalises, deduplicates and sorts the findings
// once. Every command of the command line is a plan: a one-stage plan for
// tidy, check, vuln, mirrors and the cache commands, the whole plan for
// run.
//
// Nothing here reads the process environment: the runner's variables come
// in Env.CI (read once by the command line), the rest in Env.Go.Env.
package stage
