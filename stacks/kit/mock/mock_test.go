package mock_test

import (
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dbvault/dbvault/stacks/kit"
	"github.com/dbvault/dbvault/stacks/kit/mock"
)

// probe is a tiny layer that exercises what the real layers rely on: the
// common config, the tag transformation, a StackReference with a secret
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
		})
		if err != nil {
			return nil, err
		}
		key, err := kms.NewKey(ctx, "key", &kms.KeyArgs{EnableKeyRotation: pulumi.Bool(true)})
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
	for _, typ := range []string{"aws:ec2/vpc:Vpc", "aws:kms/key:Key"} {
		rs := res.ByType(typ)
		if len(rs) != 1 {
			t.Fatalf("%s: %d resources", typ, len(rs))
		}
		tags := rs[0].Inputs["tags"].ObjectValue()
		want := map[string]string{"Environment": "dev", "CostCenter": "cc-7", "Compliance": kit.DefaultCompliance}
		for k, v := range want {
			if got := tags[resourceKey(k)]; !got.IsString() || got.StringValue() != v {
				t.Errorf("%s tag %s = %v, want %q", typ, k, got, v)
			}
		}
	}
	if name := res.ByType("aws:ec2/vpc:Vpc")[0].Inputs["tags"].ObjectValue()["Name"]; name.StringValue() != "vpc-dev" {
		t.Errorf("own Name tag lost: %v", name)
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

func resourceKey(k string) resource.PropertyKey { return resource.PropertyKey(k) }
