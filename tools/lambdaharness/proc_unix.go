//go:build unix

package lambdaharness

import (
	"errors"
	"fmt"
	"os/exec"
	"syscall"
	"time"

	"github.com/dbvault/dbvault/tools/internal/proctable"
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

// waitGroupGone waits until no process of group pgid runs any more. The RIE
// is our child and reaped by Wait, but the function is the RIE's child: when
// the RIE dies first it is handed to init, and the kernel may still be
// delivering its SIGKILL when Wait returns. A zombie has run its course and
// counts as gone; only init can reap it.
func waitGroupGone(pgid int, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		live, err := groupRunning(pgid)
		if err != nil || !live {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("process group %d still running %v after SIGKILL", pgid, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// groupRunning reports whether a process of group pgid is alive and not a
// zombie. Where /proc is missing (not Linux), the kernel's answer to signal 0
// is all there is, and it counts zombies as members.
func groupRunning(pgid int) (bool, error) {
	procs, err := proctable.All()
	if err != nil {
		err := syscall.Kill(-pgid, 0)
		if errors.Is(err, syscall.ESRCH) {
			return false, nil
		}
		return err == nil, nil
	}
	for _, p := range procs {
		if p.PGID == pgid && p.Running() {
			return true, nil
		}
	}
	return false, nil
}
