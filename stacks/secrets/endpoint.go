package secrets

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// secretsManagerURL is where the rotator calls Secrets Manager: the network
// layer's URL when it gives one (an endpoint without private DNS in a VPC
// the vault does not own is reached only by its own name), else the
// regional name, which the endpoint's private DNS resolves to its network
// interfaces in the VPC (network stacks deployed before the URL was an
// output always had private DNS).
func secretsManagerURL(args *Args) pulumi.StringOutput {
	regional := fmt.Sprintf("https://secretsmanager.%s.amazonaws.com", args.Region)
	if args.SecretsManagerEndpoint == nil {
		return pulumi.String(regional).ToStringOutput()
	}
	return args.SecretsManagerEndpoint.ToStringOutput().ApplyT(func(url string) string {
		if url == "" {
			return regional
		}
		return url
	}).(pulumi.StringOutput)
}
