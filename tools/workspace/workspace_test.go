package workspace_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dbvault/dbvault/tools/workspace"
)

func TestRootFindsTheNearestGoWork(t *testing.T) {
	top := t.TempDir()
	deep := filepath.Join(top, "a", "b")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(top, "go.work"), []byte("go 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := workspace.RootFrom(deep)
	if err != nil || got != top {
		t.Fatalf("RootFrom(%s) = %q, %v; want %s", deep, got, err, top)
	}
}

func TestRootOutsideARepositoryNamesTheFolder(t *testing.T) {
	dir := t.TempDir()
	_, err := workspace.RootFrom(dir)
	if err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("err = %v, want one naming %s", err, dir)
	}
}

// This package's own tests run inside the repository.
func TestRootOfThisRepository(t *testing.T) {
	root, err := workspace.Root()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "tools", "workspace", "workspace.go")); err != nil {
		t.Fatalf("root %s does not hold this package: %v", root, err)
	}
}
