//go:build unix

package targets

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// replaceWith makes this very process the command (its PID stays), which
// then exits with its own code: run in a child copy of the test binary.
func TestReplaceWithBecomesTheCommand(t *testing.T) {
	if os.Getenv("DBVAULT_REPLACE_CHILD") == "1" {
		os.Stdout.WriteString("pid " + strconv.Itoa(os.Getpid()) + "\n")
		if err := replaceWith("/bin/sh", []string{"-c", `echo "pid $$"; exit 7`}); err != nil {
			os.Stdout.WriteString("exec failed: " + err.Error() + "\n")
			os.Exit(2)
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestReplaceWithBecomesTheCommand$") // #nosec G204 -- this test binary
	cmd.Env = append(os.Environ(), "DBVAULT_REPLACE_CHILD=1")
	out, err := cmd.Output()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 7 {
		t.Fatalf("child: %v, output %q; want the command's exit code 7", err, out)
	}
	lines := strings.Fields(strings.ReplaceAll(string(out), "\n", " "))
	if len(lines) != 4 || lines[0] != "pid" || lines[2] != "pid" || lines[1] != lines[3] {
		t.Fatalf("output %q: want the same pid before and after the exec", out)
	}
}

// Only a single target is replaced: targets after it on the command line
// would never run.
func TestOnlyASingleTargetIsReplaced(t *testing.T) {
	for args, want := range map[string]bool{
		"up:secrets":        true,
		"-v up:secrets":     true,
		"up:network up:kms": false,
		"deployAll verify":  false,
		"":                  false,
	} {
		if got := onlyTarget(strings.Fields(args)); got != want {
			t.Errorf("onlyTarget(%q) = %v, want %v", args, got, want)
		}
	}
}
