//go:build linux

package main

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dbvault/dbvault/tools/internal/proctable"
)

// TestMain lets the tests run the command itself: the test binary runs
// main when SANDBOX_TEST_MAIN is set.
func TestMain(m *testing.M) {
	if os.Getenv("SANDBOX_TEST_MAIN") == "1" {
		os.Exit(run(nil, os.Getenv, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// A closed stdout (`go run mage.go sandbox | head -3`) and Ctrl-C both stop
// everything the sandbox started: once it has exited, no process it
// started (the runtime interface emulator, the function, the embedded
// server) is left. The test process is made a child subreaper, so any
// process the sandbox leaves behind becomes the test's child, where it is
// seen.
func TestStopsEverythingItStarted(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the rotator (-short)")
	}
	// PR_SET_CHILD_SUBREAPER (prctl(2)).
	if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, 36, 1, 0); e != 0 {
		t.Skipf("prctl(PR_SET_CHILD_SUBREAPER): %v", e)
	}
	t.Cleanup(func() { _, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, 36, 0, 0) })
	for _, how := range []string{"closed stdout", "ctrl-c"} {
		t.Run(how, func(t *testing.T) {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "SANDBOX_TEST_MAIN=1", "SANDBOX_ROTATIONS=10000")
			cmd.Stdout, cmd.Stderr = w, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			_ = w.Close()
			guard := time.AfterFunc(4*time.Minute, func() { _ = cmd.Process.Kill() })
			defer guard.Stop()
			// Read until the first rotation runs: the function and the
			// runtime interface emulator are up.
			lines := bufio.NewScanner(r)
			var seen []string
			for lines.Scan() {
				seen = append(seen, lines.Text())
				if strings.HasPrefix(lines.Text(), "rotation 1/") {
					break
				}
			}
			if !strings.HasPrefix(seen[len(seen)-1], "rotation 1/") {
				t.Fatalf("the sandbox stopped before its first rotation:\n%s\n%s", strings.Join(seen, "\n"), stderr.String())
			}
			if how == "closed stdout" {
				_ = r.Close()
			} else {
				go func() { _, _ = bufio.NewReader(r).WriteTo(devNull{}) }()
				_ = cmd.Process.Signal(os.Interrupt)
			}
			err = cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() < 1 {
				t.Fatalf("the sandbox did not exit with a failure (%v); stderr:\n%s", err, stderr.String())
			}
			if left := children(t); len(left) > 0 {
				t.Fatalf("left running after the sandbox exited: %s\nstderr:\n%s", strings.Join(left, "; "), stderr.String())
			}
		})
	}
}

type devNull struct{}

func (devNull) Write(p []byte) (int, error) { return len(p), nil }

// children reaps this process's exited children and returns the command
// lines of those still running.
func children(t *testing.T) []string {
	t.Helper()
	for {
		var ws syscall.WaitStatus
		if pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil); pid <= 0 || err != nil {
			break
		}
	}
	procs, err := proctable.All()
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, p := range procs {
		if p.PPID == os.Getpid() && p.Running() {
			left = append(left, proctable.Cmdline(p.PID))
		}
	}
	return left
}
