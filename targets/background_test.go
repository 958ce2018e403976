package targets

import (
	"errors"
	"os/exec"
	"strings"
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

// The engine's lane runs only after the CLI's build has ended well.
func TestInTwoLanesRunsTheEngineLaneAfterTheCLI(t *testing.T) {
	cli, err := startBackground("true")
	if err != nil {
		t.Fatal(err)
	}
	ran := false
	engineErr := errors.New("engine failed")
	err = inTwoLanes(cli, func() error { return nil }, func() error {
		if !isDone(cli) {
			t.Error("the engine's lane started before the CLI's build ended")
		}
		ran = true
		return engineErr
	})
	if !ran || !errors.Is(err, engineErr) {
		t.Fatalf("ran %t, err %v: want the engine lane run and its failure returned", ran, err)
	}
}

// A failed CLI build fails the test command, and the engine's lane does
// not run.
func TestInTwoLanesFailsWhenTheCLIBuildFails(t *testing.T) {
	cli, err := startBackground("sh", "-c", "exit 3")
	if err != nil {
		t.Fatal(err)
	}
	err = inTwoLanes(cli, func() error { return nil }, func() error {
		t.Error("the engine's lane ran after the CLI's build failed")
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "building the Pulumi CLI") {
		t.Fatalf("err %v: want the CLI's build failure", err)
	}
}

// When the other packages' tests fail, the CLI's build is stopped rather
// than waited for; a lane that waited would hold this test until its
// deadline.
func TestInTwoLanesStopsTheCLIWhenTheOtherTestsFail(t *testing.T) {
	cli, err := startBackground("sleep", "600")
	if err != nil {
		t.Fatal(err)
	}
	restErr := errors.New("a package failed")
	err = inTwoLanes(cli, func() error { return restErr }, func() error {
		t.Error("the engine's lane ran after the other tests failed")
		return nil
	})
	if !errors.Is(err, restErr) {
		t.Fatalf("err %v: want the other tests' failure", err)
	}
}

func isDone(b *background) bool {
	select {
	case <-b.done:
		return true
	default:
		return false
	}
}
