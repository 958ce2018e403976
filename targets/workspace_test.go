package targets

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The test command tests the engine's packages only once the CLI is built,
// and every other package beside the build: the split must leave out no
// package, and every package whose tests run the engine must be among
// enginePackages, or its tests would wait on the CLI's build lock holding
// one of go test's slots.
func TestEnginePackagesAreSplitOffAndNothingIsLost(t *testing.T) {
	atRoot(t)
	all, err := packagesExcept(nil)
	if err != nil {
		t.Fatal(err)
	}
	rest, err := packagesExcept(enginePackages)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, p := range all {
		if !slices.Contains(rest, p) {
			left = append(left, p)
		}
	}
	var want []string
	for _, p := range enginePackages {
		want = append(want, "github.com/dbvault/dbvault/"+strings.TrimPrefix(p, "./"))
	}
	slices.Sort(left)
	slices.Sort(want)
	if !slices.Equal(left, want) {
		t.Fatalf("splitting off %v left out %v", enginePackages, left)
	}
	// Whoever calls EnsureCLI in a test runs the engine.
	uses := regexp.MustCompile(`\b(tools\.)?EnsureCLI\(`)
	var found []string
	for _, mod := range dirs() {
		err := filepath.WalkDir(mod, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, "_test.go") {
				return err
			}
			src, err := os.ReadFile(path) // #nosec G304 -- a test file of the workspace
			if err != nil {
				return err
			}
			if uses.Match(src) {
				found = append(found, "./"+filepath.Dir(path))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, dir := range found {
		if !slices.Contains(enginePackages, dir) && dir != "./ops/rehearse/tools" {
			t.Errorf("%s runs the engine in its tests (EnsureCLI) but is not in enginePackages", dir)
		}
	}
}

// The slowest tests start first, in slowTests' order; the others keep
// theirs, and none is lost or repeated.
func TestSlowFirst(t *testing.T) {
	in := []string{"m/a", "m/tools/bench", "m/b", "m/tools/chaos", "m/c"}
	got := slowFirst(in)
	want := []string{"m/tools/chaos", "m/tools/bench", "m/a", "m/b", "m/c"}
	if !slices.Equal(got, want) {
		t.Fatalf("slowFirst(%v) = %v, want %v", in, got, want)
	}
}

// Every package named by slowTests exists, so that a move or a rename does
// not silently drop it from the front.
func TestSlowTestsAreWorkspacePackages(t *testing.T) {
	atRoot(t)
	all, err := packagesExcept(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range slowTests {
		if !slices.ContainsFunc(all, func(p string) bool { return strings.HasSuffix(p, s) }) {
			t.Errorf("slowTests names %s, which is no package of the workspace", s)
		}
	}
}
