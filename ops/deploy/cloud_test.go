package deploy

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"

	"github.com/dbvault/dbvault/stacks/kit"
)

// namingRunner is the fake runner that also records the stack name of
// every call and knows its backend's organisation, as Auto does.
type namingRunner struct {
	*fakeRunner
	org    string
	orgErr error
	names  []string
}

func (n *namingRunner) Org(context.Context) (string, error) { return n.org, n.orgErr }

func (n *namingRunner) name(s string) { n.names = append(n.names, s) }

func (n *namingRunner) Exists(ctx context.Context, l kit.Layer, s string) (bool, error) {
	n.name(s)
	return n.fakeRunner.Exists(ctx, l, s)
}

func (n *namingRunner) Config(ctx context.Context, l kit.Layer, s string) (map[string]string, bool, error) {
	n.name(s)
	return n.fakeRunner.Config(ctx, l, s)
}

func (n *namingRunner) Up(ctx context.Context, l kit.Layer, s string, cfg Config) (Result, error) {
	n.name(s)
	return n.fakeRunner.Up(ctx, l, s, cfg)
}

func (n *namingRunner) Preview(ctx context.Context, l kit.Layer, s string, cfg Config) (Result, error) {
	n.name(s)
	return n.fakeRunner.Preview(ctx, l, s, cfg)
}

func (n *namingRunner) Destroy(ctx context.Context, l kit.Layer, s string) (Result, error) {
	n.name(s)
	return n.fakeRunner.Destroy(ctx, l, s)
}

func (n *namingRunner) Outputs(ctx context.Context, l kit.Layer, s string) (Outputs, error) {
	n.name(s)
	return n.fakeRunner.Outputs(ctx, l, s)
}

// Every stack the runner is asked about is named fully qualified, in the
// backend's organisation when PULUMI_ORG is not set, and the references
// seeded into the later layers name the same stacks.
func TestStacksAreFullyQualifiedInTheBackendsOrganisation(t *testing.T) {
	n := &namingRunner{fakeRunner: newFake(), org: "acme"}
	var out bytes.Buffer
	o := newOrch(n.fakeRunner, &out)
	o.Runner = n
	if _, err := o.DeployAll(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	if len(n.names) == 0 {
		t.Fatal("no runner call")
	}
	for _, s := range n.names {
		if parts := strings.Split(s, "/"); len(parts) != 3 || parts[0] != "acme" || parts[2] != "dev" || !strings.HasPrefix(parts[1], "vault-") {
			t.Fatalf("runner got stack %q, want acme/vault-<layer>/dev", s)
		}
	}
	if got := n.stacks["secrets"]["vault-secrets:networkStack"].Value; got != "acme/vault-network/dev" {
		t.Fatalf("networkStack seed = %q", got)
	}
	if !strings.Contains(out.String(), "organisation acme, the backend's") {
		t.Fatalf("the organisation is not announced:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "up (stack acme/vault-secrets/dev)") {
		t.Fatalf("progress does not name the qualified stack:\n%s", out.String())
	}
}

// PULUMI_ORG wins over the backend's organisation, which is then not
// asked for; a backend that cannot say stops before anything runs.
func TestPulumiOrgWinsAndAnUnknownOrgStops(t *testing.T) {
	n := &namingRunner{fakeRunner: newFake(), orgErr: errors.New("must not be asked")}
	o := newOrch(n.fakeRunner, &bytes.Buffer{})
	o.Runner = n
	o.Env.Org, o.Env.FromEnv = "team-a", map[string]bool{VarOrg: true}
	if _, err := o.DeployAll(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(n.names, "team-a/vault-kms/dev") {
		t.Fatalf("stacks = %v", n.names)
	}

	n = &namingRunner{fakeRunner: newFake(), orgErr: errors.New("not logged in")}
	o = newOrch(n.fakeRunner, &bytes.Buffer{})
	o.Runner = n
	_, err := o.DeployAll(context.Background(), "")
	if err == nil || !strings.Contains(err.Error(), "PULUMI_ORG") {
		t.Fatalf("err = %v, want one naming PULUMI_ORG", err)
	}
	if len(n.calls) != 0 {
		t.Fatalf("runner called: %v", n.calls)
	}
	if _, err := o.Outputs(context.Background(), "network"); err == nil {
		t.Fatal("outputs ran without an organisation")
	}
}

// A self-managed backend's organisation is "organization", without
// asking the CLI (a file backend knows no other).
func TestSelfManagedBackendsOrganisation(t *testing.T) {
	for _, url := range []string{"file:///tmp/state", "s3://bucket", "gs://b", "azblob://c", "postgres://h/db"} {
		a := &Auto{StacksDir: t.TempDir(), BackendURL: url, PulumiRoot: "/nonexistent"}
		org, err := a.Org(context.Background())
		if err != nil || org != DefaultOrg {
			t.Fatalf("%s: Org = %q, %v", url, org, err)
		}
	}
	for _, url := range []string{"https://api.pulumi.com", "https://pulumi.example.com"} {
		if SelfManaged(url) {
			t.Fatalf("%s counted as self-managed", url)
		}
	}
}

// A value only the project file declares (its default) is not the
// stack's: the seeds for it are written. The stack file's values, and a
// value from elsewhere (an ESC environment) that differs from the
// default, are the stack's.
func TestProjectDefaultsAreNotTheStacks(t *testing.T) {
	str := func(s string) *string { return &s }
	declared := map[string]workspace.ProjectConfigType{
		"costCenter":        {Type: str("string"), Default: "platform-security"},
		"compliance":        {Type: str("string"), Default: "soc2"},
		"networkStack":      {Type: str("string"), Default: ""},
		"environment":       {Type: str("string"), Default: ""},
		"azCount":           {Type: str("integer"), Default: 3},
		"environmentSuffix": {Type: str("string")},
	}
	have := auto.ConfigMap{
		"p:costCenter":        {Value: "platform-security"}, // project default only
		"p:compliance":        {Value: "soc2"},              // in the stack file
		"p:networkStack":      {Value: ""},                  // project default only
		"p:environment":       {Value: "prod-tag"},          // from an ESC environment
		"p:azCount":           {Value: "3"},                 // project default only
		"p:environmentSuffix": {Value: "dev"},
		"aws:region":          {Value: "eu-west-1"},
	}
	got := withoutProjectDefaults(have, "p", declared, map[string]bool{"p:compliance": true})
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"aws:region", "p:compliance", "p:environment", "p:environmentSuffix"}; !slices.Equal(keys, want) {
		t.Fatalf("the stack's own keys = %v, want %v", keys, want)
	}
}
