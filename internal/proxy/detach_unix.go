//go:build unix

package proxy

import (
	"os/exec"
	"syscall"
)

// detach puts cmd in a session of its own, so that it outlives the step
// that starts it and the runner's signals to that step's process group.
func detach(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} }
