package deploy

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

// envFrom is an Environment read from variables, as the vault command reads it.
func envFrom(t *testing.T, vars map[string]string) Environment {
	t.Helper()
	e, err := EnvironmentFromEnv(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// A variable that disagrees with a stack's value stops every command before
// anything changes, naming the key, both values and both ways out.
func TestExplicitVariableDisagreeingWithStackStops(t *testing.T) {
	f, o := upAll(t)
	f.stacks["kms"]["vault-kms:costCenter"] = ConfigValue{Value: "cc-kms"} // set by the kms team
	o.Env = envFrom(t, map[string]string{"ENV": "dev", "AWS_REGION": "us-east-1", "TAG_COST_CENTER": "cc-1"})
	for name, op := range plans(o, "kms") {
		f.calls = nil
		err := op()
		var ce *ConfigConflictError
		if !errors.As(err, &ce) || ce.Layer != "kms" {
			t.Fatalf("%s: err = %v, want a config conflict in kms", name, err)
		}
		for _, want := range []string{"vault-kms:costCenter is cc-kms in the stack, but TAG_COST_CENTER=cc-1",
			"unset TAG_COST_CENTER", "(cd stacks/kms && pulumi config set vault-kms:costCenter cc-1 --stack organization/vault-kms/dev)"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error lacks %q:\n%v", name, want, err)
			}
		}
		if len(f.ops("up"))+len(f.ops("preview")) != 0 {
			t.Errorf("%s: ran %v although the config disagrees", name, f.calls)
		}
		if got := f.stacks["kms"]["vault-kms:costCenter"].Value; got != "cc-kms" {
			t.Fatalf("%s: the stack's value became %q", name, got)
		}
	}
}

// A default (no variable set) never replaces a stack's value, and a new
// layer's stack takes the value of the layers before it.
func TestDefaultsGiveWayToTheStacks(t *testing.T) {
	f := newFake()
	o := newOrch(f, &bytes.Buffer{})
	o.Env = envFrom(t, map[string]string{"ENV": "dev", "AWS_REGION": "eu-west-1", "TAG_COST_CENTER": "cc-9"})
	if _, err := o.Up(context.Background(), "network"); err != nil {
		t.Fatal(err)
	}
	// A later run without AWS_REGION and TAG_COST_CENTER.
	var out bytes.Buffer
	o.Out = &out
	o.Env = envFrom(t, map[string]string{"ENV": "dev"})
	if _, err := o.DeployAll(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"network", "kms", "database", "secrets"} {
		p := "vault-" + l
		if got := f.stacks[l]["aws:region"].Value; got != "eu-west-1" {
			t.Errorf("%s: aws:region = %q, want the stacks' eu-west-1", l, got)
		}
		if got := f.stacks[l][p+":costCenter"].Value; got != "cc-9" {
			t.Errorf("%s: costCenter = %q, want the stacks' cc-9", l, got)
		}
	}
	if !strings.Contains(out.String(), "aws:region eu-west-1, from stack organization/vault-network/dev (AWS_REGION is not set)") {
		t.Errorf("no note of where the region comes from:\n%s", out.String())
	}
	if o.Env.Region != "eu-west-1" {
		t.Errorf("the orchestrator's region is %s", o.Env.Region)
	}
}

// ENV is always explicit: a stack whose environmentSuffix differs stops.
func TestEnvironmentSuffixConflictNamesTheFix(t *testing.T) {
	f := newFake()
	o := newOrch(f, &bytes.Buffer{})
	f.stacks["network"] = Config{"vault-network:environmentSuffix": {Value: "qa"}}
	_, err := o.Up(context.Background(), "network")
	if err == nil || !strings.Contains(err.Error(), "vault-network:environmentSuffix is qa in the stack, but ENV=dev gives dev") {
		t.Fatalf("err = %v", err)
	}
}

func TestPreviewWritesNoConfig(t *testing.T) {
	f := newFake()
	o := newOrch(f, &bytes.Buffer{})
	if _, err := o.Preview(context.Background(), "network"); err != nil {
		t.Fatal(err)
	}
	if len(f.stacks["network"]) != 0 {
		t.Fatalf("preview wrote config: %v", f.stacks["network"])
	}
	if len(f.previewed) != 1 || f.previewed[0]["aws:region"].Value != "us-east-1" {
		t.Fatalf("the preview did not get the seeds: %v", f.previewed)
	}
}

// up:<layer> on a fresh environment creates nothing and names the command
// to run first; a predecessor that lacks an output is named with it.
func TestUpChecksPredecessorsFirst(t *testing.T) {
	f := newFake()
	o := newOrch(f, &bytes.Buffer{})
	_, err := o.Up(context.Background(), "database")
	if err == nil {
		t.Fatal("up:database ran on a fresh environment")
	}
	for _, want := range []string{"up:database refused: layer database needs layer network first",
		"stack organization/vault-network/dev does not exist", "Run first: ENV=dev go run mage.go up:network"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if len(f.ops("up"))+len(f.ops("preview")) != 0 || len(f.stacks) != 0 {
		t.Fatalf("something was created: calls %v, stacks %v", f.calls, f.stacks)
	}

	if _, err := o.Up(context.Background(), "network"); err != nil {
		t.Fatal(err)
	}
	if _, err := o.Up(context.Background(), "kms"); err != nil {
		t.Fatal(err)
	}
	delete(f.outputs["kms"], "secretsKeyArn")
	f.calls = nil
	for _, run := range []func() error{
		func() error { _, err := o.Up(context.Background(), "database"); return err },
		func() error { _, err := o.DeployAll(context.Background(), "database"); return err },
	} {
		err := run()
		if err == nil || !strings.Contains(err.Error(), "reads outputs of layer kms that stack organization/vault-kms/dev does not have (secretsKeyArn)") ||
			!strings.Contains(err.Error(), "Run first: ENV=dev go run mage.go up:kms") {
			t.Fatalf("err = %v", err)
		}
	}
	if got := f.ops("up"); len(got) != 0 {
		t.Fatalf("up ran: %v", got)
	}
	if _, ok := f.stacks["database"]; ok {
		t.Fatal("the database stack was created")
	}
}

// previewAll on a fresh environment previews what can be computed and
// says why it stops.
func TestPreviewAllStopsWhereAPredecessorIsMissing(t *testing.T) {
	f := newFake()
	var out bytes.Buffer
	if _, err := newOrch(f, &out).PreviewAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := f.ops("preview"); !slices.Equal(got, []string{"network"}) {
		t.Fatalf("previewed %v", got)
	}
	if !strings.Contains(out.String(), "kms and later: not previewed") {
		t.Fatalf("no note:\n%s", out.String())
	}
}

// An AWS_REGION other than the stacks' stops destroy, destroyAll and the
// deploy of a layer whose stack does not exist yet, before any of them
// runs: the layers of an environment share one region.
func TestRegionDisagreeingWithAnyStackStopsEveryCommand(t *testing.T) {
	ctx := context.Background()
	for name, op := range map[string]func(o *Orchestrator) error{
		"destroy:secrets": func(o *Orchestrator) error { return o.Destroy(ctx, "secrets") },
		"destroyAll":      func(o *Orchestrator) error { return o.DestroyAll(ctx) },
		"up:secrets (a new stack)": func(o *Orchestrator) error {
			_, err := o.Up(ctx, "secrets")
			return err
		},
		"up:secrets (a stack a first preview created)": func(o *Orchestrator) error {
			_, err := o.Up(ctx, "secrets")
			return err
		},
	} {
		f, o := upAll(t)
		switch name {
		case "up:secrets (a new stack)":
			delete(f.stacks, "secrets")
			delete(f.outputs, "secrets")
		case "up:secrets (a stack a first preview created)":
			f.stacks["secrets"] = Config{} // no region yet, nothing deployed
			delete(f.outputs, "secrets")
		}
		f.calls = nil
		o.Env = envFrom(t, map[string]string{"ENV": "dev", "AWS_REGION": "eu-west-1"})
		err := op(o)
		var ce *ConfigConflictError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), "aws:region is us-east-1 in the stack, but AWS_REGION=eu-west-1") {
			t.Errorf("%s: err = %v, want the region conflict", name, err)
		}
		if n := len(f.ops("destroy")) + len(f.ops("up")) + len(f.ops("preview")); n != 0 {
			t.Errorf("%s: ran %v", name, f.calls)
		}
	}
}

// A deployed stack whose config file is missing from the checkout (its
// config has no environmentSuffix) stops the deploy and the preview of
// that layer before anything runs: the defaults would replace what the
// file held. A stack a first preview created (nothing deployed) does not.
func TestDeployedStackWithoutItsConfigStops(t *testing.T) {
	for name, op := range map[string]func(o *Orchestrator) error{
		"up:kms":      func(o *Orchestrator) error { _, err := o.Up(context.Background(), "kms"); return err },
		"preview:kms": func(o *Orchestrator) error { _, err := o.Preview(context.Background(), "kms"); return err },
		"deployAll":   func(o *Orchestrator) error { _, err := o.DeployAll(context.Background(), ""); return err },
	} {
		f, o := upAll(t)
		f.stacks["kms"] = Config{} // the file is gone; the stack is deployed
		f.calls = nil
		err := op(o)
		if err == nil || !strings.Contains(err.Error(), "stacks/kms/Pulumi.dev.yaml is missing from this checkout") {
			t.Errorf("%s: err = %v", name, err)
		}
		if slices.Contains(f.calls, "up kms") || slices.Contains(f.calls, "preview kms") {
			t.Errorf("%s: ran %v", name, f.calls)
		}
	}
	f := newFake()
	o := newOrch(f, &bytes.Buffer{})
	f.stacks["network"] = Config{} // created by a first preview, nothing deployed
	if _, err := o.DeployAll(context.Background(), ""); err != nil {
		t.Fatalf("deployAll after a first preview: %v", err)
	}
}
