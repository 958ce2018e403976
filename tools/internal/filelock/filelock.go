// Package filelock lets processes that build the same thing at once (the
// tests of several packages) take turns: one builds while the others wait,
// then find it built.
package filelock

import (
	"fmt"
	"os"
	"syscall"
)

// Lock takes an exclusive lock on path (created if missing), waiting while
// another process holds it. The lock ends with unlock, or with the process.
func Lock(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600) // #nosec G304 -- the lock file beside the caller's build
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { _ = f.Close() }, nil
}
