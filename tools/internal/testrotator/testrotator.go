// Package testrotator builds the rotator once per test binary for the
// tests that run it under the Lambda runtime interface emulator (those of
// tools/sandbox, tools/chaos and tools/bench): every test of a package
// gets the same bootstrap instead of building and linking its own.
package testrotator

import (
	"context"
	"io"
	"log"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Build builds the rotator into a directory (sandbox.BuildRotator).
type Build func(ctx context.Context, dir string, failpoints bool) (string, error)

// Rotator is a bootstrap built on first use.
type Rotator struct {
	get func() (string, error)
}

var (
	mu sync.Mutex
	// dirs are the build directories, removed by Main.
	dirs []string
)

// New returns the rotator that build makes (with fail points if
// failpoints), built into a temporary directory on the first Get.
func New(build Build, failpoints bool) *Rotator {
	return &Rotator{get: sync.OnceValues(func() (string, error) {
		dir, err := os.MkdirTemp("", "testrotator-")
		if err != nil {
			return "", err
		}
		mu.Lock()
		dirs = append(dirs, dir)
		mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		return build(ctx, dir, failpoints)
	})}
}

// Get returns the bootstrap, building it on the first call.
func (r *Rotator) Get() (string, error) { return r.get() }

// Need is Get for a test that runs the rotator: skipped with -short, failed
// when the build fails.
func (r *Rotator) Need(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the rotator (-short)")
	}
	bin, err := r.Get()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// Main runs the tests with the MySQL driver's own logger silenced (the
// tests stop servers and drop connections on purpose), removes the
// bootstraps built, and returns the exit code for os.Exit.
func Main(m *testing.M) int {
	_ = mysql.SetLogger(log.New(io.Discard, "", 0))
	code := m.Run()
	mu.Lock()
	defer mu.Unlock()
	for _, d := range dirs {
		_ = os.RemoveAll(d)
	}
	return code
}
