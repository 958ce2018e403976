package targets

import (
	"errors"
	"os/exec"
	"testing"
)

// stop ends a command still running (the test command's CLI build when a
// step before the engine's tests fails) instead of leaving it behind; a
// stop that did not interrupt would block here until the test's deadline.
func TestBackgroundStopInterruptsARunningCommand(t *testing.T) {
	b, err := startBackground("sleep", "600")
	if err != nil {
		t.Fatal(err)
	}
	b.stop()
	var ee *exec.ExitError
	if err := b.wait(); !errors.As(err, &ee) || ee.Exited() {
		t.Fatalf("after stop the command ended with %v, want it killed by a signal", err)
	}
}

// Once the command has ended, stop changes nothing and wait keeps its
// result.
func TestBackgroundKeepsTheResultOfAnEndedCommand(t *testing.T) {
	b, err := startBackground("sh", "-c", "exit 3")
	if err != nil {
		t.Fatal(err)
	}
	var ee *exec.ExitError
	if err := b.wait(); !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("wait = %v, want exit status 3", err)
	}
	b.stop()
	if err := b.wait(); !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("after stop, wait = %v, want exit status 3 still", err)
	}
}

// exit stops every command still running in the background: os.Exit runs
// no deferred stop, and the CLI's build would go on for minutes.
func TestStopBackgroundStopsEveryRunningCommand(t *testing.T) {
	var all []*background
	for range 2 {
		b, err := startBackground("sleep", "600")
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b)
	}
	stopBackground()
	for i, b := range all {
		var ee *exec.ExitError
		if err := b.wait(); !errors.As(err, &ee) || ee.Exited() {
			t.Errorf("command %d ended with %v, want it killed by a signal", i, err)
		}
	}
}
