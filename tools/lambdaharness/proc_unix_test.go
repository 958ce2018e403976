//go:build unix

package lambdaharness_test

import (
	"syscall"

	"github.com/dbvault/dbvault/tools/internal/proctable"
)

// processAlive reports whether pid is a live process (not a zombie).
func processAlive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	p, err := proctable.Read(pid)
	return err == nil && p.State != 'Z'
}
