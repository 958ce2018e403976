package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
)

// Logged in to another backend, the repository's default state is refused
// until PULUMI_BACKEND_URL chooses, unless that state already holds the
// environment; logged in nowhere, or to the same backend, it is used.
func TestLoginToAnotherBackendIsRefused(t *testing.T) {
	home := t.TempDir()
	env := map[string]string{"PULUMI_HOME": home}
	getenv := func(k string) string { return env[k] }
	const repoState = "file:///repo/.pulumi-state"
	held, lookups := false, 0
	exists := func(context.Context) (bool, error) { lookups++; return held, nil }
	check := func() (string, error) {
		var stderr bytes.Buffer
		err := loginConflict(context.Background(), getenv, repoState, exists, &stderr)
		return stderr.String(), err
	}
	if _, err := check(); err != nil || lookups != 0 {
		t.Fatalf("no credentials: %v (%d lookups)", err, lookups)
	}
	write := func(current string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(home, "credentials.json"), []byte(`{"current":"`+current+`","accounts":{}}`), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("s3://team-state")
	_, err := check()
	if err == nil || !strings.Contains(err.Error(), "PULUMI_BACKEND_URL=s3://team-state or PULUMI_BACKEND_URL="+repoState) {
		t.Fatalf("logged in to s3://team-state: %v", err)
	}
	// The repository's state holds the environment: used, with a note.
	held = true
	if note, err := check(); err != nil || !strings.Contains(note, "logged in to s3://team-state") {
		t.Fatalf("environment in the repository's state: %v, %q", err, note)
	}
	held = false
	// `pulumi login --local` is ~/.pulumi's state, another backend.
	write("file://~")
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := check(); err == nil || !strings.Contains(err.Error(), "logged in to file://"+u.HomeDir) {
		t.Fatalf("pulumi login --local: %v", err)
	}
	// The same backend however written, and a relative file:// login this
	// command cannot place, are not refused.
	for _, same := range []string{repoState, "file:///repo/stacks/network/../../.pulumi-state", repoState + "/", "file://../../.pulumi-state"} {
		write(same)
		lookups = 0
		if _, err := check(); err != nil || lookups != 0 {
			t.Fatalf("logged in to %s: %v (%d lookups)", same, err, lookups)
		}
	}
	// A failed lookup is an error, not a guess.
	write("s3://team-state")
	failing := func(context.Context) (bool, error) { return false, errors.New("no CLI") }
	if err := loginConflict(context.Background(), getenv, repoState, failing, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "no CLI") {
		t.Fatalf("failed lookup: %v", err)
	}
	// A password in the login's URL is not printed.
	write("postgres://pulumi:s3cr3t-pw@db.internal/state")
	if _, err := check(); err == nil || strings.Contains(err.Error(), "s3cr3t-pw") || !strings.Contains(err.Error(), "postgres://pulumi:xxxxx@db.internal/state") {
		t.Fatalf("a login with a password: %v", err)
	}
	// PULUMI_CREDENTIALS_PATH wins over PULUMI_HOME, as in the CLI.
	env["PULUMI_CREDENTIALS_PATH"] = t.TempDir()
	if _, err := check(); err != nil {
		t.Fatalf("credentials read from PULUMI_HOME despite PULUMI_CREDENTIALS_PATH: %v", err)
	}
}
