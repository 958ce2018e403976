// Package testrotator gives the tests that run the rotator under the Lambda
// runtime interface emulator (those of tools/sandbox, tools/chaos and
// tools/bench) its bootstrap, built once per test binary instead of once
// per test.
//
// The build goes to a folder of the user cache kept between runs (one per
// checkout and flavour), where a later build with unchanged sources does not
// even link, and each test binary runs its own copy: the tests of several
// packages build there one after the other (a lock file), and none runs a
// file that another is writing.
package testrotator

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/dbvault/dbvault/tools/internal/filelock"
	"github.com/dbvault/dbvault/tools/workspace"
)

// Build builds the rotator into a directory (sandbox.BuildRotator).
type Build func(ctx context.Context, dir string, failpoints bool) (string, error)

// Rotator is a bootstrap built on first use.
type Rotator struct {
	get func() (string, error)
}

var (
	mu sync.Mutex
	// copies are the directories of the copies run, removed by Main.
	copies []string
)

// New returns the rotator that build makes (with fail points if
// failpoints), built on the first Get.
func New(build Build, failpoints bool) *Rotator {
	return &Rotator{get: sync.OnceValues(func() (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		return buildCopy(ctx, build, failpoints)
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
// tests stop servers and drop connections on purpose), removes the copies
// of the bootstrap, and returns the exit code for os.Exit.
func Main(m *testing.M) int {
	_ = mysql.SetLogger(log.New(io.Discard, "", 0))
	code := m.Run()
	mu.Lock()
	defer mu.Unlock()
	for _, d := range copies {
		_ = os.RemoveAll(d)
	}
	return code
}

// buildCopy builds into the kept folder under its lock and copies the
// bootstrap into a temporary directory of this test binary.
func buildCopy(ctx context.Context, build Build, failpoints bool) (string, error) {
	dir, err := keptDir(failpoints)
	if err != nil {
		return "", err
	}
	unlock, err := filelock.Lock(filepath.Join(dir, "build.lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	built, err := build(ctx, dir, failpoints)
	if err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp("", "testrotator-")
	if err != nil {
		return "", err
	}
	mu.Lock()
	copies = append(copies, tmp)
	mu.Unlock()
	bin := filepath.Join(tmp, "bootstrap")
	return bin, copyFile(bin, built)
}

// keptDir is the build folder of this checkout (named by a hash of its
// root) and flavour in the user cache.
func keptDir(failpoints bool) (string, error) {
	root, err := workspace.Root()
	if err != nil {
		return "", err
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no user cache for the rotator's build: %w", err)
	}
	sum := sha256.Sum256([]byte(root))
	flavour := "plain"
	if failpoints {
		flavour = "failpoints"
	}
	dir := filepath.Join(cache, "dbvault", "testrotator", hex.EncodeToString(sum[:6]), flavour)
	return dir, os.MkdirAll(dir, 0o750)
}

func copyFile(dst, src string) error {
	in, err := os.Open(src) // #nosec G304 -- the bootstrap just built
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o700) // #nosec G302 G304 -- an executable in this binary's own temporary directory
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}
