//go:build !unix

package targets

import (
	"os"
	"os/exec"
)

// replaceWith runs bin as a child where exec cannot replace a process,
// then exits with its code.
func replaceWith(bin string, args []string) error {
	cmd := exec.Command(bin, args...) // #nosec G204 -- our own command, just built
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		exit(exitCode(err))
		return err
	}
	return nil
}
