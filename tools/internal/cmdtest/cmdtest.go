// Package cmdtest checks, in the tests of the tools' commands, that bad
// flags and environment are refused: each command's run function takes
// its arguments, environment and output, so a test calls it directly.
package cmdtest

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// Run is a command's run function: arguments, environment, stdout and
// stderr in, exit code out.
type Run func(args []string, getenv func(string) string, stdout, stderr io.Writer) int

// Refuses returns a check that run, given args and the environment env,
// exits with code and prints msg on stderr.
func Refuses(t *testing.T, run Run) func(args []string, env map[string]string, code int, msg string) {
	return func(args []string, env map[string]string, code int, msg string) {
		t.Helper()
		var out, errOut bytes.Buffer
		got := run(args, func(k string) string { return env[k] }, &out, &errOut)
		if got != code || !strings.Contains(errOut.String(), msg) {
			t.Errorf("%v %v: exit %d, stderr %q; want %d and %q", args, env, got, errOut.String(), code, msg)
		}
	}
}
