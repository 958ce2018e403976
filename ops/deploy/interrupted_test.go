package deploy

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/sig"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
)

// pendingRule is the secrets layer's rule, left as a pending create.
var pendingRule = PendingCreate{
	URN:  "urn:pulumi:dev::vault-secrets::" + ruleType + "::secret-changes",
	Type: ruleType,
	Name: "secret-changes-dev",
}

// A stack that records an interrupted create stops every plan of its
// layer, before the name lookup (which would blame a namesake of the
// account for the layer's own resource), the question and any up; the
// refusal names the resource and both ways to resolve it.
func TestInterruptedCreateStopsThePlan(t *testing.T) {
	for name := range plans(nil, "secrets") {
		t.Run(name, func(t *testing.T) {
			f, o, asked, _ := deployed(t)
			names := &fakeNames{rules: []string{"secret-changes-dev"}}
			o.Names = &NameLookup{Rules: names, Alarms: names}
			f.steps["secrets"] = []Step{secretsStep(ruleType, "secret-changes", "create", "secret-changes-dev")}
			f.interrupted["secrets"] = []PendingCreate{pendingRule}
			err := plans(o, "secrets")[name]()
			var ie *InterruptedError
			if !errors.As(err, &ie) || ie.Layer != "secrets" || len(ie.Creates) != 1 {
				t.Fatalf("err = %v, want the secrets layer's interrupted create refused", err)
			}
			for _, want := range []string{pendingRule.URN, `"secret-changes-dev"`, "nothing in layer secrets was changed",
				"--import-pending-creates <URN> --import-pending-creates <ID>", "--clear-pending-creates", "stacks/secrets"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("the refusal lacks %q: %v", want, err)
				}
			}
			if len(names.calls) != 0 || len(f.ops("up")) != 0 || len(*asked) != 0 {
				t.Fatalf("looked up %v, asked %d question(s), up ran for %v", names.calls, len(*asked), f.ops("up"))
			}
		})
	}
}

// Another layer's interrupted create does not stop this layer's up.
func TestInterruptedCreateOfAnotherLayer(t *testing.T) {
	f, o, _, _ := deployed(t)
	f.interrupted["secrets"] = []PendingCreate{pendingRule}
	if _, err := o.Up(context.Background(), "database"); err != nil {
		t.Fatal(err)
	}
	if got := f.ops("up"); !slices.Equal(got, []string{"database"}) {
		t.Fatalf("up calls %v, want database", got)
	}
}

// A destroy cannot see what an interrupted create left in AWS: it destroys
// every layer, names each such resource, and ends in an error naming the
// layers, so a cleanup job does not pass with resources left behind.
func TestDestroyNamesWhatAnInterruptedCreateLeft(t *testing.T) {
	f, o, _, out := deployed(t)
	f.interrupted["secrets"] = []PendingCreate{pendingRule}
	err := o.DestroyAll(context.Background())
	if err == nil || !strings.Contains(err.Error(), "the stacks of secrets record creates an interrupted run began") {
		t.Fatalf("err = %v, want the destroy to report what may remain", err)
	}
	if got := f.ops("destroy"); !slices.Equal(got, []string{"secrets", "database", "kms", "network"}) {
		t.Fatalf("destroy calls %v, want every layer", got)
	}
	for _, want := range []string{"WARNING: stack organization/vault-secrets/dev records 1 create(s)", pendingRule.URN, "--clear-pending-creates"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestPendingCreates(t *testing.T) {
	op := func(typ apitype.OperationType, urn string, inputs map[string]any) apitype.OperationV2 {
		u := resource.URN(urn)
		return apitype.OperationV2{Type: typ, Resource: apitype.ResourceV3{URN: u, Type: tokens.Type(u.Type()), Inputs: inputs}}
	}
	secretName := map[string]any{sig.Key: sig.Secret, "ciphertext": "v1:abc"}
	d := apitype.DeploymentV3{PendingOperations: []apitype.OperationV2{
		op(apitype.OperationTypeCreating, pendingRule.URN, map[string]any{"name": "secret-changes-dev"}),
		op(apitype.OperationTypeUpdating, "urn:pulumi:dev::vault-secrets::aws:sns/topic:Topic::alerts", map[string]any{"name": "alerts-dev"}),
		op(apitype.OperationTypeCreating, "urn:pulumi:dev::vault-secrets::aws:kms/key:Key::logs", map[string]any{"description": "logs"}),
		op(apitype.OperationTypeCreating, "urn:pulumi:dev::vault-secrets::aws:iam/role:Role::hidden", map[string]any{"name": secretName}),
		op(apitype.OperationTypeCreating, "urn:pulumi:dev::vault-database::aws:rds/cluster:Cluster::aurora", map[string]any{"clusterIdentifier": "aurora-cluster-dev"}),
	}}
	got := pendingCreates(d)
	want := []PendingCreate{
		pendingRule,
		{URN: "urn:pulumi:dev::vault-secrets::aws:kms/key:Key::logs", Type: "aws:kms/key:Key"},
		{URN: "urn:pulumi:dev::vault-secrets::aws:iam/role:Role::hidden", Type: "aws:iam/role:Role"},
		{URN: "urn:pulumi:dev::vault-database::aws:rds/cluster:Cluster::aurora", Type: "aws:rds/cluster:Cluster", Name: "aurora-cluster-dev"},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("pendingCreates = %+v, want %+v", got, want)
	}
	if s := got[2].String(); strings.Contains(s, "ciphertext") || strings.Contains(s, "named") {
		t.Errorf("a secret name is shown: %s", s)
	}
}
