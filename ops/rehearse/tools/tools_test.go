package tools

import (
	"bytes"
	"context"
	"github.com/dbvault/dbvault/tools/workspace"
	"os"
	"path/filepath"
	"testing"
)

func TestCLIRootIsInTheUserCache(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "/var/cache/someone")
	root, err := CLIRoot()
	if err != nil {
		t.Fatal(err)
	}
	if root != "/var/cache/someone/dbvault/pulumi-v3.274.1" {
		t.Fatalf("CLIRoot %s", root)
	}
}

// A CLI already in the cache is reused: no build, nothing logged.
func TestEnsureCLIReusesTheCachedCLI(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	bin := filepath.Join(cache, "dbvault", "pulumi-v3.274.1", "bin", "pulumi")
	if err := os.MkdirAll(filepath.Dir(bin), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o700); err != nil { // #nosec G306 -- a test's fake executable
		t.Fatal(err)
	}
	var log bytes.Buffer
	// A repository root without tools/pulumicli: any build attempt fails.
	root, err := EnsureCLI(context.Background(), t.TempDir(), &log)
	if err != nil {
		t.Fatal(err)
	}
	if root != filepath.Dir(filepath.Dir(bin)) || log.Len() != 0 {
		t.Fatalf("root %s, log %q: want the cached CLI, untouched", root, log.String())
	}
}

func TestRepoRootFindsGoWork(t *testing.T) {
	root, err := workspace.Root()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "tools", "pulumicli", "go.mod")); err != nil {
		t.Fatalf("RepoRoot %s holds no tools/pulumicli/go.mod: %v", root, err)
	}
}
