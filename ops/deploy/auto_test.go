package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
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

// TestAutoSelectsEachStackOnce checks that the runner keeps a stack it has
// selected: every `pulumi stack select` is a CLI run and a round trip to
// the backend, and the Orchestrator asks for the same stack many times in
// one deployAll. The CLI here logs its arguments before it runs.
func TestAutoSelectsEachStackOnce(t *testing.T) {
	ctx := context.Background()
	var progress bytes.Buffer
	a := engineRunner(t, echoStacks(t, "name: vault-echo\nruntime: go\nmain: cmd/\n"), &progress)
	calls := filepath.Join(t.TempDir(), "calls")
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "bin"), 0o750); err != nil {
		t.Fatal(err)
	}
	wrapper := "#!/bin/sh\necho \"$*\" >> '" + calls + "'\nexec '" + filepath.Join(a.PulumiRoot, "bin", "pulumi") + "' \"$@\"\n"
	if err := os.WriteFile(filepath.Join(root, "bin", "pulumi"), []byte(wrapper), 0o700); err != nil { // #nosec G306 -- an executable of the test's own
		t.Fatal(err)
	}
	a.PulumiRoot = root
	const env = "oncetest"
	cfg := Config{"vault-echo:environmentSuffix": {Value: env}}

	if ok, err := a.Exists(ctx, echoLayer, env); err != nil || ok {
		t.Fatalf("Exists before up = %v, %v", ok, err)
	}
	for i := range 2 {
		if _, err := a.Up(ctx, echoLayer, env, cfg); err != nil {
			t.Fatalf("up %d: %v\n%s", i+1, err, progress.String())
		}
		if ok, err := a.Exists(ctx, echoLayer, env); err != nil || !ok {
			t.Fatalf("Exists after up %d = %v, %v", i+1, ok, err)
		}
		if _, ok, err := a.Config(ctx, echoLayer, env); err != nil || !ok {
			t.Fatalf("Config after up %d = %v, %v", i+1, ok, err)
		}
		if _, err := a.Outputs(ctx, echoLayer, env); err != nil {
			t.Fatalf("Outputs after up %d: %v", i+1, err)
		}
	}
	if _, err := a.Destroy(ctx, echoLayer, env); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	if ok, err := a.Exists(ctx, echoLayer, env); err != nil || !ok {
		t.Fatalf("Exists after destroy = %v, %v (destroy keeps the stack)", ok, err)
	}

	b, err := os.ReadFile(calls) // #nosec G304 -- the test's own file
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for line := range strings.Lines(string(b)) {
		f := slices.DeleteFunc(strings.Fields(line), func(arg string) bool { return strings.HasPrefix(arg, "--") })
		if len(f) >= 2 && f[0] == "stack" {
			count[f[0]+" "+f[1]]++
		}
	}
	// The Exists before up selects and finds nothing; the first up selects
	// again, finds nothing and creates the stack; nothing selects after that.
	if count["stack select"] != 2 || count["stack init"] != 1 {
		t.Fatalf("CLI calls = %v, want 2 stack select and 1 stack init:\n%s", count, b)
	}
}

// TestAutoReadsInterruptedCreates gives a deployed stack a pending create,
// as an up stopped while AWS was creating a rule leaves it, and checks that
// Preview and Destroy report it and that the engine keeps it. The record is
// written into the file backend's checkpoint itself, in the schema the
// engine writes (pulumi stack import would clear it: pulumi/pulumi
// pkg/cmd/pulumi/stack/io.go, "Explicitly clear-out any pending
// operations").
func TestAutoReadsInterruptedCreates(t *testing.T) {
	ctx := context.Background()
	var progress bytes.Buffer
	a := engineRunner(t, echoStacks(t, "name: vault-echo\nruntime: go\ndescription: test layer\nmain: cmd/\n"), &progress)
	const env = "interrupted"
	const secret = "s3cr3t-of-the-interrupted-stack"
	cfg := Config{"vault-echo:environmentSuffix": {Value: env}, "vault-echo:apiToken": {Value: secret, Secret: true}}
	if _, err := a.Up(ctx, echoLayer, env, cfg); err != nil {
		t.Fatalf("up: %v\n%s", err, progress.String())
	}
	// The state is read with its secrets encrypted; the rehearsal's read
	// decrypts them.
	s, err := a.selected(ctx, echoLayer, env)
	if err != nil {
		t.Fatal(err)
	}
	for name, read := range map[string]func(context.Context, auto.Stack) (apitype.DeploymentV3, error){"StackState": StackState, "DecryptedStackState": DecryptedStackState} {
		d, err := read(ctx, s)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, _ := json.Marshal(d)
		if strings.Contains(string(b), secret) != (name == "DecryptedStackState") {
			t.Errorf("%s: the secret in clear = %v", name, strings.Contains(string(b), secret))
		}
	}
	files, err := filepath.Glob(filepath.Join(strings.TrimPrefix(a.BackendURL, "file://"), ".pulumi", "stacks", "vault-echo", env+".json"))
	if err != nil || len(files) != 1 {
		t.Fatalf("the stack's checkpoint file: %v, %v", files, err)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var checkpoint struct {
		Version    int `json:"version"`
		Checkpoint struct {
			Stack  string               `json:"stack"`
			Config map[string]any       `json:"config,omitempty"`
			Latest apitype.DeploymentV3 `json:"latest"`
		} `json:"checkpoint"`
	}
	if err := json.Unmarshal(b, &checkpoint); err != nil {
		t.Fatal(err)
	}
	urn := "urn:pulumi:" + env + "::vault-echo::" + ruleType + "::changes"
	checkpoint.Checkpoint.Latest.PendingOperations = append(checkpoint.Checkpoint.Latest.PendingOperations, apitype.OperationV2{
		Type: apitype.OperationTypeCreating, Resource: apitype.ResourceV3{URN: resource.URN(urn), Type: ruleType, Custom: true, Inputs: map[string]any{"name": "changes-" + env}},
	})
	if b, err = json.Marshal(checkpoint); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(files[0], b, 0o600); err != nil {
		t.Fatal(err)
	}
	want := []PendingCreate{{URN: urn, Type: ruleType, Name: "changes-" + env}}

	res, err := a.Preview(ctx, echoLayer, env, cfg)
	if err != nil {
		t.Fatalf("preview: %v\n%s", err, progress.String())
	}
	if !slices.Equal(res.Interrupted, want) {
		t.Fatalf("preview's interrupted creates = %+v, want %+v", res.Interrupted, want)
	}
	// A stack whose only trace of a resource is a pending create counts
	// as deployed: the resource may exist in AWS.
	if ok, err := a.Deployed(ctx, echoLayer, env); err != nil || !ok {
		t.Fatalf("Deployed with a pending create = %v, %v; want true", ok, err)
	}
	if res, err = a.Destroy(ctx, echoLayer, env); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	if !slices.Equal(res.Interrupted, want) {
		t.Fatalf("destroy's interrupted creates = %+v, want %+v", res.Interrupted, want)
	}
	// The engine keeps the record through the destroy: the next deploy of
	// this environment stops on it too.
	if res, err = a.Preview(ctx, echoLayer, env, cfg); err != nil || !slices.Equal(res.Interrupted, want) {
		t.Fatalf("preview after the destroy: %+v, %v", res.Interrupted, err)
	}
}

// Deployed is false for a stack that a preview created and for one that
// a destroy emptied (both stay), and true while the stack holds a resource
// of the layer: destroy:<layer> waits only for deployed later layers.
func TestAutoDeployedOnRealEngine(t *testing.T) {
	ctx := context.Background()
	var progress bytes.Buffer
	a := engineRunner(t, echoStacks(t, "name: vault-echo\nruntime: go\ndescription: test layer\nmain: cmd/\n"), &progress)
	layer := kit.Layer{Name: "echo", Project: "vault-echo", Run: func(ctx *pulumi.Context) (pulumi.Map, error) {
		var thing struct{ pulumi.ResourceState }
		return pulumi.Map{}, ctx.RegisterComponentResource("dbvault:test:Thing", "thing", &thing)
	}}
	const env = "deployedtest"
	deployed := func(when string, want bool) {
		t.Helper()
		if got, err := a.Deployed(ctx, layer, env); err != nil || got != want {
			t.Fatalf("Deployed %s = %v, %v; want %v\n%s", when, got, err, want, progress.String())
		}
	}
	deployed("before anything", false)
	if _, err := a.Preview(ctx, layer, env, Config{}); err != nil {
		t.Fatalf("preview: %v\n%s", err, progress.String())
	}
	deployed("after a first preview", false)
	if _, err := a.Up(ctx, layer, env, Config{}); err != nil {
		t.Fatalf("up: %v\n%s", err, progress.String())
	}
	deployed("after up", true)
	if _, err := a.Destroy(ctx, layer, env); err != nil {
		t.Fatalf("destroy: %v\n%s", err, progress.String())
	}
	deployed("after destroy", false)
	if ok, err := a.Exists(ctx, layer, env); err != nil || !ok {
		t.Fatalf("Exists after destroy = %v, %v: the stack stays", ok, err)
	}
}

// `pulumi org get-default` exits 0 with a sentence when the login has no
// default organisation: that is no organisation, and whoami decides.
func TestDefaultOrgSet(t *testing.T) {
	for out, want := range map[string]bool{"acme\n": true, "": false, "\n": false, "No Default Org Specified\n": false} {
		if got := defaultOrgSet(out); got != want {
			t.Errorf("defaultOrgSet(%q) = %v, want %v", out, got, want)
		}
	}
}

// A backend URL is printed without its password.
func TestRedactedURL(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://pulumi:s3cr3t@db.internal/state": "postgres://pulumi:xxxxx@db.internal/state",
		"s3://team-state":            "s3://team-state",
		"file:///repo/.pulumi-state": "file:///repo/.pulumi-state",
		"https://api.pulumi.com":     "https://api.pulumi.com",
		"postgres://db.internal/state?sslmode=verify-full&password=s3cr3t": "postgres://db.internal/state?password=xxxxx&sslmode=verify-full",
		"postgres://u:ab/cd@h/db": "postgres://…",
	} {
		if got := RedactedURL(in); got != want {
			t.Errorf("RedactedURL(%q) = %q, want %q", in, got, want)
		}
	}
}
