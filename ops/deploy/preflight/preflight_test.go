package preflight

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// standIn puts a pulumi on an otherwise empty PATH that answers `pulumi
// version` with version, like the real CLI.
func standIn(t *testing.T, version string) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("PATH", dir)
	bin := filepath.Join(dir, "pulumi")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho "+version+"\n"), 0o700); err != nil { // #nosec G306 -- an executable test script.
		t.Fatal(err)
	}
	return bin
}

// The pinned CLI passes; any other version is refused, naming both
// versions and the two ways to install the pinned one.
func TestPulumiRefusesAnyButThePinnedVersion(t *testing.T) {
	if PinnedPulumi != "3.274.1" {
		t.Fatalf("PinnedPulumi = %q: the pin moved; update this test with the workflows' pulumi-version", PinnedPulumi)
	}
	bin := standIn(t, "v3.274.1")
	if v, err := Pulumi(context.Background(), 5*time.Second); err != nil || v != "v3.274.1 ("+bin+")" {
		t.Fatalf("pinned: %q, %v", v, err)
	}
	for _, other := range []string{"v3.275.0", "v3.200.0", "v4.0.0", "3.274.10", "v3.274.1-dev.0"} {
		bin := standIn(t, other)
		_, err := Pulumi(context.Background(), 5*time.Second)
		if err == nil {
			t.Fatalf("%s accepted", other)
		}
		for _, want := range []string{bin + " is Pulumi " + other + ", not the pinned 3.274.1",
			"curl -fsSL https://get.pulumi.com | sh -s -- --version 3.274.1", "go run mage.go pulumiCLI"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %q lacks %q", other, err, want)
			}
		}
	}
	t.Setenv("PATH", t.TempDir())
	if _, err := Pulumi(context.Background(), 5*time.Second); err == nil || err.Error() != MissingPulumi ||
		!strings.Contains(MissingPulumi, "--version 3.274.1") {
		t.Fatalf("no pulumi: %v", err)
	}
}

// A target's check refuses a wrong CLI like a missing one, together with
// every other missing piece.
func TestCheckRefusesAnotherPulumiWithTheRest(t *testing.T) {
	standIn(t, "v3.100.0")
	t.Setenv("HOME", t.TempDir())
	err := Check(context.Background(), env(map[string]string{"ENV": "dev", "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"}), Needs["deployAll"])
	var pe *Error
	if !errors.As(err, &pe) || len(pe.Problems) != 3 {
		t.Fatalf("err = %v, want 3 problems (pulumi version, passphrase, credentials)", err)
	}
	for i, want := range []string{"not the pinned 3.274.1", "no stack passphrase", "no AWS credentials"} {
		if !strings.Contains(pe.Problems[i], want) {
			t.Errorf("problem %d = %q, want %q", i, pe.Problems[i], want)
		}
	}
	standIn(t, "v3.274.1")
	if err := Check(context.Background(), env(map[string]string{"ENV": "dev", "PULUMI_CONFIG_PASSPHRASE": "x", "AWS_PROFILE": "p"}), Needs["deployAll"]); err != nil {
		t.Fatal(err)
	}
	// status with SECRET_ID and an emulator needs neither stack nor AWS.
	t.Setenv("PATH", t.TempDir())
	if err := Check(context.Background(), env(map[string]string{"SECRET_ID": "arn", "SECRETS_MANAGER_ENDPOINT": "http://127.0.0.1:4566"}), Needs["status"]); err != nil {
		t.Fatal(err)
	}
}

// The stack secrets can be decrypted with a passphrase, a readable
// non-empty passphrase file, a secrets provider or a Pulumi Cloud backend.
func TestPassphraseSources(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	full := filepath.Join(dir, "full")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte("pass\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		env map[string]string
		ok  bool
	}{
		{map[string]string{}, false},
		{map[string]string{"PULUMI_CONFIG_PASSPHRASE": "x"}, true},
		{map[string]string{"PULUMI_CONFIG_PASSPHRASE_FILE": full}, true},
		{map[string]string{"PULUMI_CONFIG_PASSPHRASE_FILE": empty}, false},
		{map[string]string{"PULUMI_CONFIG_PASSPHRASE_FILE": filepath.Join(dir, "missing")}, false},
		{map[string]string{"PULUMI_SECRETS_PROVIDER": "awskms://alias/pulumi"}, true},
		{map[string]string{"PULUMI_BACKEND_URL": "https://api.pulumi.com"}, true},
		// "passphrase" names the passphrase provider: it still needs one.
		{map[string]string{"PULUMI_SECRETS_PROVIDER": "passphrase"}, false},
		{map[string]string{"PULUMI_SECRETS_PROVIDER": "passphrase", "PULUMI_CONFIG_PASSPHRASE_FILE": full}, true},
		{map[string]string{"PULUMI_SECRETS_PROVIDER": "passphrase", "PULUMI_BACKEND_URL": "https://api.pulumi.com"}, false},
		// Pulumi reads a relative file from the layer's folder.
		{map[string]string{"PULUMI_CONFIG_PASSPHRASE_FILE": "full"}, false},
	} {
		err := Passphrase(env(c.env))
		if (err == nil) != c.ok {
			t.Errorf("%v: err = %v, want ok=%v", c.env, err, c.ok)
		}
	}
}

// A PULUMI_CONFIG_PASSPHRASE set to "" wins over the file in the CLI, which
// would encrypt a new stack with the empty passphrase: refused.
func TestEmptyPassphraseBesideAFileIsRefused(t *testing.T) {
	full := filepath.Join(t.TempDir(), "full")
	if err := os.WriteFile(full, []byte("pass\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PULUMI_CONFIG_PASSPHRASE", "")
	for _, e := range []map[string]string{
		{"PULUMI_CONFIG_PASSPHRASE_FILE": full},
		{"PULUMI_CONFIG_PASSPHRASE_FILE": full, "PULUMI_SECRETS_PROVIDER": "passphrase"},
		{"PULUMI_CONFIG_PASSPHRASE_FILE": full, "PULUMI_BACKEND_URL": "s3://state"},
	} {
		err := Passphrase(env(e))
		if err == nil || !strings.Contains(err.Error(), "set but empty") {
			t.Errorf("%v with PULUMI_CONFIG_PASSPHRASE set to \"\": err = %v, want set but empty", e, err)
		}
	}
	// Where no passphrase is read (a KMS secrets provider, Pulumi Cloud's
	// own), the empty variable that a workflow's unset secret leaves is
	// harmless.
	for _, e := range []map[string]string{
		{"PULUMI_BACKEND_URL": "https://api.pulumi.com"},
		{"PULUMI_SECRETS_PROVIDER": "awskms://alias/pulumi"},
	} {
		if err := Passphrase(env(e)); err != nil {
			t.Errorf("%v with PULUMI_CONFIG_PASSPHRASE set to \"\": %v", e, err)
		}
	}
	t.Setenv("PULUMI_CONFIG_PASSPHRASE", "x")
	if err := Passphrase(env(map[string]string{"PULUMI_CONFIG_PASSPHRASE": "x"})); err != nil {
		t.Errorf("a passphrase: %v", err)
	}
}

// Every input is checked before anything is built: FROM=wronglayer is
// refused, naming the layers, and so are CONFIRM, ALLOW_REPLACE and CI
// values that mean nothing.
func TestInputsRefused(t *testing.T) {
	for k, v := range map[string]string{"FROM": "wronglayer", "CONFIRM": "y", "ALLOW_REPLACE": "a,,b", "CI": "yes please"} {
		p := Inputs(env(map[string]string{"ENV": "dev", k: v}), "FROM")
		if len(p) != 1 || !strings.Contains(p[0], k+"=") {
			t.Errorf("%s=%s: %q", k, v, p)
		}
	}
	if p := Inputs(env(map[string]string{"FROM": "kms", "CI": "true", "CONFIRM": "yes"}), "FROM"); len(p) != 0 {
		t.Fatalf("valid inputs refused: %v", p)
	}
	if p := Inputs(env(map[string]string{"ROTATE_TIMEOUT": "soon"}), "ROTATE_TIMEOUT"); len(p) != 1 {
		t.Fatalf("ROTATE_TIMEOUT=soon: %v", p)
	}
	if err := Env(env(map[string]string{"ENV": "Dev_1"})); err == nil {
		t.Fatal("ENV=Dev_1 accepted")
	}
}
