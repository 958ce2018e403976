package secrets

import (
	"fmt"
	"regexp"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// secretsManagerURL is where the rotator calls Secrets Manager: the network
// layer's URL when it gives one (an endpoint without private DNS in a VPC
// the vault does not own is reached only by its own name), else the
// regional name, which the endpoint's private DNS resolves to its network
// interfaces in the VPC (network stacks deployed before the URL was an
// output always had private DNS).
//
// The rotator sends every new password to this URL (PutSecretValue), so
// it must be Secrets Manager's: the regional name, or the DNS name AWS
// gives an interface endpoint of Secrets Manager in this region
// (vpce-<endpoint id>-<suffix>[-<zone>].secretsmanager.<region>.vpce.amazonaws.com:
// https://docs.aws.amazon.com/vpc/latest/privatelink/privatelink-access-aws-services.html#interface-endpoint-dns-hostnames).
// Any other value is refused, so whoever can change the network stack's
// output cannot point the rotator, and the passwords, at a host of theirs.
func secretsManagerURL(args *Args) pulumi.StringOutput {
	regional := fmt.Sprintf("https://secretsmanager.%s.amazonaws.com", args.Region)
	if args.SecretsManagerEndpoint == nil {
		return pulumi.String(regional).ToStringOutput()
	}
	endpoint := regexp.MustCompile(`^https://vpce-[0-9a-z]+-[0-9a-z]+(-[a-z0-9-]+)?\.secretsmanager\.` + regexp.QuoteMeta(args.Region) + `\.vpce\.amazonaws\.com$`)
	return args.SecretsManagerEndpoint.ToStringOutput().ApplyT(func(url string) (string, error) {
		switch {
		case url == "" || url == regional:
			return regional, nil
		case endpoint.MatchString(url):
			return url, nil
		}
		return "", fmt.Errorf("secrets: the network stack's secretsManagerEndpointUrl %q is neither %s nor a Secrets Manager interface endpoint's name in %s (https://vpce-<id>-<suffix>.secretsmanager.%s.vpce.amazonaws.com): the rotator sends every new password there, so it refuses any other host; fix the network stack's output", url, regional, args.Region, args.Region)
	}).(pulumi.StringOutput)
}
