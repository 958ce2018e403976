//go:build failpoints

package checkpoint

import (
	"fmt"
	"os"
	"sync"
)

// Enabled reports whether this binary was built with the failpoints tag.
const Enabled = true

var (
	mu     sync.Mutex
	once   sync.Once
	target string
	nth    int
	seen   int
)

func load() { target, nth = Parse(os.Getenv(EnvVar)) }

// exitIfNamed exits the process with ExitCode when name is the point that
// ROTATOR_FAILPOINT names, the n-th time it is reached.
func exitIfNamed(name string) {
	once.Do(load)
	if target == "" || name != target {
		return
	}
	mu.Lock()
	seen++
	fire := seen == nth
	mu.Unlock()
	if fire {
		// One line on stderr so a test can tell a failpoint from a crash.
		fmt.Fprintf(os.Stderr, "failpoint %s hit: exiting with status %d\n", name, ExitCode)
		os.Exit(ExitCode)
	}
}
