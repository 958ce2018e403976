//go:build !unix

package targets

import (
	"os"
	"os/exec"
)

// replaceWith runs bin as a child where exec cannot replace a process,
// then exits with its code.
var replaceWith = func(bin string, args []string) error {
	cmd := exec.Command(bin, args...) // #nosec G204 -- our own command, just built
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	exit(exitCode(err))
	return err
}
