package lambdaharness

import (
	"path/filepath"
	"strings"
	"testing"
)

// RIEBuilt tells an empty user cache from one that holds the pinned RIE, so
// that the sandbox says it builds it only when it does.
func TestRIEBuiltOnlyOnceBuiltIntoTheUserCache(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	if RIEBuilt(t.Context()) {
		t.Fatal("RIEBuilt is true in an empty user cache")
	}
	bin, err := findRIE(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(bin, filepath.Join(cache, "dbvault", "rie-")) {
		t.Fatalf("the RIE was built into %s, not the user cache %s", bin, cache)
	}
	if !RIEBuilt(t.Context()) {
		t.Fatal("RIEBuilt is false after the RIE was built")
	}
}
