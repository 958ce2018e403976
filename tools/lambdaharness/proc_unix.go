//go:build unix

package lambdaharness

import (
	"errors"
	"os/exec"
	"syscall"
)

// setProcessGroup puts the RIE in its own process group, so that the RIE
// and the function it starts can be signalled together.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killGroup signals the RIE's process group: SIGKILL when hard, else SIGTERM.
// A group that is already gone is not an error.
func killGroup(cmd *exec.Cmd, hard bool) error {
	sig := syscall.SIGTERM
	if hard {
		sig = syscall.SIGKILL
	}
	err := syscall.Kill(-cmd.Process.Pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}
