package deploy

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/dbvault/dbvault/ops/internal/repotest"
	"github.com/dbvault/dbvault/stacks/kit"
)

// echoLayer is a layer without cloud resources: it exports its config, so
// the test sees what the runner set, through a real engine and backend.
var echoLayer = kit.Layer{Name: "echo", Project: "vault-echo", Run: func(ctx *pulumi.Context) (pulumi.Map, error) {
	cfg := config.New(ctx, "")
	return pulumi.Map{
		"suffix":   pulumi.String(cfg.Get("environmentSuffix")),
		"password": cfg.GetSecret("apiToken"),
	}, nil
}}

// echoStacks is a stacks folder that holds the echo layer's folder as in
// the repository: project as its Pulumi.yaml, for the go runtime with
// main: cmd/, which the inline program must override.
func echoStacks(t *testing.T, project string) string {
	t.Helper()
	stacks := t.TempDir()
	if err := os.MkdirAll(filepath.Join(stacks, "echo", "cmd"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stacks, "echo", "Pulumi.yaml"), []byte(project), 0o600); err != nil {
		t.Fatal(err)
	}
	return stacks
}

// engineRunner is a runner on the Pulumi CLI with a file backend of its
// own, for the project folders in stacks.
func engineRunner(t *testing.T, stacks string, progress *bytes.Buffer) *Auto {
	t.Helper()
	return &Auto{
		StacksDir:  stacks,
		BackendURL: "file://" + filepath.Join(t.TempDir(), "state"),
		EnvVars:    map[string]string{"PULUMI_CONFIG_PASSPHRASE": "test-passphrase"},
		PulumiRoot: repotest.PulumiCLI(t),
		PulumiHome: t.TempDir(),
		Progress:   progress,
	}
}

// TestAutoRunnerOnRealEngine drives the Automation API runner through a
// stack's life on a file backend: absent, up with config, kept secret on a
// second up (also from a work directory without the stack's config file),
// outputs, destroy.
func TestAutoRunnerOnRealEngine(t *testing.T) {
	ctx := context.Background()
	var progress bytes.Buffer
	a := engineRunner(t, echoStacks(t, "name: vault-echo\nruntime: go\ndescription: test layer\nmain: cmd/\n"), &progress)
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
	b := engineRunner(t, t.TempDir(), &progress)
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
	ctx := context.Background()
	var progress bytes.Buffer
	project := "name: vault-echo\nruntime: go\nmain: cmd/\nconfig:\n" +
		"  environmentSuffix:\n    type: string\n" +
		"  costCenter:\n    type: string\n    default: platform-security\n" +
		"  apiToken:\n    type: string\n    default: \"\"\n"
	a := engineRunner(t, echoStacks(t, project), &progress)
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
