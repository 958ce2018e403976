package deploy

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// isolate gives the test an environment with no Pulumi CLI, no AWS
// credentials and no passphrase: PATH and HOME point at empty folders.
func isolate(t *testing.T) string {
	dir := t.TempDir()
	t.Setenv("PATH", dir)
	t.Setenv("HOME", dir)
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE", "PULUMI_SECRETS_PROVIDER", "PULUMI_BACKEND_URL"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	// No instance metadata service here; do not wait for one.
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return dir
}

func TestPreflightReportsEveryMissingPieceFast(t *testing.T) {
	isolate(t)
	start := time.Now()
	err := Preflight{Pulumi: true, Passphrase: true, AWS: true}.Run(context.Background())
	elapsed := time.Since(start)
	var pe *PreflightError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want *PreflightError", err)
	}
	if len(pe.Problems) != 3 {
		t.Fatalf("problems = %q, want 3 (pulumi, passphrase, credentials)", pe.Problems)
	}
	for i, want := range []string{"pulumi CLI not found on PATH: install the Pulumi CLI", "PULUMI_CONFIG_PASSPHRASE", "no AWS credentials: export AWS_ACCESS_KEY_ID"} {
		if !strings.Contains(pe.Problems[i], want) {
			t.Errorf("problem %d = %q, want it to contain %q", i, pe.Problems[i], want)
		}
		if strings.Contains(pe.Problems[i], "\n") {
			t.Errorf("problem %d spans several lines: %q", i, pe.Problems[i])
		}
	}
	if elapsed > 5*time.Second {
		t.Errorf("preflight took %s", elapsed)
	}
	t.Logf("preflight failed in %s", elapsed)
}

func TestPreflightPassesWithEverythingPresent(t *testing.T) {
	dir := isolate(t)
	// A stand-in pulumi that answers `pulumi version` like the real CLI.
	script := "#!/bin/sh\necho v3.274.1\n"
	if err := os.WriteFile(filepath.Join(dir, "pulumi"), []byte(script), 0o700); err != nil { // #nosec G306 -- an executable test script.
		t.Fatal(err)
	}
	t.Setenv("PULUMI_CONFIG_PASSPHRASE", "test")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	var out strings.Builder
	if err := (Preflight{Pulumi: true, Passphrase: true, AWS: true, Out: &out}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "pulumi v3.274.1") {
		t.Errorf("version not reported: %q", out.String())
	}
}

// The vault command's preflight refuses a Pulumi CLI of another version
// than the pinned one (package preflight), saying how to install it.
func TestPreflightRefusesAnotherPulumi(t *testing.T) {
	dir := isolate(t)
	if err := os.WriteFile(filepath.Join(dir, "pulumi"), []byte("#!/bin/sh\necho v3.190.0\n"), 0o700); err != nil { // #nosec G306 -- an executable test script.
		t.Fatal(err)
	}
	err := Preflight{Pulumi: true}.Run(context.Background())
	var pe *PreflightError
	if !errors.As(err, &pe) || len(pe.Problems) != 1 || !strings.Contains(pe.Problems[0], "is Pulumi v3.190.0, not the pinned 3.274.1") ||
		!strings.Contains(pe.Problems[0], "--version 3.274.1") {
		t.Fatalf("err = %v", err)
	}
}

// The real Automation API path, with no Pulumi CLI installed, fails at
// once with the preflight's message instead of a Go error chain.
func TestAutoRunnerWithoutPulumiFailsFast(t *testing.T) {
	isolate(t)
	a := &Auto{StacksDir: t.TempDir(), BackendURL: "file://" + t.TempDir()}
	o := &Orchestrator{Env: testEnv(), Layers: testLayers, Runner: a}
	start := time.Now()
	_, err := o.DeployAll(context.Background(), "")
	if err == nil || !strings.Contains(err.Error(), MissingPulumi) {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s", d)
	}
}
