//go:build unix

package targets

import (
	"os"
	"path/filepath"
	"syscall"
)

// replaceWith makes this process the command bin: the vault command then
// gets the terminal's signals itself. Run as a child instead, mage's own
// handling of Ctrl-C gives up after 5 s and returns the prompt while the
// vault command and the Pulumi CLI go on behind it, out of reach of a
// second Ctrl-C. It returns only when the exec fails. (mage's -t timeout
// does not reach the command that replaces it.)
func replaceWith(bin string, args []string) error {
	abs, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	stopBackground()
	return syscall.Exec(abs, append([]string{abs}, args...), os.Environ()) // #nosec G702 G204 -- our own command, just built; its arguments are the target's own
}
