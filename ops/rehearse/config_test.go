package rehearse

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"gopkg.in/yaml.v3"

	"github.com/dbvault/dbvault/ops/deploy"
	"github.com/dbvault/dbvault/ops/standin"
	"github.com/dbvault/dbvault/stacks/kit"
)

// engineOrchestrator is the orchestrator of base and net on the real
// engine with the stand-in provider, as a rehearsal sets it up, for the
// environment the variables vars describe. Its state, stacks, Pulumi home
// and stand-in cloud are in dir, which later orchestrators may share.
func engineOrchestrator(t *testing.T, dir string, vars map[string]string) *deploy.Orchestrator {
	t.Helper()
	for _, d := range []string{"state", "stacks", "home", "cloud"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o750); err != nil {
			t.Fatal(err)
		}
	}
	cli, standinDir := ensureTools(t)
	env, err := deploy.EnvironmentFromEnv(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	runner := &deploy.Auto{
		StacksDir:  filepath.Join(dir, "stacks"),
		BackendURL: "file://" + filepath.Join(dir, "state"),
		EnvVars:    EngineEnv(cli, standinDir, filepath.Join(dir, "cloud"), "config-test-passphrase"),
		PulumiRoot: cli,
		PulumiHome: filepath.Join(dir, "home"),
	}
	return &deploy.Orchestrator{
		Env: env, Layers: []kit.Layer{baseLayer(fixed), netLayer("vpcId")}, Runner: runner, Out: &bytes.Buffer{},
		Confirm: func(context.Context, string) (bool, error) { return true, nil },
	}
}

// On the real engine: up of a layer whose predecessor is missing creates
// nothing; the region and a team's value stay the stack's on later runs
// without the variables (no rewrite to the default region); a variable that
// disagrees stops the run with nothing changed; preview writes nothing.
func TestStackConfigIsTheStacksOnTheRealEngine(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	o := engineOrchestrator(t, dir, map[string]string{"ENV": "rehearsal", "AWS_REGION": "eu-west-1"})
	net, base := o.Layers[1], o.Layers[0]

	if _, err := o.Up(ctx, "net"); err == nil || !strings.Contains(err.Error(), "Run first: ENV=rehearsal go run mage.go up:base") {
		t.Fatalf("up:net on a fresh environment: %v", err)
	}
	for _, l := range o.Layers {
		if ok, err := o.Runner.Exists(ctx, l, "rehearsal"); err != nil || ok {
			t.Fatalf("after the refused up, stack of %s exists=%v (%v)", l.Name, ok, err)
		}
	}
	if live, _ := standin.LiveResources(filepath.Join(dir, "cloud")); len(live) != 0 {
		t.Fatalf("the refused up created %v", live)
	}

	if _, err := o.DeployAll(ctx, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := o.DestroyAll(ctx); err != nil {
			t.Errorf("destroyAll: %v", err)
		}
	})
	// The base team sets its cost centre deliberately.
	setTeamValue(t, dir, base)

	// Later runs without AWS_REGION and TAG_COST_CENTER: nothing rewritten.
	later := engineOrchestrator(t, dir, map[string]string{"ENV": "rehearsal"})
	netFile := filepath.Join(dir, "stacks", "net", "Pulumi.rehearsal.yaml")
	before, err := os.ReadFile(netFile)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := later.Preview(ctx, "net"); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(netFile); !bytes.Equal(before, after) {
		t.Fatalf("preview changed %s:\n%s\n->\n%s", netFile, before, after)
	}
	if _, err := later.DeployAll(ctx, ""); err != nil {
		t.Fatal(err)
	}
	for _, l := range []kit.Layer{base, net} {
		values, _, err := later.Runner.Config(ctx, l, "rehearsal")
		if err != nil {
			t.Fatal(err)
		}
		if values["aws:region"] != "eu-west-1" {
			t.Errorf("%s: aws:region rewritten to %q", l.Name, values["aws:region"])
		}
		if l.Name == "base" && values[baseProject+":costCenter"] != "cc-team" {
			t.Errorf("base: the team's costCenter became %q", values[baseProject+":costCenter"])
		}
	}

	// A variable that disagrees stops before anything runs.
	clash := engineOrchestrator(t, dir, map[string]string{"ENV": "rehearsal", "AWS_REGION": "us-west-2", "TAG_COST_CENTER": "cc-1"})
	_, err = clash.DeployAll(ctx, "")
	var ce *deploy.ConfigConflictError
	if !errors.As(err, &ce) || ce.Layer != "base" {
		t.Fatalf("deployAll with a disagreeing AWS_REGION: %v", err)
	}
	wantIn(t, fmt.Sprintf("error %q", err), err.Error(), "aws:region is eu-west-1 in the stack, but AWS_REGION=us-west-2",
		baseProject+":costCenter is cc-team in the stack, but TAG_COST_CENTER=cc-1", "pulumi config set aws:region us-west-2")
	values, _, _ := clash.Runner.Config(ctx, base, "rehearsal")
	if values["aws:region"] != "eu-west-1" {
		t.Errorf("the refused run changed aws:region to %q", values["aws:region"])
	}
}

// setTeamValue sets base's costCenter as its team would, in the stack.
func setTeamValue(t *testing.T, dir string, base kit.Layer) {
	t.Helper()
	file := filepath.Join(dir, "stacks", "base", "Pulumi.rehearsal.yaml")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	doc["config"].(map[string]any)[base.Project+":costCenter"] = "cc-team"
	out, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, out, 0o600); err != nil {
		t.Fatal(err)
	}
}

// secretLayer keeps one Secrets Manager secret named name().
func secretLayer(name func() string) kit.Layer {
	return kit.Layer{Name: "vault", Project: "rehearse-test-vault", Run: func(ctx *pulumi.Context) (pulumi.Map, error) {
		s, err := secretsmanager.NewSecret(ctx, "credentials", &secretsmanager.SecretArgs{Name: pulumi.String(name())})
		if err != nil {
			return nil, err
		}
		return pulumi.Map{"secretArn": s.Arn}, nil
	}}
}

// On the real engine: a second program that renames the secret (a
// replacement) is refused before anything changes, confirmation or not;
// ALLOW_REPLACE=credentials lets it through.
func TestReplacingASecretIsRefusedOnTheRealEngine(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	name := "credentials-one"
	o := engineOrchestrator(t, dir, map[string]string{"ENV": "rehearsal", "AWS_REGION": "eu-west-1"})
	o.Layers = []kit.Layer{secretLayer(func() string { return name })}
	first, err := o.Up(ctx, "vault")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := o.DestroyAll(ctx); err != nil {
			t.Errorf("destroyAll: %v", err)
		}
	})
	name = "credentials-two"
	_, err = o.Up(ctx, "vault")
	var re *deploy.ReplaceRefusedError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "ALLOW_REPLACE=credentials") {
		t.Fatalf("renaming the secret: %v", err)
	}
	outs, err := o.Runner.Outputs(ctx, o.Layers[0], "rehearsal")
	if err != nil || outs["secretArn"].Value != first.Outputs["secretArn"].Value {
		t.Fatalf("the refused up changed the secret: %v (%v)", outs["secretArn"], err)
	}
	o.AllowReplace = deploy.ParseAllowReplace("credentials")
	res, err := o.Up(ctx, "vault")
	if err != nil {
		t.Fatal(err)
	}
	if res.Outputs["secretArn"].Value == first.Outputs["secretArn"].Value {
		t.Fatal("the allowed replacement did not happen")
	}
}
