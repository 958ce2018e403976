package kit

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Tags are the compliance tags that every taggable resource carries.
type Tags struct {
	Environment string
	CostCenter  string
	Compliance  string
}

// TagKeys are the compliance tags' keys.
var TagKeys = []string{"Environment", "CostCenter", "Compliance"}

// Map returns the tags under the keys AWS resources carry them.
func (t Tags) Map() map[string]string {
	return map[string]string{
		"Environment": t.Environment,
		"CostCenter":  t.CostCenter,
		"Compliance":  t.Compliance,
	}
}

// Validate refuses an empty tag value: a resource tagged with "" is as
// untraceable as one without the tag.
func (t Tags) Validate() error {
	m := t.Map()
	for _, k := range TagKeys {
		if m[k] == "" {
			return fmt.Errorf("tag %s must not be empty", k)
		}
	}
	return nil
}

// ProviderName is the logical name of the stack's AWS provider, and
// ProviderTypeAWS the type it registers under.
const (
	ProviderName    = "aws"
	ProviderTypeAWS = "pulumi:providers:aws"
)

// NewProvider returns the AWS provider every resource and invoke of a stack
// goes through: the region, and the compliance tags as the provider's
// defaultTags. The AWS provider merges default tags into every resource
// that takes tags (its tagsAll), so no resource can miss them; a resource's
// own tag of the same key would win, which is why resources set only their
// Name and policy TAG-002 refuses any other. Sources: the Terraform AWS
// provider's default_tags (https://www.hashicorp.com/blog/default-tags-in-the-terraform-aws-provider:
// "all resources except Auto Scaling Groups", "resource tags take
// precedence"), which pulumi-aws bridges; this vault creates no Auto
// Scaling group.
//
// Moving an existing stack from the default provider to this one replaces
// nothing: the engine asks the new provider's DiffConfig whether its
// resources must be replaced (pulumi/pulumi#18509, in the engine since
// v3.150), and pulumi-aws marks only `region` ForcesProviderReplace
// (pulumi-aws provider/resources.go, Config; the bridge's configDiffer in
// pulumi-terraform-bridge pkg/tfbridge/provider.go). The resources' own tags
// then lose the compliance keys while tagsAll keeps them: an update, with
// no change in AWS. Unconfirmed offline; the rehearsal checks the engine's
// side with its stand-in and `go run mage.go verify` reads the tags back.
//
// Resources AWS creates on the vault's behalf are outside any provider's
// defaultTags: RDS's managed master secret, the Lambda's network
// interfaces, the cluster's snapshots (the cluster copies its tags to them:
// copyTagsToSnapshot).
//
// It sets no account guard: the layers' programs pass the stack's
// aws:allowedAccountIds and aws:forbiddenAccountIds (LoadCommon), and a
// program that builds its own provider sets AllowedAccountIds itself.
func NewProvider(ctx *pulumi.Context, name, region string, t Tags, opts ...pulumi.ResourceOption) (*aws.Provider, error) {
	return newProvider(ctx, name, region, t, accountGuard{}, opts...)
}

// newProvider is NewProvider with the account guards of g.
func newProvider(ctx *pulumi.Context, name, region string, t Tags, g accountGuard, opts ...pulumi.ResourceOption) (*aws.Provider, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	args := &aws.ProviderArgs{
		Region:      pulumi.String(region),
		DefaultTags: &aws.ProviderDefaultTagsArgs{Tags: pulumi.ToStringMap(t.Map())},
	}
	if len(g.Allowed) > 0 {
		args.AllowedAccountIds = pulumi.ToStringArray(g.Allowed)
	}
	if len(g.Forbidden) > 0 {
		args.ForbiddenAccountIds = pulumi.ToStringArray(g.Forbidden)
	}
	return aws.NewProvider(ctx, name, args, opts...)
}
