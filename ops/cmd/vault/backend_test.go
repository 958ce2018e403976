package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Logged in to another backend, the repository's default state is refused
// until PULUMI_BACKEND_URL chooses; logged in nowhere, or to the same
// backend, it is used.
func TestLoginToAnotherBackendIsRefused(t *testing.T) {
	home := t.TempDir()
	env := map[string]string{"PULUMI_HOME": home}
	getenv := func(k string) string { return env[k] }
	const repoState = "file:///repo/.pulumi-state"
	if err := loginConflict(getenv, repoState); err != nil {
		t.Fatalf("no credentials: %v", err)
	}
	write := func(current string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(home, "credentials.json"), []byte(`{"current":"`+current+`","accounts":{}}`), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("s3://team-state")
	err := loginConflict(getenv, repoState)
	if err == nil || !strings.Contains(err.Error(), "PULUMI_BACKEND_URL=s3://team-state or PULUMI_BACKEND_URL="+repoState) {
		t.Fatalf("logged in to s3://team-state: %v", err)
	}
	for _, same := range []string{repoState, "file:///repo/stacks/network/../../.pulumi-state", repoState + "/"} {
		write(same)
		if err := loginConflict(getenv, repoState); err != nil {
			t.Fatalf("logged in to the same backend as %s: %v", same, err)
		}
	}
	// PULUMI_CREDENTIALS_PATH wins over PULUMI_HOME, as in the CLI.
	env["PULUMI_CREDENTIALS_PATH"] = t.TempDir()
	write("https://api.pulumi.com")
	if err := loginConflict(getenv, repoState); err != nil {
		t.Fatalf("credentials read from PULUMI_HOME despite PULUMI_CREDENTIALS_PATH: %v", err)
	}
}
