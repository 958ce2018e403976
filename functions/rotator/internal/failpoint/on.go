//go:build failpoints

package failpoint

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

// Enabled reports whether this binary was built with the failpoints tag.
const Enabled = true

var (
	mu     sync.Mutex
	once   sync.Once
	target string
	nth    = 1
	seen   int
)

func load() {
	v := os.Getenv(EnvVar)
	target = v
	// Names contain a colon themselves ("setSecret:after-alter"); a count is
	// the last colon-separated field when it is a positive number.
	if i := strings.LastIndex(v, ":"); i >= 0 {
		if n, err := strconv.Atoi(v[i+1:]); err == nil && n > 0 {
			target, nth = v[:i], n
		}
	}
}

// Hit exits the process with ExitCode when name is the point that
// ROTATOR_FAILPOINT names, the n-th time it is reached.
func Hit(name string) {
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
