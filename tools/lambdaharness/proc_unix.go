//go:build unix

package lambdaharness

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
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
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil || len(stats) == 0 {
		err := syscall.Kill(-pgid, 0)
		if errors.Is(err, syscall.ESRCH) {
			return false, nil
		}
		return err == nil, nil
	}
	for _, path := range stats {
		stat, err := os.ReadFile(path) // #nosec G304 -- a /proc/<pid>/stat file the glob found
		if err != nil {
			continue // the process ended while we looked
		}
		// After the command name in parentheses: state, ppid, pgrp.
		s := string(stat)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(s[i+1:])
		if len(fields) < 3 || fields[0] == "Z" || fields[0] == "X" {
			continue
		}
		if g, err := strconv.Atoi(fields[2]); err == nil && g == pgid {
			return true, nil
		}
	}
	return false, nil
}
