package mock_test

import (
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dbvault/dbvault/stacks/kit"
	"github.com/dbvault/dbvault/stacks/kit/mock"
)

// probe is a tiny layer that exercises what the real layers rely on: the
// common config, the tagging provider, a StackReference with a secret
// output, and typed outputs.
var probe = kit.Layer{
	Name:    "probe",
	Project: "vault-probe",
	Run: func(ctx *pulumi.Context) (pulumi.Map, error) {
		c, err := kit.LoadCommon(ctx)
		if err != nil {
			return nil, err
		}
		ref, err := pulumi.NewStackReference(ctx, "upstream", &pulumi.StackReferenceArgs{
			Name: pulumi.String(kit.StackName(ctx, "upstreamStack", "vault-up")),
		})
		if err != nil {
			return nil, err
		}
		vpc, err := ec2.NewVpc(ctx, "vpc", &ec2.VpcArgs{
			CidrBlock: pulumi.String("10.0.0.0/16"),
			Tags:      pulumi.StringMap{"Name": pulumi.String(c.Name("vpc")), "Environment": pulumi.String("overridden")},
		}, c.AWS())
		if err != nil {
			return nil, err
		}
		key, err := kms.NewKey(ctx, "key", &kms.KeyArgs{EnableKeyRotation: pulumi.Bool(true)}, c.AWS())
		if err != nil {
			return nil, err
		}
		return pulumi.Map{
			"vpcId":    vpc.ID(),
			"keyArn":   key.Arn,
			"password": ref.GetOutput(pulumi.String("password")),
		}, nil
	},
}

func TestRunRecordsTagsReferencesAndOutputs(t *testing.T) {
	res, err := mock.Run(probe, mock.RunOptions{
		Stack:  "dev",
		Config: map[string]string{"vault-probe:environmentSuffix": "dev", "vault-probe:costCenter": "cc-7"},
		StackOutputs: map[string]map[string]mock.Output{
			"organization/vault-up/dev": {"password": {Value: "s3cret", Secret: true}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.References) != 1 || res.References[0] != "organization/vault-up/dev" {
		t.Fatalf("references = %v", res.References)
	}
	providers := res.Providers
	if len(providers) != 1 {
		t.Fatalf("%d AWS providers, want the one LoadCommon creates", len(providers))
	}
	want := map[string]string{"Environment": "dev", "CostCenter": "cc-7", "Compliance": kit.DefaultCompliance}
	for _, typ := range []string{"aws:ec2/vpc:Vpc", "aws:kms/key:Key"} {
		rs := res.ByType(typ)
		if len(rs) != 1 {
			t.Fatalf("%s: %d resources", typ, len(rs))
		}
		r := rs[0]
		if r.Provider != providers[0].URN {
			t.Errorf("%s: provider %q, want %q", typ, r.Provider, providers[0].URN)
		}
		if !maps.Equal(r.DefaultTags, want) {
			t.Errorf("%s: provider's defaultTags %v, want %v", typ, r.DefaultTags, want)
		}
	}
	// The key sets no tags of its own: it carries the provider's.
	if got := res.ByType("aws:kms/key:Key")[0].Tags(); !maps.Equal(got, want) {
		t.Errorf("key tags = %v, want %v", got, want)
	}
	// A resource's own tag wins over a default tag of the same key, as in
	// the AWS provider (which is why policy TAG-002 refuses one).
	vpc := res.ByType("aws:ec2/vpc:Vpc")[0].Tags()
	if vpc["Environment"] != "overridden" || vpc["Name"] != "vpc-dev" || vpc["CostCenter"] != "cc-7" {
		t.Errorf("vpc tags = %v, want its own Environment and Name over the defaults", vpc)
	}
	// The probe's VPC sets Environment itself: the one tagging problem.
	if got := res.TaggingProblems(); len(got) != 1 || !strings.Contains(got[0], "vpc (aws:ec2/vpc:Vpc): sets its own Environment tag") {
		t.Errorf("tagging problems = %q, want the VPC's own Environment tag alone", got)
	}
	if o := res.Outputs["password"]; !o.Secret || o.Value != "s3cret" {
		t.Errorf("password output = %+v, want a secret", o)
	}
	if o := res.Outputs["keyArn"]; o.Secret || o.Value == "" {
		t.Errorf("keyArn output = %+v", o)
	}
}

func TestRunRefusesBadSuffix(t *testing.T) {
	_, err := mock.Run(probe, mock.RunOptions{Config: map[string]string{"vault-probe:environmentSuffix": "Bad_Suffix"}})
	if err == nil {
		t.Fatal("want an error for a malformed environmentSuffix")
	}
}

func TestRunFailsOnUnknownStackReference(t *testing.T) {
	_, err := mock.Run(probe, mock.RunOptions{Config: map[string]string{"vault-probe:environmentSuffix": "dev"}})
	if err == nil {
		t.Fatal("want an error when the referenced stack does not exist")
	}
}

// The stack's provider is explicit, so the stack's aws:* settings reach it
// only as LoadCommon passes them: the account guards are passed on, and any
// other setting is refused before anything is registered, not ignored.
func TestStackAWSSettings(t *testing.T) {
	base := func(extra map[string]string) map[string]string {
		cfg := map[string]string{"vault-probe:environmentSuffix": "dev"}
		maps.Copy(cfg, extra)
		return cfg
	}
	refs := map[string]map[string]mock.Output{"organization/vault-up/dev": {"password": {Value: "x"}}}
	for key, want := range map[string]string{
		"aws:profile":     "aws:profile is set, but the stack's AWS provider does not take it: remove it (pulumi config rm aws:profile); set credentials and their options in the environment instead (AWS_PROFILE",
		"aws:assumeRole":  "aws:assumeRole is set, but the stack's AWS provider does not take it",
		"aws:defaultTags": "the vault tags every resource itself",
	} {
		res, err := mock.Run(probe, mock.RunOptions{Stack: "dev", Config: base(map[string]string{key: `{"x":"y"}`}), StackOutputs: refs})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", key, err, want)
		}
		if len(res.Resources)+len(res.Providers) != 0 {
			t.Errorf("%s: %d resources and %d providers registered, want none", key, len(res.Resources), len(res.Providers))
		}
	}
	// As `pulumi config set --path 'aws:forbiddenAccountIds[0]' 444455556666`
	// stores it: a number.
	res, err := mock.Run(probe, mock.RunOptions{Stack: "dev", StackOutputs: refs, Config: base(map[string]string{
		"aws:allowedAccountIds":   `["111122223333"]`,
		"aws:forbiddenAccountIds": `[444455556666,"777788889999"]`,
	})})
	if err != nil {
		t.Fatal(err)
	}
	p := res.Providers[0]
	if got := fmt.Sprint(p.Input("allowedAccountIds")); got != "[111122223333]" {
		t.Errorf("provider's allowedAccountIds %s", got)
	}
	if got := fmt.Sprint(p.Input("forbiddenAccountIds")); got != "[444455556666 777788889999]" {
		t.Errorf("provider's forbiddenAccountIds %s", got)
	}
	for value, want := range map[string]string{"111122223333": "a list of account IDs", `["11112222"]`: "holds 11112222, not a 12-digit account ID", `[11112222]`: "holds 1.1112222e+07, not a 12-digit account ID"} {
		if _, err := mock.Run(probe, mock.RunOptions{Stack: "dev", StackOutputs: refs, Config: base(map[string]string{"aws:allowedAccountIds": value})}); err == nil ||
			!strings.Contains(err.Error(), "aws:allowedAccountIds") || !strings.Contains(err.Error(), want) {
			t.Errorf("aws:allowedAccountIds %s: err = %v, want %q", value, err, want)
		}
	}
}
