// Package repotest holds what the tests of ops need from the repository
// around them: its root, the layers' Pulumi.yaml in a root of their own,
// the generated blocks of its documents, and a Pulumi CLI to run the real
// engine with.
package repotest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
	b, err := os.ReadFile(filepath.Join(Root(t), "stacks", layer, "Pulumi.yaml")) // #nosec G304 -- a layer's project file in this repository
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), b, 0o600); err != nil { // #nosec G703 -- the test's own directory
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

// DocBlock checks that the text between the markers begin and end in the
// repository's document rel is want. When it is not, it rewrites the block
// with update, and otherwise fails the test with stale, the sentence that
// says how to regenerate it. It returns the document's text as it is then.
func DocBlock(t testing.TB, rel, begin, end, want string, update bool, stale string) string {
	t.Helper()
	path := filepath.Join(Root(t), filepath.FromSlash(rel))
	b, err := os.ReadFile(path) // #nosec G304 -- a document of this repository, named by the test
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("%s has no %q ... %q block", rel, strings.TrimSpace(begin), end)
	}
	got := s[i+len(begin) : j]
	if got == want {
		return s
	}
	if !update {
		t.Errorf("%s\nwant:\n%s\ngot:\n%s", stale, want, got)
		return s
	}
	s = s[:i+len(begin)] + want + s[j:]
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil { // #nosec G703 -- the same document, rewritten only with -update
		t.Fatal(err)
	}
	t.Logf("rewrote the block of %s between %q and %q", rel, strings.TrimSpace(begin), end)
	return s
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
