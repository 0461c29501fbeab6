// Package lib is shared by the sample's services.
package lib

// Greeting returns a greeting.
func Greeting() string { return "hello" }
