// Package network is the vault's first layer (project vault-network): a
// private VPC with no route to the internet, the security groups of the
// rotator, the database and the interface endpoints, and the endpoints that
// let the rotator reach Secrets Manager and KMS without leaving the VPC.
package network

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

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

// Args are the inputs of the network component.
type Args struct {
	// Suffix is environmentSuffix, the last part of every name.
	Suffix string
	// Region is the AWS region (service names of the endpoints).
	Region string
	// AccountID is the AWS account whose principals the endpoints admit.
	AccountID string
	// VpcCidr is the VPC's IPv4 block (a private range, /16 to /24).
	VpcCidr netip.Prefix
	// AvailabilityZones get one private subnet each, in this order.
	AvailabilityZones []string
	// AvailabilityZoneIDs are their zone IDs (use1-az1, ...), the same
	// physical zones in every account, unlike the names.
	AvailabilityZoneIDs []string
	// AppSecurityGroupIDs may reach the database on 3306 besides the rotator.
	AppSecurityGroupIDs []string
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
}

// NewNetwork builds the layer's resources as children of one component.
func NewNetwork(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Network, error) {
	if err := args.validate(); err != nil {
		return nil, err
	}
	n := &Network{}
	if err := ctx.RegisterComponentResource(ComponentType, name, n, opts...); err != nil {
		return nil, err
	}
	b := builder{ctx: ctx, args: args, parent: pulumi.Parent(n)}
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
	}
}

func (a Args) validate() error {
	if err := kit.ValidateSuffix(a.Suffix); err != nil {
		return err
	}
	if len(a.AvailabilityZones) < MinAZCount {
		return fmt.Errorf("network: %d availability zones; at least %d are needed", len(a.AvailabilityZones), MinAZCount)
	}
	if _, err := SubnetCidrs(a.VpcCidr, len(a.AvailabilityZones)); err != nil {
		return err
	}
	if a.AccountID == "" || a.Region == "" {
		return fmt.Errorf("network: account and region are required")
	}
	for _, id := range a.AppSecurityGroupIDs {
		if !sgIDPattern.MatchString(id) {
			return fmt.Errorf("network: appSecurityGroupIds: %q is not a security group ID (sg-<hex>)", id)
		}
	}
	return nil
}

// builder carries what every child resource needs.
type builder struct {
	ctx    *pulumi.Context
	args   Args
	parent pulumi.ResourceOption
}

// named returns the physical name {what}-{suffix} and a Name tag for it (the
// compliance tags are added by kit's stack transformation).
func (b builder) named(what string) (string, pulumi.StringMap) {
	n := kit.Name(what, b.args.Suffix)
	return n, pulumi.StringMap{"Name": pulumi.String(n)}
}

func (b builder) build(n *Network) error {
	ctx, args := b.ctx, b.args
	_, vpcTags := b.named("vpc")
	v, err := ec2.NewVpc(ctx, "vpc", &ec2.VpcArgs{
		CidrBlock: pulumi.String(args.VpcCidr.String()),
		// Private DNS of the interface endpoints needs both.
		EnableDnsSupport:   pulumi.Bool(true),
		EnableDnsHostnames: pulumi.Bool(true),
		Tags:               vpcTags,
	}, b.parent)
	if err != nil {
		return err
	}

	// The VPC's default security group is what an ENI gets when nobody
	// names a group; adopt it and strip every rule so it admits nothing.
	_, defaultTags := b.named("default-sg")
	if _, err := ec2.NewDefaultSecurityGroup(ctx, "default-sg", &ec2.DefaultSecurityGroupArgs{
		VpcId: v.ID(),
		Tags:  defaultTags,
	}, b.parent); err != nil {
		return err
	}

	// One route table for every private subnet. It has only the implicit
	// local route: there is no gateway in this VPC to route to.
	_, rtTags := b.named("private-rt")
	rt, err := ec2.NewRouteTable(ctx, "private-rt", &ec2.RouteTableArgs{VpcId: v.ID(), Tags: rtTags}, b.parent)
	if err != nil {
		return err
	}

	cidrs, err := SubnetCidrs(args.VpcCidr, len(args.AvailabilityZones))
	if err != nil {
		return err
	}
	subnetIDs := make(pulumi.StringArray, 0, len(cidrs))
	for i, az := range args.AvailabilityZones {
		_, tags := b.named("private-subnet-" + az)
		s, err := ec2.NewSubnet(ctx, fmt.Sprintf("private-subnet-%d", i), &ec2.SubnetArgs{
			VpcId:               v.ID(),
			CidrBlock:           pulumi.String(cidrs[i].String()),
			AvailabilityZone:    pulumi.String(az),
			MapPublicIpOnLaunch: pulumi.Bool(false),
			Tags:                tags,
		}, b.parent)
		if err != nil {
			return err
		}
		if _, err := ec2.NewRouteTableAssociation(ctx, fmt.Sprintf("private-rt-assoc-%d", i), &ec2.RouteTableAssociationArgs{
			SubnetId:     s.ID(),
			RouteTableId: rt.ID(),
		}, b.parent); err != nil {
			return err
		}
		subnetIDs = append(subnetIDs, s.ID().ToStringOutput())
	}

	rotator, err := b.securityGroup("rotator-sg", "dbvault rotator: egress only to the database (3306) and the endpoints (443)", v)
	if err != nil {
		return err
	}
	database, err := b.securityGroup("database-sg", "dbvault database: 3306 only from the rotator and the application groups", v)
	if err != nil {
		return err
	}
	endpoints, err := b.securityGroup("endpoints-sg", "dbvault interface endpoints: 443 only from the rotator and the application groups", v)
	if err != nil {
		return err
	}

	// Rules as standalone resources, one per source or destination, so each
	// one is visible (and checked) on its own and none is ever implied.
	rules := []rule{
		{name: "rotator-to-database", egress: true, group: rotator, port: MySQLPort, peerGroup: database.ID(), desc: "rotator to the database"},
		{name: "rotator-to-endpoints", egress: true, group: rotator, port: HTTPSPort, peerGroup: endpoints.ID(), desc: "rotator to Secrets Manager and KMS endpoints"},
		{name: "database-from-rotator", group: database, port: MySQLPort, peerGroup: rotator.ID(), desc: "the rotator sets and tests passwords"},
	}
	for i, id := range args.AppSecurityGroupIDs {
		rules = append(rules, rule{name: fmt.Sprintf("database-from-app-%d", i), group: database, port: MySQLPort, peerGroup: pulumi.String(id), desc: "application group " + id})
	}
	// The endpoints admit the groups that call them, not whole subnets:
	// anything else placed in the private subnets gets no path to Secrets
	// Manager or KMS.
	rules = append(rules, rule{name: "endpoints-from-rotator", group: endpoints, port: HTTPSPort, peerGroup: rotator.ID(), desc: "the rotator calls Secrets Manager"})
	for i, id := range args.AppSecurityGroupIDs {
		rules = append(rules, rule{name: fmt.Sprintf("endpoints-from-app-%d", i), group: endpoints, port: HTTPSPort, peerGroup: pulumi.String(id), desc: "application group " + id + " reads its secret"})
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
		var err error
		if r.egress {
			_, err = vpc.NewSecurityGroupEgressRule(ctx, r.name, &vpc.SecurityGroupEgressRuleArgs{
				SecurityGroupId:           r.group.ID(),
				IpProtocol:                pulumi.String("tcp"),
				FromPort:                  pulumi.Int(r.port),
				ToPort:                    pulumi.Int(r.port),
				ReferencedSecurityGroupId: peerGroup,
				CidrIpv4:                  cidr,
				Description:               pulumi.String(r.desc),
				Tags:                      tags,
			}, b.parent)
		} else {
			_, err = vpc.NewSecurityGroupIngressRule(ctx, r.name, &vpc.SecurityGroupIngressRuleArgs{
				SecurityGroupId:           r.group.ID(),
				IpProtocol:                pulumi.String("tcp"),
				FromPort:                  pulumi.Int(r.port),
				ToPort:                    pulumi.Int(r.port),
				ReferencedSecurityGroupId: peerGroup,
				CidrIpv4:                  cidr,
				Description:               pulumi.String(r.desc),
				Tags:                      tags,
			}, b.parent)
		}
		if err != nil {
			return err
		}
	}

	sm, err := b.endpoint("secretsmanager", v, subnetIDs, endpoints, SecretsManagerPolicy(args.Region, args.AccountID))
	if err != nil {
		return err
	}
	km, err := b.endpoint("kms", v, subnetIDs, endpoints, KMSPolicy(args.Region, args.AccountID))
	if err != nil {
		return err
	}

	azs := make(pulumi.StringArray, 0, len(args.AvailabilityZones))
	for _, az := range args.AvailabilityZones {
		azs = append(azs, pulumi.String(az))
	}
	n.VpcID = v.ID()
	n.VpcCidr = v.CidrBlock
	n.PrivateSubnetIDs = subnetIDs.ToStringArrayOutput()
	n.AvailabilityZones = azs.ToStringArrayOutput()
	n.AvailabilityZoneIDs = pulumi.ToStringArray(args.AvailabilityZoneIDs).ToStringArrayOutput()
	n.RotatorSecurityGroupID = rotator.ID()
	n.DatabaseSecurityGroupID = database.ID()
	n.EndpointSecurityGroupID = endpoints.ID()
	n.SecretsManagerEndpointID = sm.ID()
	n.SecretsManagerEndpointDNS = sm.DnsEntries.Index(pulumi.Int(0)).DnsName().Elem()
	n.KMSEndpointID = km.ID()
	return nil
}

// rule is one security group rule: TCP on one port, to or from exactly one
// peer (a security group or a CIDR block).
type rule struct {
	name      string
	egress    bool
	group     *ec2.SecurityGroup
	port      int
	peerGroup pulumi.StringInput
	peerCidr  string
	desc      string
}

// securityGroup creates a group with no inline rules. The provider removes
// the allow-all egress rule AWS adds to every new group, so a group starts
// closed in both directions; revokeRulesOnDelete lets groups that
// reference each other be destroyed without manual steps.
func (b builder) securityGroup(what, description string, v *ec2.Vpc) (*ec2.SecurityGroup, error) {
	name, tags := b.named(what)
	return ec2.NewSecurityGroup(b.ctx, what, &ec2.SecurityGroupArgs{
		Name:                pulumi.String(name),
		Description:         pulumi.String(description),
		VpcId:               v.ID(),
		RevokeRulesOnDelete: pulumi.Bool(true),
		Tags:                tags,
	}, b.parent)
}

// endpoint creates an interface endpoint for service in every private subnet.
func (b builder) endpoint(service string, v *ec2.Vpc, subnets pulumi.StringArray, sg *ec2.SecurityGroup, policy kit.PolicyDocument) (*ec2.VpcEndpoint, error) {
	doc, err := policy.JSON()
	if err != nil {
		return nil, fmt.Errorf("network: %s endpoint policy: %w", service, err)
	}
	_, tags := b.named(service + "-endpoint")
	return ec2.NewVpcEndpoint(b.ctx, service+"-endpoint", &ec2.VpcEndpointArgs{
		VpcId:             v.ID(),
		ServiceName:       pulumi.String(fmt.Sprintf("com.amazonaws.%s.%s", b.args.Region, service)),
		VpcEndpointType:   pulumi.String("Interface"),
		PrivateDnsEnabled: pulumi.Bool(true),
		SubnetIds:         subnets,
		SecurityGroupIds:  pulumi.StringArray{sg.ID().ToStringOutput()},
		Policy:            pulumi.String(doc),
		Tags:              tags,
	}, b.parent)
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

// SubnetCidrs splits a VPC block into count subnets of subnetBits more bits,
// in address order. The block must be a private (RFC 1918) network address
// with a prefix from MinVpcPrefix to MaxVpcPrefix.
func SubnetCidrs(block netip.Prefix, count int) ([]netip.Prefix, error) {
	if !block.IsValid() || !block.Addr().Is4() {
		return nil, fmt.Errorf("vpcCidr %q is not an IPv4 CIDR block (e.g. %s)", block, DefaultVpcCidr)
	}
	if block.Masked() != block {
		return nil, fmt.Errorf("vpcCidr %s has host bits set; did you mean %s?", block, block.Masked())
	}
	if block.Bits() < MinVpcPrefix || block.Bits() > MaxVpcPrefix {
		return nil, fmt.Errorf("vpcCidr %s: the prefix must be /%d to /%d (AWS allows /16 at most, and each subnet needs %d more bits)", block, MinVpcPrefix, MaxVpcPrefix, subnetBits)
	}
	if !block.Addr().IsPrivate() {
		return nil, fmt.Errorf("vpcCidr %s is not in a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)", block)
	}
	if count > 1<<subnetBits {
		return nil, fmt.Errorf("vpcCidr %s holds at most %d subnets, %d asked", block, 1<<subnetBits, count)
	}
	a4 := block.Addr().As4()
	base := binary.BigEndian.Uint32(a4[:])
	bits := block.Bits() + subnetBits
	out := make([]netip.Prefix, count)
	for i := range out {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], base+uint32(i)<<(32-bits)) // #nosec G115 -- i < 16 (checked above)
		out[i] = netip.PrefixFrom(netip.AddrFrom4(b), bits)
	}
	return out, nil
}

var sgIDPattern = regexp.MustCompile(`^sg-[0-9a-f]{8,17}$`)

// Config is the layer's own configuration (beyond kit.Common).
type Config struct {
	VpcCidr             netip.Prefix
	AZCount             int
	AppSecurityGroupIDs []string
	// ExcludeZoneIDs are zone IDs never to use (default: DefaultExcludedZoneIDs
	// of the region).
	ExcludeZoneIDs []string
}

// DefaultExcludedZoneIDs are zone IDs known to lack what the vault needs,
// per region. use1-az3 is an older us-east-1 zone without current (Nitro)
// instance classes, where Lambda also was historically unavailable; zone
// names map to different physical zones in each account, so it is excluded
// by ID. Zone IDs: https://docs.aws.amazon.com/ram/latest/userguide/working-with-az-ids.html
// (the use1-az3 limitation is reported by practitioners, e.g.
// https://wolfman.dev/posts/exclude-use1-az3/, and not stated by AWS; the
// database layer checks the chosen zones against RDS's orderable zones, and
// `go run mage.go verify` against the deployed subnets.)
var DefaultExcludedZoneIDs = map[string][]string{"us-east-1": {"use1-az3"}}

// LoadConfig reads and validates vpcCidr, azCount and appSecurityGroupIds.
func LoadConfig(ctx *pulumi.Context) (Config, error) {
	cfg := config.New(ctx, "")
	c := Config{AZCount: DefaultAZCount}
	cidr := cfg.Get("vpcCidr")
	if cidr == "" {
		cidr = DefaultVpcCidr
	}
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return Config{}, fmt.Errorf("vpcCidr %q is not a CIDR block (e.g. %s): pulumi config set vpcCidr <block>", cidr, DefaultVpcCidr)
	}
	c.VpcCidr = p
	if _, err := SubnetCidrs(p, MinAZCount); err != nil {
		return Config{}, err
	}
	if s := cfg.Get("azCount"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return Config{}, fmt.Errorf("azCount %q is not a whole number", s)
		}
		c.AZCount = n
	}
	if c.AZCount < MinAZCount {
		return Config{}, fmt.Errorf("azCount is %d; at least %d availability zones are needed (Aurora spans two)", c.AZCount, MinAZCount)
	}
	if err := kit.ObjectConfig(cfg, "excludeZoneIds", &c.ExcludeZoneIDs); err != nil {
		return Config{}, err
	}
	if s := cfg.Get("appSecurityGroupIds"); s != "" {
		if err := json.Unmarshal([]byte(s), &c.AppSecurityGroupIDs); err != nil {
			return Config{}, fmt.Errorf(`appSecurityGroupIds must be a JSON list of security group IDs (pulumi config set --path 'appSecurityGroupIds[0]' sg-...): %w`, err)
		}
		for _, id := range c.AppSecurityGroupIDs {
			if !sgIDPattern.MatchString(id) {
				return Config{}, fmt.Errorf("appSecurityGroupIds: %q is not a security group ID (sg-<hex>)", id)
			}
		}
	}
	return c, nil
}

// ChooseZones picks count zones, in zone-ID order (stable across accounts):
// those not in exclude and offered by every endpoint service. names and ids
// are parallel (GetAvailabilityZones' names and zoneIds).
func ChooseZones(names, ids, exclude []string, serviceZones [][]string, count int) ([]string, []string, error) {
	if len(names) != len(ids) {
		return nil, nil, fmt.Errorf("%d zone names but %d zone IDs", len(names), len(ids))
	}
	type zone struct{ name, id string }
	var ok, skipped []zone
	for i := range names {
		z := zone{names[i], ids[i]}
		usable := !slices.Contains(exclude, z.id)
		for _, offered := range serviceZones {
			usable = usable && slices.Contains(offered, z.name)
		}
		if usable {
			ok = append(ok, z)
		} else {
			skipped = append(skipped, z)
		}
	}
	slices.SortFunc(ok, func(a, b zone) int { return strings.Compare(a.id, b.id) })
	if len(ok) < count {
		return nil, nil, fmt.Errorf("azCount is %d but only %d zones are usable (%v); skipped %v (excluded by excludeZoneIds, or without a Secrets Manager or KMS endpoint): lower azCount or change excludeZoneIds", count, len(ok), ok, skipped)
	}
	var outNames, outIDs []string
	for _, z := range ok[:count] {
		outNames = append(outNames, z.name)
		outIDs = append(outIDs, z.id)
	}
	return outNames, outIDs, nil
}

// Layer is the network layer: main.go, synth, the tests and the deploy
// orchestration all run it.
var Layer = kit.Layer{Name: "network", Project: kit.NetworkProject, Run: run}

func run(ctx *pulumi.Context) (pulumi.Map, error) {
	common, err := kit.LoadCommon(ctx)
	if err != nil {
		return nil, err
	}
	cfg, err := LoadConfig(ctx)
	if err != nil {
		return nil, err
	}
	caller, err := aws.GetCallerIdentity(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("network: who am I (sts get-caller-identity): %w", err)
	}
	zones, err := aws.GetAvailabilityZones(ctx, &aws.GetAvailabilityZonesArgs{
		State: pulumi.StringRef("available"),
		// Local and Wavelength zones are opt-in and lack RDS; keep to the
		// region's standard zones.
		Filters: []aws.GetAvailabilityZonesFilter{{Name: "opt-in-status", Values: []string{"opt-in-not-required"}}},
	})
	if err != nil {
		return nil, fmt.Errorf("network: list availability zones: %w", err)
	}
	// The interface endpoints exist only in the zones their services
	// offer; a subnet elsewhere would reach neither Secrets Manager nor
	// KMS.
	var serviceZones [][]string
	for _, svc := range []string{"secretsmanager", "kms"} {
		es, err := ec2.LookupVpcEndpointService(ctx, &ec2.LookupVpcEndpointServiceArgs{
			ServiceName: pulumi.StringRef(fmt.Sprintf("com.amazonaws.%s.%s", common.Region, svc)),
		})
		if err != nil {
			return nil, fmt.Errorf("network: zones of the %s endpoint service: %w", svc, err)
		}
		serviceZones = append(serviceZones, es.AvailabilityZones)
	}
	exclude := cfg.ExcludeZoneIDs
	if exclude == nil {
		exclude = DefaultExcludedZoneIDs[common.Region]
	}
	names, ids, err := ChooseZones(zones.Names, zones.ZoneIds, exclude, serviceZones, cfg.AZCount)
	if err != nil {
		return nil, fmt.Errorf("network: %s: %w", common.Region, err)
	}
	n, err := NewNetwork(ctx, "network", Args{
		Suffix:              common.Suffix,
		Region:              common.Region,
		AccountID:           caller.AccountId,
		VpcCidr:             cfg.VpcCidr,
		AvailabilityZones:   names,
		AvailabilityZoneIDs: ids,
		AppSecurityGroupIDs: cfg.AppSecurityGroupIDs,
	})
	if err != nil {
		return nil, err
	}
	return n.Outputs(), nil
}
