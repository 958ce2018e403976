package lambdaharness

import (
	"path/filepath"
	"strings"
	"testing"
)

// BuildRIE says it builds the RIE (building) only when the user cache lacks
// it, builds it there, and a second call finds it; the memory of the last
// answer follows the user cache, so a new one is not answered with a
// binary of the old one.
func TestBuildRIESaysItBuildsOnlyIntoAnEmptyUserCache(t *testing.T) {
	if _, err := RIE(t.Context()); err != nil { // the memory holds the usual cache's binary
		t.Fatal(err)
	}
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	builds := 0
	building := func() { builds++ }
	bin, err := BuildRIE(t.Context(), building)
	if err != nil {
		t.Fatal(err)
	}
	if builds != 1 || !strings.HasPrefix(bin, filepath.Join(cache, "dbvault", "rie-")) {
		t.Fatalf("into an empty user cache: %d build(s) said, binary %s; want 1 and a binary under %s", builds, bin, cache)
	}
	again, err := BuildRIE(t.Context(), building)
	if err != nil {
		t.Fatal(err)
	}
	if builds != 1 || again != bin {
		t.Fatalf("the second call said %d build(s) in all and returned %s; want 1 and %s", builds, again, bin)
	}
	delete(rieBin, cache) // as a new process: it finds the binary in the cache
	if _, err := BuildRIE(t.Context(), building); err != nil || builds != 1 {
		t.Fatalf("a fresh lookup said %d build(s) in all (err %v); want 1", builds, err)
	}
}
