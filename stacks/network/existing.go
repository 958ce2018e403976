package network

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Existing is a network the vault is placed in instead of creating its
// own: an existing VPC and its private subnets, and optionally the
// interface endpoints it already has. Any value may come from another
// resource; a plain value is checked by NewNetwork, one from another
// resource when it is known, and both against AWS at preview
// (LookupExisting).
type Existing struct {
	// VpcID is the VPC. Required: a VPC ID (vpc-<hex>).
	VpcID pulumi.StringInput
	// SubnetIDs are its private subnets. Required: at least MinAZCount
	// (2) subnet IDs (subnet-<hex>), in different zones.
	SubnetIDs pulumi.StringArrayInput
	// SecretsManagerEndpointID and KMSEndpointID are the VPC's interface
	// endpoints for those services (with or without private DNS), each a
	// VPC endpoint ID (vpce-<hex>). Zero (nil) means the component creates
	// that endpoint.
	SecretsManagerEndpointID pulumi.StringInput
	KMSEndpointID            pulumi.StringInput
	// PrivateDNS gives the endpoints the component creates private DNS,
	// which sends every workload of the VPC that calls those services
	// through them. Zero (false) means no private DNS: the vault's clients
	// call the endpoints by their own DNS names (outputs
	// secretsManagerEndpointUrl, kmsEndpointUrl) and the rest of the VPC
	// is unaffected.
	PrivateDNS bool
}

var (
	vpcIDPattern      = regexp.MustCompile(`^vpc-[0-9a-f]{8,17}$`)
	subnetIDPattern   = regexp.MustCompile(`^subnet-[0-9a-f]{8,17}$`)
	endpointIDPattern = regexp.MustCompile(`^vpce-[0-9a-f]{8,17}$`)
)

// validate refuses the first invalid field of an existing network, naming
// it (Existing.<field>) and its rule. Values that come from other
// resources are checked when they are known.
func (e *Existing) validate() error {
	if e.VpcID == nil {
		return fmt.Errorf("Existing.VpcID is nil: an existing network needs its VPC (config existingVpcId)")
	}
	if e.SubnetIDs == nil {
		return fmt.Errorf("Existing.SubnetIDs is nil: an existing network needs its private subnets, at least %d, in different zones (config existingSubnetIds)", MinAZCount)
	}
	if id, ok := e.VpcID.(pulumi.String); ok && !vpcIDPattern.MatchString(string(id)) {
		return fmt.Errorf("Existing.VpcID %q is not a VPC ID (vpc-<hex>)", string(id))
	}
	if ids, ok := e.SubnetIDs.(pulumi.StringArray); ok {
		if len(ids) < MinAZCount {
			return fmt.Errorf("Existing.SubnetIDs names %d subnet(s); name the VPC's private subnets, at least %d, in different zones (pulumi config set --path 'existingSubnetIds[0]' subnet-...)", len(ids), MinAZCount)
		}
		for i, id := range ids {
			if s, ok := id.(pulumi.String); ok && !subnetIDPattern.MatchString(string(s)) {
				return fmt.Errorf("Existing.SubnetIDs[%d] %q is not a subnet ID (subnet-<hex>)", i, string(s))
			}
		}
	}
	for _, f := range []struct {
		name string
		id   pulumi.StringInput
	}{{"SecretsManagerEndpointID", e.SecretsManagerEndpointID}, {"KMSEndpointID", e.KMSEndpointID}} {
		if s, ok := f.id.(pulumi.String); ok && !endpointIDPattern.MatchString(string(s)) {
			//lint:ignore ST1005 the message starts with the argument's Go name
			return fmt.Errorf("Existing.%s %q is not a VPC endpoint ID (vpce-<hex>)", f.name, string(s))
		}
	}
	return nil
}

// existingNetwork is what the data sources tell about an existing network.
type existingNetwork struct {
	VpcID, Cidr               string
	SubnetIDs, Zones, ZoneIDs []string
}

// existing looks the network up and checks, at preview, what can be checked
// with data sources: the VPC resolves private DNS; every subnet is in it and
// does not give public addresses; they span at least MinAZCount zones; and no
// subnet's route table routes to an internet gateway. Every resource that
// uses the network waits for the check.
func (b builder) existing() (placement, error) {
	e := b.args.Existing
	checked := pulumi.All(e.VpcID, e.SubnetIDs).ApplyT(func(a []any) (existingNetwork, error) {
		return LookupExisting(b.ctx, a[0].(string), a[1].([]string), b.parent)
	})
	field := func(f func(existingNetwork) string) pulumi.StringOutput {
		return checked.ApplyT(func(v any) string { return f(v.(existingNetwork)) }).(pulumi.StringOutput)
	}
	list := func(f func(existingNetwork) []string) pulumi.StringArrayOutput {
		return checked.ApplyT(func(v any) []string { return f(v.(existingNetwork)) }).(pulumi.StringArrayOutput)
	}
	return placement{
		vpcID:     field(func(n existingNetwork) string { return n.VpcID }),
		cidr:      field(func(n existingNetwork) string { return n.Cidr }),
		subnetIDs: list(func(n existingNetwork) []string { return n.SubnetIDs }),
		zones:     list(func(n existingNetwork) []string { return n.Zones }),
		zoneIDs:   list(func(n existingNetwork) []string { return n.ZoneIDs }),
	}, nil
}

// LookupExisting reads an existing VPC and its subnets through the
// provider's data sources and refuses what the vault cannot use; each
// error names the resource and the fix.
func LookupExisting(ctx *pulumi.Context, vpcID string, subnetIDs []string, opts ...pulumi.InvokeOption) (existingNetwork, error) {
	vpc, err := ec2.LookupVpc(ctx, &ec2.LookupVpcArgs{Id: pulumi.StringRef(vpcID)}, opts...)
	if err != nil {
		return existingNetwork{}, fmt.Errorf("network: existingVpcId %s: %w", vpcID, err)
	}
	if !vpc.EnableDnsSupport || !vpc.EnableDnsHostnames {
		return existingNetwork{}, fmt.Errorf("network: existingVpcId %s: DNS support and DNS hostnames must both be on (the endpoints' private DNS needs them): turn them on in the VPC's settings", vpcID)
	}
	if len(subnetIDs) == 0 {
		return existingNetwork{}, fmt.Errorf("network: existingSubnetIds is empty; name the VPC's private subnets, in at least %d zones", MinAZCount)
	}
	n := existingNetwork{VpcID: vpcID, Cidr: vpc.CidrBlock}
	for i, id := range subnetIDs {
		if slices.Contains(n.SubnetIDs, id) {
			return existingNetwork{}, fmt.Errorf("network: existingSubnetIds[%d] %s is listed twice", i, id)
		}
		s, err := ec2.LookupSubnet(ctx, &ec2.LookupSubnetArgs{Id: pulumi.StringRef(id)}, opts...)
		if err != nil {
			return existingNetwork{}, fmt.Errorf("network: existingSubnetIds[%d] %s: %w", i, id, err)
		}
		switch {
		case s.VpcId != vpcID:
			return existingNetwork{}, fmt.Errorf("network: existingSubnetIds[%d] %s is in %s, not in existingVpcId %s", i, id, s.VpcId, vpcID)
		case s.MapPublicIpOnLaunch:
			return existingNetwork{}, fmt.Errorf("network: existingSubnetIds[%d] %s gives public IP addresses (mapPublicIpOnLaunch): name private subnets only", i, id)
		}
		if err := noInternetRoute(ctx, vpcID, id, opts...); err != nil {
			return existingNetwork{}, fmt.Errorf("network: existingSubnetIds[%d] %s: %w", i, id, err)
		}
		n.SubnetIDs = append(n.SubnetIDs, id)
		n.Zones = append(n.Zones, s.AvailabilityZone)
		n.ZoneIDs = append(n.ZoneIDs, s.AvailabilityZoneId)
	}
	distinct := slices.Compact(slices.Sorted(slices.Values(n.ZoneIDs)))
	if len(distinct) < MinAZCount {
		return existingNetwork{}, fmt.Errorf("network: existingSubnetIds are in %d zone(s) (%s); Aurora and the vault need subnets in at least %d", len(distinct), strings.Join(distinct, ", "), MinAZCount)
	}
	// One subnet per zone: an interface endpoint takes at most one subnet
	// of each zone (EC2 refuses more with DuplicateSubnetsInSameZone, "VPC
	// endpoint subnets should be in different availability zones", as
	// reported in terraform-aws-modules/terraform-aws-vpc#451), and Aurora's
	// instances go to the first two zones listed, which must differ.
	for i, z := range n.ZoneIDs {
		if j := slices.Index(n.ZoneIDs, z); j < i {
			return existingNetwork{}, fmt.Errorf("network: existingSubnetIds[%d] %s is in zone %s, as existingSubnetIds[%d] %s is: name one private subnet per zone", i, n.SubnetIDs[i], z, j, n.SubnetIDs[j])
		}
	}
	return n, nil
}

// noInternetRoute refuses a subnet whose route table (its own association,
// else the VPC's main table, which a subnet without one uses) routes to an
// internet gateway, a NAT gateway or an egress-only internet gateway
// (IPv6): the vault's subnets have no path to the internet of their own.
// Routes to a transit gateway, a peering connection or an appliance are
// private connectivity the team chose, and the rotator's security group
// admits only the database and the endpoints.
func noInternetRoute(ctx *pulumi.Context, vpcID, subnetID string, opts ...pulumi.InvokeOption) error {
	rt, err := ec2.LookupRouteTable(ctx, &ec2.LookupRouteTableArgs{SubnetId: pulumi.StringRef(subnetID)}, opts...)
	if err != nil {
		// No explicit association: the subnet uses the main route table.
		rt, err = ec2.LookupRouteTable(ctx, &ec2.LookupRouteTableArgs{
			VpcId:   pulumi.StringRef(vpcID),
			Filters: []ec2.GetRouteTableFilter{{Name: "association.main", Values: []string{"true"}}},
		}, opts...)
		if err != nil {
			return fmt.Errorf("its route table: %w", err)
		}
	}
	for _, r := range rt.Routes {
		var to string
		switch {
		case strings.HasPrefix(r.GatewayId, "igw-"):
			to = "internet gateway " + r.GatewayId
		case r.NatGatewayId != "":
			to = "NAT gateway " + r.NatGatewayId
		case r.EgressOnlyGatewayId != "":
			to = "egress-only internet gateway " + r.EgressOnlyGatewayId
		default:
			continue
		}
		return fmt.Errorf("route table %s routes %s to %s: the vault's subnets must have no path to the internet", rt.RouteTableId, r.CidrBlock+r.Ipv6CidrBlock, to)
	}
	return nil
}

// existingEndpoint checks an existing interface endpoint (this service, in
// the vault's VPC, available, with a DNS name) and associates the vault's
// endpoints group with it, so the rotator reaches it through the same
// rules as a created one. Its private DNS is left as it is: on, clients
// call the regional name; off, its own DNS name.
func (b builder) existingEndpoint(service string, id pulumi.StringInput, p placement, sg *ec2.SecurityGroup) (endpointOut, error) {
	want := ServiceName(b.args.Region, service)
	checked := pulumi.All(id, p.vpcID).ApplyT(func(a []any) (*ec2.LookupVpcEndpointResult, error) {
		id, vpcID := a[0].(string), a[1].(string)
		e, err := ec2.LookupVpcEndpoint(b.ctx, &ec2.LookupVpcEndpointArgs{Id: pulumi.StringRef(id)}, b.parent)
		if err != nil {
			return nil, fmt.Errorf("network: existing %s endpoint %s: %w", service, id, err)
		}
		switch {
		case e.ServiceName != want:
			return nil, fmt.Errorf("network: existing %s endpoint %s is an endpoint of %s, not %s", service, id, e.ServiceName, want)
		case e.VpcId != vpcID:
			return nil, fmt.Errorf("network: existing %s endpoint %s is in %s, not in the vault's VPC %s", service, id, e.VpcId, vpcID)
		case e.State != "" && e.State != "available":
			return nil, fmt.Errorf("network: existing %s endpoint %s is %s, not available", service, id, e.State)
		case existingDNSName(e) == "":
			return nil, fmt.Errorf("network: existing %s endpoint %s has no DNS name of its own (vpce-...)", service, id)
		}
		return e, nil
	})
	endpointID := checked.ApplyT(func(v any) string { return v.(*ec2.LookupVpcEndpointResult).Id }).(pulumi.StringOutput)
	url := checked.ApplyT(func(v any) string {
		e := v.(*ec2.LookupVpcEndpointResult)
		if e.PrivateDnsEnabled {
			return RegionalURL(b.args.Region, service)
		}
		return "https://" + existingDNSName(e)
	}).(pulumi.StringOutput)
	if _, err := ec2.NewSecurityGroupAssociation(b.ctx, b.names.Logical(service+"-endpoint-sg"), &ec2.SecurityGroupAssociationArgs{
		VpcEndpointId:   endpointID,
		SecurityGroupId: sg.ID(),
		// Added beside the endpoint's own groups, which stay.
		ReplaceDefaultAssociation: pulumi.Bool(false),
	}, b.parent); err != nil {
		return endpointOut{}, err
	}
	dns := checked.ApplyT(func(v any) string { return existingDNSName(v.(*ec2.LookupVpcEndpointResult)) }).(pulumi.StringOutput)
	return endpointOut{id: endpointID, dns: dns, url: url}, nil
}

// existingDNSName is an existing endpoint's own regional DNS name.
func existingDNSName(e *ec2.LookupVpcEndpointResult) string {
	names := make([]string, 0, len(e.DnsEntries))
	for _, d := range e.DnsEntries {
		names = append(names, d.DnsName)
	}
	return EndpointDNSName(names)
}
