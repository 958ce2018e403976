package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The command exits 1 with every missing piece, 2 on a need it does not
// know, 0 when everything is there.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("PATH", dir)
	if err := os.WriteFile(filepath.Join(dir, "pulumi"), []byte("#!/bin/sh\necho v3.0.0\n"), 0o700); err != nil { // #nosec G306 -- an executable test script.
		t.Fatal(err)
	}
	var out strings.Builder
	getenv := func(k string) string {
		return map[string]string{"ENV": "dev", "PULUMI_CONFIG_PASSPHRASE": "x", "AWS_PROFILE": "p"}[k]
	}
	if code := run([]string{"deployAll"}, getenv, &out); code != 1 || !strings.Contains(out.String(), "is Pulumi v3.0.0, not the pinned 3.274.1") {
		t.Fatalf("exit %d, %q", code, out.String())
	}
	out.Reset()
	if code := run([]string{"deploy"}, getenv, &out); code != 2 || !strings.Contains(out.String(), "deployAll") {
		t.Fatalf("exit %d, %q", code, out.String())
	}
	out.Reset()
	if code := run([]string{"outputs"}, func(k string) string {
		return map[string]string{"VERIFY_OUTPUTS": "f"}[k]
	}, &out); code != 1 || !strings.Contains(out.String(), "ENV is not set") {
		t.Fatalf("exit %d, %q", code, out.String())
	}
}
