// Package network is the vault's first layer (project vault-network): a
// private VPC with no route to the internet, the security groups of the
// rotator, the database and the interface endpoints, and the endpoints that
// let the rotator reach Secrets Manager and KMS without leaving the VPC.
package network

import (
	"fmt"
	"net/netip"
	"regexp"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dbvault/dbvault/stacks/kit"
)

// ComponentType is the type token of the layer's component resource.
const ComponentType = "dbvault:network:Network"

// Defaults and bounds of the layer's configuration.
const (
	DefaultVpcCidr = "10.40.0.0/16"
	DefaultAZCount = 3
	// MinAZCount is two: Aurora needs subnets in two AZs, and one AZ is one
	// outage away from losing the database.
	MinAZCount = 2
	// subnetBits is how many bits each private subnet adds to the VPC's
	// prefix: 16 subnets, a /20 each in the default /16.
	subnetBits = 4
	// MinVpcPrefix and MaxVpcPrefix bound the VPC's prefix length: AWS allows
	// /16 to /28, and a /24 still leaves /28 subnets (AWS's smallest).
	MinVpcPrefix = 16
	MaxVpcPrefix = 28 - subnetBits
)

// Ports the security groups open.
const (
	MySQLPort = 3306
	HTTPSPort = 443
)

// Args are the inputs of the network component. NewNetwork fills the zero
// value of every optional field with its default and refuses an invalid
// field, naming it, before it registers anything.
type Args struct {
	// Suffix is environmentSuffix, the last part of every name. Required:
	// lower-case letters, digits and single hyphens, at most 20 characters
	// (kit.ValidateSuffix).
	Suffix string
	// Region is the AWS region (service names of the endpoints). Required.
	Region string
	// AccountID is the AWS account whose principals the endpoints admit.
	// Required.
	AccountID string
	// VpcCidr is the IPv4 block of the VPC the component creates. Zero
	// means DefaultVpcCidr (10.40.0.0/16). It must be a private (RFC 1918)
	// IPv4 network address (no host bits), /16 to /24: each zone's subnet
	// is a sixteenth of it. Not used with Existing.
	VpcCidr netip.Prefix
	// AvailabilityZones get one private subnet each, in this order.
	// Required without Existing: at least MinAZCount (2) zones, and at
	// most 16 (VpcCidr holds 16 subnets). Not used with Existing.
	AvailabilityZones []string
	// AvailabilityZoneIDs are their zone IDs (use1-az1, ...), the same
	// physical zones in every account, unlike the names, in the same
	// order. Zero means none known: the availabilityZoneIds output is an
	// empty list. Not used with Existing.
	AvailabilityZoneIDs []string
	// AppSecurityGroupIDs may reach the database on 3306 and the endpoints
	// on 443 besides the rotator. Zero means none. Each must be set and
	// be a security group ID (sg-<hex>); they may come from other
	// resources (an ID known only at deploy time is checked then).
	AppSecurityGroupIDs []pulumi.StringInput
	// Existing, when set, is the network to use instead of creating one:
	// the component then creates only the security groups (and the
	// endpoints the VPC lacks); VpcCidr and the zones are not used. Zero
	// (nil) means the component creates its own VPC.
	Existing *Existing
}

// Network is the component: what the other layers need from the network.
type Network struct {
	pulumi.ResourceState

	VpcID                     pulumi.IDOutput
	VpcCidr                   pulumi.StringOutput
	PrivateSubnetIDs          pulumi.StringArrayOutput
	AvailabilityZones         pulumi.StringArrayOutput
	AvailabilityZoneIDs       pulumi.StringArrayOutput
	RotatorSecurityGroupID    pulumi.IDOutput
	DatabaseSecurityGroupID   pulumi.IDOutput
	EndpointSecurityGroupID   pulumi.IDOutput
	SecretsManagerEndpointID  pulumi.IDOutput
	SecretsManagerEndpointDNS pulumi.StringOutput
	KMSEndpointID             pulumi.IDOutput
	// SecretsManagerEndpointURL and KMSEndpointURL are what a client in the
	// VPC calls the services by: the regional name where the endpoint has
	// private DNS, else the endpoint's own DNS name.
	SecretsManagerEndpointURL pulumi.StringOutput
	KMSEndpointURL            pulumi.StringOutput
}

// NewNetwork builds the layer's resources as children of one component.
// The component's name names the vault (kit.NewNames): give the vault's four
// components the same name, or default ones.
func NewNetwork(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Network, error) {
	if args == nil {
		return nil, fmt.Errorf("network: args are nil: Suffix, Region and AccountID are required, and AvailabilityZones or Existing")
	}
	// A copy: the caller's Args keep their zero values. (Existing is
	// shared, and only read.)
	own := *args
	if err := own.applyDefaults(); err != nil {
		return nil, fmt.Errorf("network: %w", err)
	}
	args = &own
	names, err := kit.NewNames(name, args.Suffix)
	if err != nil {
		return nil, fmt.Errorf("network: %w", err)
	}
	n := &Network{}
	if err := ctx.RegisterComponentResource(ComponentType, name, n, opts...); err != nil {
		return nil, err
	}
	b := builder{ctx: ctx, args: args, names: names, parent: pulumi.Parent(n)}
	if err := b.build(n); err != nil {
		return nil, err
	}
	if err := ctx.RegisterResourceOutputs(n, n.Outputs()); err != nil {
		return nil, err
	}
	return n, nil
}

// Outputs are the layer's stack outputs, under the names the later layers
// read through their StackReferences.
func (n *Network) Outputs() pulumi.Map {
	return pulumi.Map{
		"vpcId":                     n.VpcID,
		"vpcCidr":                   n.VpcCidr,
		"privateSubnetIds":          n.PrivateSubnetIDs,
		"availabilityZones":         n.AvailabilityZones,
		"availabilityZoneIds":       n.AvailabilityZoneIDs,
		"rotatorSecurityGroupId":    n.RotatorSecurityGroupID,
		"databaseSecurityGroupId":   n.DatabaseSecurityGroupID,
		"endpointSecurityGroupId":   n.EndpointSecurityGroupID,
		"secretsManagerEndpointId":  n.SecretsManagerEndpointID,
		"secretsManagerEndpointDns": n.SecretsManagerEndpointDNS,
		"kmsEndpointId":             n.KMSEndpointID,
		"secretsManagerEndpointUrl": n.SecretsManagerEndpointURL,
		"kmsEndpointUrl":            n.KMSEndpointURL,
	}
}

// applyDefaults sets the default of every optional field left at its zero
// value and refuses the first invalid field, naming it and its rule.
func (a *Args) applyDefaults() error {
	if err := kit.ValidateSuffix(a.Suffix); err != nil {
		//lint:ignore ST1005 the message starts with the argument's Go name
		return fmt.Errorf("Suffix: %w", err)
	}
	if a.Region == "" {
		//lint:ignore ST1005 the message starts with the argument's Go name
		return fmt.Errorf("Region is empty: it is required (the region of the network and its endpoints' services)")
	}
	if a.AccountID == "" {
		return fmt.Errorf("AccountID is empty: it is required (the account whose principals the endpoints admit)")
	}
	for i, id := range a.AppSecurityGroupIDs {
		if id == nil {
			return fmt.Errorf("AppSecurityGroupIDs[%d] is nil: each must be a security group ID (sg-<hex>)", i)
		}
		// A plain ID is checked now; one from another resource when it is
		// known (appGroup).
		if s, ok := id.(pulumi.String); ok && !sgIDPattern.MatchString(string(s)) {
			return fmt.Errorf("AppSecurityGroupIDs[%d] %q is not a security group ID (sg-<hex>)", i, string(s))
		}
	}
	if a.Existing != nil {
		return a.Existing.validate()
	}
	if a.VpcCidr == (netip.Prefix{}) {
		a.VpcCidr = netip.MustParsePrefix(DefaultVpcCidr)
	}
	// Aurora's DB subnet group must cover at least two zones
	// (DBSubnetGroupDoesNotCoverEnoughAZs:
	// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBSubnetGroup.html).
	if len(a.AvailabilityZones) < MinAZCount {
		return fmt.Errorf("AvailabilityZones has %d zone(s): at least %d availability zones are needed (Aurora spans two)", len(a.AvailabilityZones), MinAZCount)
	}
	if _, err := SubnetCidrs(a.VpcCidr, len(a.AvailabilityZones)); err != nil {
		return err
	}
	return nil
}

// builder carries what every child resource needs.
type builder struct {
	ctx   *pulumi.Context
	args  *Args
	names kit.Names
	// parent makes a child of the component, and sends an invoke through
	// the component's provider.
	parent pulumi.ResourceOrInvokeOption
}

// named returns the physical name [<vault>-]{what}-{suffix} and a Name tag
// for it (the compliance tags come from the provider's defaultTags).
func (b builder) named(what string) (string, pulumi.StringMap) {
	n := b.names.Name(what)
	return n, pulumi.StringMap{"Name": pulumi.String(n)}
}

func (b builder) build(n *Network) error {
	ctx, args := b.ctx, b.args
	var p placement
	var err error
	if args.Existing != nil {
		p, err = b.existing()
	} else {
		p, err = b.newVpc()
	}
	if err != nil {
		return err
	}
	vpcID := p.vpcID
	rotator, err := b.securityGroup("rotator-sg", "dbvault rotator: egress only to the database (3306) and the endpoints (443)", vpcID)
	if err != nil {
		return err
	}
	database, err := b.securityGroup("database-sg", "dbvault database: 3306 only from the rotator and the application groups", vpcID)
	if err != nil {
		return err
	}
	endpoints, err := b.securityGroup("endpoints-sg", "dbvault interface endpoints: 443 only from the rotator and the application groups", vpcID)
	if err != nil {
		return err
	}

	// Rules as standalone resources, one per source or destination, so each
	// one is visible (and checked) on its own and none is ever implied.
	rules := []rule{
		{name: "rotator-to-database", egress: true, group: rotator, port: MySQLPort, peerGroup: database.ID(), desc: pulumi.String("rotator to the database")},
		{name: "rotator-to-endpoints", egress: true, group: rotator, port: HTTPSPort, peerGroup: endpoints.ID(), desc: pulumi.String("rotator to Secrets Manager and KMS endpoints")},
		{name: "database-from-rotator", group: database, port: MySQLPort, peerGroup: rotator.ID(), desc: pulumi.String("the rotator sets and tests passwords")},
	}
	for i, id := range args.AppSecurityGroupIDs {
		rules = append(rules, rule{name: fmt.Sprintf("database-from-app-%d", i), group: database, port: MySQLPort, peerGroup: appGroup(i, id), desc: pulumi.Sprintf("application group %s", id)})
	}
	// The endpoints admit the groups that call them, not whole subnets:
	// anything else placed in the private subnets gets no path to Secrets
	// Manager or KMS.
	rules = append(rules, rule{name: "endpoints-from-rotator", group: endpoints, port: HTTPSPort, peerGroup: rotator.ID(), desc: pulumi.String("the rotator calls Secrets Manager")})
	for i, id := range args.AppSecurityGroupIDs {
		rules = append(rules, rule{name: fmt.Sprintf("endpoints-from-app-%d", i), group: endpoints, port: HTTPSPort, peerGroup: appGroup(i, id), desc: pulumi.Sprintf("application group %s reads its secret", id)})
	}
	for _, r := range rules {
		_, tags := b.named(r.name)
		var cidr, peerGroup pulumi.StringPtrInput
		if r.peerCidr != "" {
			cidr = pulumi.String(r.peerCidr)
		}
		if r.peerGroup != nil {
			peerGroup = r.peerGroup.ToStringOutput().ToStringPtrOutput()
		}
		ruleArgs := vpc.SecurityGroupIngressRuleArgs{
			SecurityGroupId:           r.group.ID(),
			IpProtocol:                pulumi.String("tcp"),
			FromPort:                  pulumi.Int(r.port),
			ToPort:                    pulumi.Int(r.port),
			ReferencedSecurityGroupId: peerGroup,
			CidrIpv4:                  cidr,
			Description:               r.desc,
			Tags:                      tags,
		}
		var err error
		if r.egress {
			// An egress rule takes the same arguments as an ingress rule.
			_, err = vpc.NewSecurityGroupEgressRule(ctx, b.names.Logical(r.name), (*vpc.SecurityGroupEgressRuleArgs)(&ruleArgs), b.parent)
		} else {
			_, err = vpc.NewSecurityGroupIngressRule(ctx, b.names.Logical(r.name), &ruleArgs, b.parent)
		}
		if err != nil {
			return err
		}
	}

	// A VPC the vault owns has only the vault in it: its endpoints take the
	// services' regional names (private DNS). In an existing VPC private
	// DNS would take those names from every other workload too, so it is
	// the operator's explicit choice.
	var smID, kmsID pulumi.StringInput
	privateDNS := true
	if args.Existing != nil {
		smID, kmsID = args.Existing.SecretsManagerEndpointID, args.Existing.KMSEndpointID
		privateDNS = args.Existing.PrivateDNS
	}
	if err := ctx.Log.Info(endpointChoice(args.Existing, privateDNS), &pulumi.LogArgs{Resource: n}); err != nil {
		return err
	}
	sm, err := b.endpointFor("secretsmanager", smID, privateDNS, p, endpoints, SecretsManagerPolicy(args.Region, args.AccountID))
	if err != nil {
		return err
	}
	km, err := b.endpointFor("kms", kmsID, privateDNS, p, endpoints, KMSPolicy(args.Region, args.AccountID))
	if err != nil {
		return err
	}

	n.VpcID = p.vpcID.ApplyT(func(id string) pulumi.ID { return pulumi.ID(id) }).(pulumi.IDOutput)
	n.VpcCidr = p.cidr
	n.PrivateSubnetIDs = p.subnetIDs
	n.AvailabilityZones = p.zones
	n.AvailabilityZoneIDs = p.zoneIDs
	n.RotatorSecurityGroupID = rotator.ID()
	n.DatabaseSecurityGroupID = database.ID()
	n.EndpointSecurityGroupID = endpoints.ID()
	n.SecretsManagerEndpointID = sm.id.ApplyT(func(id string) pulumi.ID { return pulumi.ID(id) }).(pulumi.IDOutput)
	n.SecretsManagerEndpointDNS = sm.dns
	n.KMSEndpointID = km.id.ApplyT(func(id string) pulumi.ID { return pulumi.ID(id) }).(pulumi.IDOutput)
	n.SecretsManagerEndpointURL = sm.url
	n.KMSEndpointURL = km.url
	return nil
}

// endpointChoice is the one line the preview shows about the endpoints:
// which the layer uses and why.
func endpointChoice(e *Existing, privateDNS bool) string {
	created := "creates"
	switch {
	case e == nil:
		return "network: creates the Secrets Manager and KMS endpoints with private DNS: the vault owns the VPC"
	case e.SecretsManagerEndpointID != nil && e.KMSEndpointID != nil:
		return "network: uses the existing VPC's Secrets Manager and KMS endpoints (existingSecretsManagerEndpointId, existingKmsEndpointId) and creates none"
	case e.SecretsManagerEndpointID != nil || e.KMSEndpointID != nil:
		created = "uses the existing endpoint named in config and creates the other"
	}
	if privateDNS {
		return fmt.Sprintf("network: %s with private DNS (endpointPrivateDns: true): every workload in the existing VPC will call Secrets Manager and KMS through the vault's endpoints, which admit only the rotator and appSecurityGroupIds, and only this account's secrets and keys for the actions their policies name: every other workload's calls will be refused", created)
	}
	return fmt.Sprintf("network: %s without private DNS, so the existing VPC's other workloads keep their path to Secrets Manager and KMS; the vault's clients use the endpoints' own names (outputs secretsManagerEndpointUrl, kmsEndpointUrl)", created)
}

// placement is where the vault's network lives: the VPC, its private
// subnets and their zones, created here or existing.
type placement struct {
	vpcID, cidr               pulumi.StringOutput
	subnetIDs, zones, zoneIDs pulumi.StringArrayOutput
}

// newVpc creates the private VPC: its default security group stripped, one
// route table with only the local route, one private subnet per zone.
func (b builder) newVpc() (placement, error) {
	ctx, args := b.ctx, b.args
	_, vpcTags := b.named("vpc")
	v, err := ec2.NewVpc(ctx, b.names.Logical("vpc"), &ec2.VpcArgs{
		CidrBlock: pulumi.String(args.VpcCidr.String()),
		// Private DNS of the interface endpoints needs both.
		EnableDnsSupport:   pulumi.Bool(true),
		EnableDnsHostnames: pulumi.Bool(true),
		Tags:               vpcTags,
	}, b.parent)
	if err != nil {
		return placement{}, err
	}

	// The VPC's default security group is what an ENI gets when nobody
	// names a group; adopt it and strip every rule so it admits nothing.
	_, defaultTags := b.named("default-sg")
	if _, err := ec2.NewDefaultSecurityGroup(ctx, b.names.Logical("default-sg"), &ec2.DefaultSecurityGroupArgs{
		VpcId: v.ID(),
		Tags:  defaultTags,
	}, b.parent); err != nil {
		return placement{}, err
	}

	// One route table for every private subnet. It has only the implicit
	// local route: there is no gateway in this VPC to route to.
	_, rtTags := b.named("private-rt")
	rt, err := ec2.NewRouteTable(ctx, b.names.Logical("private-rt"), &ec2.RouteTableArgs{VpcId: v.ID(), Tags: rtTags}, b.parent)
	if err != nil {
		return placement{}, err
	}

	cidrs, err := SubnetCidrs(args.VpcCidr, len(args.AvailabilityZones))
	if err != nil {
		return placement{}, err
	}
	subnetIDs := make(pulumi.StringArray, 0, len(cidrs))
	for i, az := range args.AvailabilityZones {
		_, tags := b.named("private-subnet-" + az)
		s, err := ec2.NewSubnet(ctx, b.names.Logical(fmt.Sprintf("private-subnet-%d", i)), &ec2.SubnetArgs{
			VpcId:               v.ID(),
			CidrBlock:           pulumi.String(cidrs[i].String()),
			AvailabilityZone:    pulumi.String(az),
			MapPublicIpOnLaunch: pulumi.Bool(false),
			Tags:                tags,
		}, b.parent)
		if err != nil {
			return placement{}, err
		}
		if _, err := ec2.NewRouteTableAssociation(ctx, b.names.Logical(fmt.Sprintf("private-rt-assoc-%d", i)), &ec2.RouteTableAssociationArgs{
			SubnetId:     s.ID(),
			RouteTableId: rt.ID(),
		}, b.parent); err != nil {
			return placement{}, err
		}
		subnetIDs = append(subnetIDs, s.ID().ToStringOutput())
	}

	azs := make(pulumi.StringArray, 0, len(args.AvailabilityZones))
	for _, az := range args.AvailabilityZones {
		azs = append(azs, pulumi.String(az))
	}
	return placement{
		vpcID:     v.ID().ToStringOutput(),
		cidr:      v.CidrBlock,
		subnetIDs: subnetIDs.ToStringArrayOutput(),
		zones:     azs.ToStringArrayOutput(),
		zoneIDs:   pulumi.ToStringArray(args.AvailabilityZoneIDs).ToStringArrayOutput(),
	}, nil
}

var sgIDPattern = regexp.MustCompile(`^sg-[0-9a-f]{8,17}$`)
