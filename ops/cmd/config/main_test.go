package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dbvault/dbvault/ops/internal/repotest"
	"github.com/dbvault/dbvault/ops/layers"
)

// fakeRoot is a repository root holding only go.work and the layers'
// Pulumi.yaml, the working directory for the test.
func fakeRoot(t *testing.T) string {
	t.Helper()
	root := repotest.LayerRoot(t)
	t.Chdir(root)
	return root
}

// configure writes every layer's file for ENV, keeps the files that are
// there on a second run, and refuses a missing or invalid ENV.
func TestConfigure(t *testing.T) {
	root := fakeRoot(t)
	var out bytes.Buffer
	if err := run([]string{"configure", "-env", "qa"}, &out); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "wrote "); n != len(layers.All) {
		t.Fatalf("wrote %d files:\n%s", n, out.String())
	}
	mine := filepath.Join(root, "stacks", "network", "Pulumi.qa.yaml")
	if err := os.WriteFile(mine, []byte("config:\n  vault-network:vpcCidr: 10.9.0.0/16\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run([]string{"configure", "-env", "qa"}, &out); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "kept "); n != len(layers.All) {
		t.Fatalf("a second run kept %d files:\n%s", n, out.String())
	}
	if b, _ := os.ReadFile(mine); !strings.Contains(string(b), "10.9.0.0/16") {
		t.Fatalf("the second run changed %s:\n%s", mine, b)
	}
	t.Setenv("ENV", "")
	if err := run([]string{"configure"}, &out); err == nil || !strings.Contains(err.Error(), "ENV is required") {
		t.Errorf("no ENV: %v", err)
	}
	if err := run([]string{"configure", "-env", "Bad_Env"}, &out); err == nil || !strings.Contains(err.Error(), "ENV") {
		t.Errorf("an invalid ENV: %v", err)
	}
}
