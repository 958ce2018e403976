// Package repotest holds what the tests of ops need from the repository
// around them: its root, the layers' Pulumi.yaml in a root of their own,
// and a Pulumi CLI to run the real engine with.
package repotest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/dbvault/dbvault/ops/layers"
	"github.com/dbvault/dbvault/ops/rehearse/tools"
	"github.com/dbvault/dbvault/tools/workspace"
)

// Root is the repository's root (workspace.Root).
func Root(t testing.TB) string {
	t.Helper()
	root, err := workspace.Root()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// Project copies the repository's stacks/<layer>/Pulumi.yaml into dir,
// which it creates.
func Project(t testing.TB, layer, dir string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Root(t), "stacks", layer, "Pulumi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// LayerRoot is a repository root of its own that holds only go.work and
// every layer's stacks/<layer>/Pulumi.yaml.
func LayerRoot(t testing.TB) string {
	t.Helper()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "go.work"), []byte("go 1.26\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, l := range layers.All {
		Project(t, l.Name, filepath.Join(root, "stacks", l.Name))
	}
	return root
}

// PulumiCLI is the root of a Pulumi CLI: the one on PATH, else the pinned
// build `go run mage.go pulumiCLI` caches (tools.CLIRoot). Without either
// the test is skipped; the test command builds the CLI first, so these
// tests run in CI.
func PulumiCLI(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("pulumi"); err == nil {
		return filepath.Dir(filepath.Dir(p))
	}
	if root, err := tools.CLIRoot(); err == nil {
		if _, err := os.Stat(filepath.Join(root, "bin", "pulumi")); err == nil {
			return root
		}
	}
	t.Skip("no Pulumi CLI (go run mage.go pulumiCLI builds one)")
	return ""
}
