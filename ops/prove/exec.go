package prove

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"syscall"
)

// Exec runs each step's command as a process: in Dir, with Env, its output
// going to Stdout and Stderr.
//
// Each command runs in a process group of its own, and a cancelled context
// sends the whole group an interrupt, not a kill: `go run` does not pass a
// signal on to the program it started, and an interrupted Pulumi CLI (under
// the mage target) ends its update and unlocks the stack, where a killed
// one leaves its lock behind (on an s3:// or file:// backend a lock file,
// pkg/backend/diy/lock.go in v3.274.1) and the cleanup's destroyAll would
// stop on it.
type Exec struct {
	Dir            string
	Env            []string
	Stdout, Stderr io.Writer
}

// Run runs s's command and waits for it.
func (e Exec) Run(ctx context.Context, s Step) error {
	if len(s.Args) == 0 {
		return fmt.Errorf("step %s has no command", s.Name)
	}
	cmd := exec.CommandContext(ctx, s.Args[0], s.Args[1:]...) // #nosec G204 -- the proof's own fixed commands
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = e.Dir, e.Env, e.Stdout, e.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGINT) }
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w", s.Command(), err)
	}
	return nil
}
