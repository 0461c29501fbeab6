//go:build !unix

package proxy

import "os/exec"

// detach does nothing where there are no sessions: the process started
// outlives its starter anyway once released.
func detach(cmd *exec.Cmd) {}
