package targets

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/magefile/mage/mg"
	"github.com/magefile/mage/sh"
)

// Sandbox rotates a real database user's password N times locally, no AWS account needed.
func Sandbox() error {
	return goRun("./tools/cmd/sandbox")
}

// Chaos runs rotations under injected faults and checks the invariants (CHAOS_SEED, CHAOS_ROTATIONS).
func (Dev) Chaos() error {
	return goRun("./tools/cmd/chaos")
}

// Bench measures rotation latency, cold start, memory, sizes and call counts; writes docs/BENCHMARKS.md.
func (Dev) Bench() error {
	mg.Deps(Dev.Rotator) // the deployable bootstrap and zip whose sizes are reported (rotator.go)
	return goRun("./tools/cmd/bench")
}

// Fuzz runs every fuzz target for a short bounded time (FUZZTIME per target, default 10s).
func (Dev) Fuzz() error {
	return fuzzAll(envOr("FUZZTIME", "10s"))
}

// fuzzCI is the fuzz run of the test command: every target, briefly
// (FUZZTIME, default 5s), so that CI stays fast.
func fuzzCI() error {
	return fuzzAll(envOr("FUZZTIME", "5s"))
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

var fuzzFunc = regexp.MustCompile(`(?m)^func (Fuzz\w*)\(\w+ \*testing\.F\)`)

// fuzzAll finds the packages whose test files declare a fuzz target, asks
// `go test -list` which targets each really has, and fuzzes them one at a
// time (go test allows one -fuzz target per run) for d each.
func fuzzAll(d string) error {
	out, err := sh.Output("go", append([]string{"list", "-f", "{{.ImportPath}}\t{{.Dir}}\t{{join .TestGoFiles \",\"}},{{join .XTestGoFiles \",\"}}"}, packages...)...)
	if err != nil {
		return err
	}
	var pkgs []string
	dirs := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			continue
		}
		for _, name := range strings.Split(f[2], ",") {
			if name == "" {
				continue
			}
			src, err := os.ReadFile(filepath.Join(f[1], name)) // #nosec G304 -- a test file of a workspace package, as go list names it
			if err != nil {
				return err
			}
			if fuzzFunc.Match(src) {
				pkgs = append(pkgs, f[0])
				dirs[f[0]] = f[1]
				break
			}
		}
	}
	n := 0
	for _, pkg := range pkgs {
		list, err := sh.Output("go", "test", "-list", "^Fuzz", pkg)
		if err != nil {
			return fmt.Errorf("go test -list %s: %w", pkg, err)
		}
		for _, name := range strings.Fields(list) {
			if !strings.HasPrefix(name, "Fuzz") {
				continue // the "ok pkg" line
			}
			fmt.Printf("fuzz %s %s for %s\n", pkg, name, d)
			if err := fuzzOnce(pkg, dirs[pkg], name, d); err != nil {
				return err
			}
			n++
		}
	}
	if n == 0 {
		return fmt.Errorf("no fuzz target found in %v", packages)
	}
	fmt.Printf("fuzz: %d targets ran for %s each without a failure\n", n, d)
	return nil
}

// fuzzOnce runs one fuzz target. Go's fuzzing coordinator sometimes ends a
// time-bounded run with "context deadline exceeded" although no input
// failed (it writes no crasher then): such a run is tried once more. A real
// failure writes its input under testdata/fuzz/<name> and fails at once.
func fuzzOnce(pkg, dir, name, d string) error {
	corpus := filepath.Join(dir, "testdata", "fuzz", name)
	before, _ := filepath.Glob(filepath.Join(corpus, "*"))
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		if err = sh.RunV("go", "test", "-run", "^$", "-fuzz", "^"+name+"$", "-fuzztime", d, pkg); err == nil {
			return nil
		}
		after, _ := filepath.Glob(filepath.Join(corpus, "*"))
		if len(after) != len(before) {
			break // a new failing input: a real failure
		}
		fmt.Printf("fuzz: %s %s ended without a failing input (%v); once more\n", pkg, name, err)
	}
	return fmt.Errorf("fuzz %s %s: %w", pkg, name, err)
}
