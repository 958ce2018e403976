package deploy

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// Destroying a production environment explains, before it asks, what
// stays and how to remove each piece deliberately; an ephemeral one asks
// without it.
func TestDestroyAllOfProductionExplainsWhatStays(t *testing.T) {
	for _, class := range []string{"production", "ephemeral", ""} {
		t.Run("class "+class, func(t *testing.T) {
			f, o := upAll(t)
			if class != "" {
				for _, l := range testLayers {
					f.stacks[l.Name][l.Project+":environmentClass"] = ConfigValue{Value: class}
				}
			}
			var out bytes.Buffer
			o.Out = &out
			var before string
			o.Confirm = func(_ context.Context, prompt string) (bool, error) {
				before = out.String()
				return false, nil
			}
			if err := o.DestroyAll(context.Background()); err == nil {
				t.Fatal("destroy went on without a yes")
			}
			shown := strings.Contains(before, "PRODUCTION environment")
			if shown != (class == "production") {
				t.Fatalf("class %q: notice shown = %v before the question:\n%s", class, shown, before)
			}
			if class != "production" {
				return
			}
			for _, want := range []string{
				"environmentClass=production in secrets, database, kms, network",
				"protected resources", "pulumi state unprotect",
				"--no-deletion-protection",
				"final snapshot", "finalSnapshotIdentifier", "aws rds describe-db-cluster-snapshots", "aws rds delete-db-cluster-snapshot",
				"30-day recovery window", "aws secretsmanager delete-secret --secret-id <arn> --force-delete-without-recovery",
				"Object Lock", "s3:BypassGovernanceRetention", "readable only while their keys exist",
				`docs/runbooks.md, "Retiring a production environment"`,
			} {
				if !strings.Contains(before, want) {
					t.Errorf("the notice lacks %q", want)
				}
			}
			if len(f.ops("destroy")) != 0 {
				t.Fatal("destroyed without confirmation")
			}
		})
	}
}

// destroy:<layer> of a production layer says the same.
func TestDestroyOfAProductionLayerExplains(t *testing.T) {
	f, o := upAll(t)
	f.stacks["secrets"]["vault-secrets:environmentClass"] = ConfigValue{Value: "production"}
	var out bytes.Buffer
	o.Out = &out
	if err := o.Destroy(context.Background(), "secrets"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "environmentClass=production in secrets)") {
		t.Fatalf("no notice:\n%s", out.String())
	}
}
