package network

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dbvault/dbvault/stacks/kit"
)

// SecretsManagerActions are what workloads inside the VPC may ask of Secrets
// Manager through its endpoint: the rotator's four steps, its password
// generator, and the reads an application does. Administration (creating,
// deleting, changing policies or rotation) goes through the public endpoint
// from the operators' own networks.
var SecretsManagerActions = []string{
	"secretsmanager:DescribeSecret",
	"secretsmanager:GetSecretValue",
	"secretsmanager:PutSecretValue",
	"secretsmanager:UpdateSecretVersionStage",
	"secretsmanager:ListSecretVersionIds",
}

// KMSActions are what workloads inside the VPC may ask of KMS through its
// endpoint: using this account's keys, never managing them.
var KMSActions = []string{
	"kms:Decrypt",
	"kms:DescribeKey",
	"kms:Encrypt",
	"kms:GenerateDataKey",
	"kms:GenerateDataKeyWithoutPlaintext",
}

// endpointOut is an interface endpoint the vault uses: its ID, its own DNS
// name, and the URL a client in the VPC calls the service by through it.
type endpointOut struct {
	id, dns, url pulumi.StringOutput
}

// endpointFor is the vault's endpoint for service: existing, when its ID is
// given (no endpoint is created, so its private DNS is not duplicated, which
// AWS would refuse; the endpoints group is associated with it so the
// rotator's rules reach it), else a new interface endpoint in every private
// subnet, with private DNS when privateDNS is set.
func (b builder) endpointFor(service string, existingID pulumi.StringInput, privateDNS bool, p placement, sg *ec2.SecurityGroup, policy kit.PolicyDocument) (endpointOut, error) {
	if existingID != nil {
		return b.existingEndpoint(service, existingID, p, sg)
	}
	e, err := b.endpoint(service, p.vpcID, p.subnetIDs, privateDNS, sg, policy)
	if err != nil {
		return endpointOut{}, err
	}
	dns := e.DnsEntries.ApplyT(func(entries []ec2.VpcEndpointDnsEntry) (string, error) {
		return ownDNSName(service, entries)
	}).(pulumi.StringOutput)
	url := pulumi.String(RegionalURL(b.args.Region, service)).ToStringOutput()
	if !privateDNS {
		// Without private DNS the regional name still resolves to the
		// service's public addresses, which this VPC cannot reach; the
		// endpoint's own (endpoint-specific regional) DNS name resolves to
		// its network interfaces from anywhere:
		// https://docs.aws.amazon.com/vpc/latest/privatelink/privatelink-access-aws-services.html
		// ("DNS hostnames").
		url = dns.ApplyT(func(name string) string { return "https://" + name }).(pulumi.StringOutput)
	}
	return endpointOut{id: e.ID().ToStringOutput(), dns: dns, url: url}, nil
}

// EndpointDNSName is an interface endpoint's own regional DNS name among
// its DNS entries (vpce-<id>.<service>.<region>.vpce.amazonaws.com). The
// entries also hold one name per zone, the regional name's first label
// followed by the zone (vpce-<id>-<zone>.<service>...), which reaches only
// that zone's interface, and, with private DNS, the service's regional
// name (https://docs.aws.amazon.com/neptune-analytics/latest/userguide/gettingStarted-connecting-private-link-access.html
// shows both endpoint-specific forms). AWS documents no order for them, so
// the shortest vpce- name is the regional one; "" when there is none.
func EndpointDNSName(names []string) string {
	var best string
	for _, n := range names {
		if strings.HasPrefix(n, "vpce-") && (best == "" || len(n) < len(best)) {
			best = n
		}
	}
	return best
}

// ownDNSName is EndpointDNSName of a created endpoint's DNS entries; none
// is an error, not an empty URL for the vault's clients.
func ownDNSName(service string, entries []ec2.VpcEndpointDnsEntry) (string, error) {
	var names []string
	for _, d := range entries {
		if d.DnsName != nil {
			names = append(names, *d.DnsName)
		}
	}
	if name := EndpointDNSName(names); name != "" {
		return name, nil
	}
	return "", fmt.Errorf("network: the %s endpoint has no DNS name of its own (vpce-...) among %v", service, names)
}

// RegionalURL is the service's default regional endpoint, which private DNS
// makes resolve to the VPC's interface endpoint.
func RegionalURL(region, service string) string {
	return fmt.Sprintf("https://%s.%s.amazonaws.com", service, region)
}

// endpoint creates an interface endpoint for service in every private
// subnet. Private DNS puts a private hosted zone for the service's default
// name (e.g. secretsmanager.<region>.amazonaws.com) on the whole VPC, so
// every caller in it, not only the vault's, then goes through this
// endpoint, its security group and its policy (EC2 API reference,
// CreateVpcEndpoint, PrivateDnsEnabled:
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVpcEndpoint.html),
// and a VPC that already has an endpoint with private DNS for the service
// refuses a second ("private-dns-enabled cannot be set because there is
// already a conflicting DNS domain", terraform-provider-aws issue #17535).
func (b builder) endpoint(service string, vpcID pulumi.StringInput, subnets pulumi.StringArrayInput, privateDNS bool, sg *ec2.SecurityGroup, policy kit.PolicyDocument) (*ec2.VpcEndpoint, error) {
	doc, err := policy.JSON()
	if err != nil {
		return nil, fmt.Errorf("network: %s endpoint policy: %w", service, err)
	}
	_, tags := b.named(service + "-endpoint")
	return ec2.NewVpcEndpoint(b.ctx, b.names.Logical(service+"-endpoint"), &ec2.VpcEndpointArgs{
		VpcId:             vpcID,
		ServiceName:       pulumi.String(ServiceName(b.args.Region, service)),
		VpcEndpointType:   pulumi.String("Interface"),
		PrivateDnsEnabled: pulumi.Bool(privateDNS),
		SubnetIds:         subnets,
		SecurityGroupIds:  pulumi.StringArray{sg.ID().ToStringOutput()},
		Policy:            pulumi.String(doc),
		Tags:              tags,
	}, b.parent)
}

// ServiceName is the endpoint service of an AWS service in region.
func ServiceName(region, service string) string {
	return fmt.Sprintf("com.amazonaws.%s.%s", region, service)
}

// accountOnly is the condition every endpoint statement carries: the caller
// belongs to this account.
func accountOnly(account string) map[string]map[string]any {
	return map[string]map[string]any{"StringEquals": {"aws:PrincipalAccount": account}}
}

// SecretsManagerPolicy is the Secrets Manager endpoint's policy: this
// account's principals, this account's secrets, the actions workloads need.
func SecretsManagerPolicy(region, account string) kit.PolicyDocument {
	return kit.NewPolicy(
		kit.Statement{
			Sid:       "AccountSecretsOnly",
			Effect:    "Allow",
			Principal: "*",
			Action:    SecretsManagerActions,
			Resource:  fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:*", region, account),
			Condition: accountOnly(account),
		},
		kit.Statement{
			// GetRandomPassword acts on no resource (Service Authorization
			// Reference), so "*" is the only resource it accepts.
			Sid:       "RandomPassword",
			Effect:    "Allow",
			Principal: "*",
			Action:    "secretsmanager:GetRandomPassword",
			Resource:  "*",
			Condition: accountOnly(account),
		},
	)
}

// KMSPolicy is the KMS endpoint's policy: this account's principals using
// this account's keys.
func KMSPolicy(region, account string) kit.PolicyDocument {
	return kit.NewPolicy(kit.Statement{
		Sid:       "AccountKeysOnly",
		Effect:    "Allow",
		Principal: "*",
		Action:    KMSActions,
		Resource:  fmt.Sprintf("arn:aws:kms:%s:%s:key/*", region, account),
		Condition: accountOnly(account),
	})
}
