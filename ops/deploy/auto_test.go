package deploy

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/dbvault/dbvault/stacks/kit"
)

// pulumiRoot finds a Pulumi CLI: the one on PATH, else the pinned build that
// `go run mage.go pulumiCLI` caches (<user cache>/dbvault/pulumi-v3.274.1).
// The test command builds it first, so these tests run in CI.
func pulumiRoot(t *testing.T) string {
	if p, err := exec.LookPath("pulumi"); err == nil {
		return filepath.Dir(filepath.Dir(p))
	}
	if cache, err := os.UserCacheDir(); err == nil {
		root := filepath.Join(cache, "dbvault", "pulumi-v3.274.1")
		if _, err := os.Stat(filepath.Join(root, "bin", "pulumi")); err == nil {
			return root
		}
	}
	t.Skip("no Pulumi CLI (go run mage.go pulumiCLI builds one)")
	return ""
}

// echoLayer is a layer without cloud resources: it exports its config, so
// the test sees what the runner set, through a real engine and backend.
var echoLayer = kit.Layer{Name: "echo", Project: "vault-echo", Run: func(ctx *pulumi.Context) (pulumi.Map, error) {
	cfg := config.New(ctx, "")
	return pulumi.Map{
		"suffix":   pulumi.String(cfg.Get("environmentSuffix")),
		"password": cfg.GetSecret("apiToken"),
	}, nil
}}

// TestAutoRunnerOnRealEngine drives the Automation API runner through a
// stack's life on a file backend: absent, up with config, kept secret on a
// second up (also from a work directory without the stack's config file),
// outputs, destroy.
func TestAutoRunnerOnRealEngine(t *testing.T) {
	root := pulumiRoot(t)
	ctx := context.Background()
	var progress bytes.Buffer
	newRunner := func(stacksDir string) *Auto {
		return &Auto{
			StacksDir:  stacksDir,
			BackendURL: "file://" + filepath.Join(t.TempDir(), "state"),
			EnvVars:    map[string]string{"PULUMI_CONFIG_PASSPHRASE": "test-passphrase"},
			PulumiRoot: root,
			PulumiHome: t.TempDir(),
			Progress:   &progress,
		}
	}
	// The layer's folder as in the repository: a Pulumi.yaml for the go
	// runtime with main: cmd/, which the inline program must override.
	stacks := t.TempDir()
	if err := os.MkdirAll(filepath.Join(stacks, "echo", "cmd"), 0o750); err != nil {
		t.Fatal(err)
	}
	project := "name: vault-echo\nruntime: go\ndescription: test layer\nmain: cmd/\n"
	if err := os.WriteFile(filepath.Join(stacks, "echo", "Pulumi.yaml"), []byte(project), 0o600); err != nil {
		t.Fatal(err)
	}
	a := newRunner(stacks)
	backend := a.BackendURL
	const env = "autotest"

	ok, err := a.Exists(ctx, echoLayer, env)
	if err != nil || ok {
		t.Fatalf("Exists before up = %v, %v", ok, err)
	}
	cfg := Config{
		"vault-echo:environmentSuffix": {Value: env},
		"vault-echo:apiToken":          {Value: "first-secret", Secret: true},
	}
	res, err := a.Up(ctx, echoLayer, env, cfg)
	if err != nil {
		t.Fatalf("up: %v\n%s", err, progress.String())
	}
	if got := res.Outputs["suffix"].Value; got != env {
		t.Fatalf("suffix output = %v", got)
	}
	if pw := res.Outputs["password"]; !pw.Secret || pw.Value != "first-secret" {
		t.Fatalf("password output = %+v, want the secret first-secret", pw)
	}
	if bytes.Contains(progress.Bytes(), []byte("first-secret")) {
		t.Fatal("the secret reached the progress output")
	}

	// A second value never replaces the stack's first.
	cfg["vault-echo:apiToken"] = ConfigValue{Value: "second", Secret: true}
	if res, err = a.Up(ctx, echoLayer, env, cfg); err != nil {
		t.Fatalf("second up: %v", err)
	}
	if got := res.Outputs["password"].Value; got != "first-secret" {
		t.Fatalf("password after second up = %v", got)
	}

	// A fresh work directory (no Pulumi.<env>.yaml), same backend: the
	// stack is found and its outputs decrypt.
	b := newRunner(t.TempDir())
	b.BackendURL = backend
	if ok, err := b.Exists(ctx, echoLayer, env); err != nil || !ok {
		t.Fatalf("Exists from a fresh work dir = %v, %v", ok, err)
	}
	outs, err := b.Outputs(ctx, echoLayer, env)
	if err != nil {
		t.Fatalf("outputs from a fresh work dir: %v", err)
	}
	if got := outs["password"].Value; got != "first-secret" {
		t.Fatalf("password read from a fresh work dir = %v", got)
	}

	// And it deploys from there: config written anew, state decrypted.
	cfg["vault-echo:apiToken"] = ConfigValue{Value: "first-secret", Secret: true}
	if res, err = b.Up(ctx, echoLayer, env, cfg); err != nil {
		t.Fatalf("up from a fresh work dir: %v\n%s", err, progress.String())
	}
	if got := res.Outputs["password"].Value; got != "first-secret" {
		t.Fatalf("password after up from a fresh work dir = %v", got)
	}

	if _, err := a.Destroy(ctx, echoLayer, env); err != nil {
		t.Fatalf("destroy: %v", err)
	}
}

// TestAutoRunnerFullyQualifiedOnFileBackend runs the runner as the
// Orchestrator does, with fully qualified stack names, on a file backend,
// in a project folder whose Pulumi.yaml declares config with defaults:
// the stack is found under organization/<project>/<stack>, a declared
// default does not count as the stack's value (so the seed is written),
// and the stack's own value wins over the seed.
func TestAutoRunnerFullyQualifiedOnFileBackend(t *testing.T) {
	root := pulumiRoot(t)
	ctx := context.Background()
	var progress bytes.Buffer
	stacks := t.TempDir()
	if err := os.MkdirAll(filepath.Join(stacks, "echo", "cmd"), 0o750); err != nil {
		t.Fatal(err)
	}
	project := "name: vault-echo\nruntime: go\nmain: cmd/\nconfig:\n" +
		"  environmentSuffix:\n    type: string\n" +
		"  costCenter:\n    type: string\n    default: platform-security\n" +
		"  apiToken:\n    type: string\n    default: \"\"\n"
	if err := os.WriteFile(filepath.Join(stacks, "echo", "Pulumi.yaml"), []byte(project), 0o600); err != nil {
		t.Fatal(err)
	}
	a := &Auto{
		StacksDir:  stacks,
		BackendURL: "file://" + filepath.Join(t.TempDir(), "state"),
		EnvVars:    map[string]string{"PULUMI_CONFIG_PASSPHRASE": "test-passphrase"},
		PulumiRoot: root,
		PulumiHome: t.TempDir(),
		Progress:   &progress,
	}
	org, err := a.Org(ctx)
	if err != nil || org != DefaultOrg {
		t.Fatalf("Org = %q, %v", org, err)
	}
	env := Environment{Name: "fqtest", Org: org}
	stack := env.FullyQualified(echoLayer.Project)
	if stack != "organization/vault-echo/fqtest" {
		t.Fatalf("stack = %s", stack)
	}
	cfg := Config{
		"vault-echo:environmentSuffix": {Value: env.Name},
		"vault-echo:costCenter":        {Value: "finance"},
	}
	if _, err := a.Up(ctx, echoLayer, stack, cfg); err != nil {
		t.Fatalf("up: %v\n%s", err, progress.String())
	}
	if ok, err := a.Exists(ctx, echoLayer, stack); err != nil || !ok {
		t.Fatalf("Exists(%s) = %v, %v", stack, ok, err)
	}
	values, ok, err := a.Config(ctx, echoLayer, stack)
	if err != nil || !ok {
		t.Fatalf("Config = %v, %v", ok, err)
	}
	if values["vault-echo:costCenter"] != "finance" {
		t.Fatalf("costCenter = %q: the seed gave way to the project's default", values["vault-echo:costCenter"])
	}
	if _, has := values["vault-echo:apiToken"]; has {
		t.Fatalf("a project default counts as the stack's value: %v", values)
	}
	if _, err := a.Destroy(ctx, echoLayer, stack); err != nil {
		t.Fatalf("destroy: %v", err)
	}
}
