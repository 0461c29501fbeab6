// Package util is a library of the fixture monorepo with no dependencies.
package util

// Twice returns s twice.
func Twice(s string) string { return s + s }
