package network

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/dbvault/dbvault/stacks/kit"
)

// Config is the layer's own configuration (beyond kit.Common).
type Config struct {
	VpcCidr             netip.Prefix
	AZCount             int
	AppSecurityGroupIDs []string
	// ExcludeZoneIDs are zone IDs never to use (default: DefaultExcludedZoneIDs
	// of the region).
	ExcludeZoneIDs []string
	// ExistingVpcID, ExistingSubnetIDs and the optional existing endpoint
	// IDs place the vault in an existing network (existingVpcId,
	// existingSubnetIds, existingSecretsManagerEndpointId,
	// existingKmsEndpointId); empty: the layer creates its own VPC.
	ExistingVpcID                    string
	ExistingSubnetIDs                []string
	ExistingSecretsManagerEndpointID string
	ExistingKMSEndpointID            string
	// EndpointPrivateDNS (endpointPrivateDns) gives the endpoints the layer
	// creates in an existing VPC private DNS; a VPC the layer creates
	// always has it.
	EndpointPrivateDNS bool
}

var (
	vpcIDPattern      = regexp.MustCompile(`^vpc-[0-9a-f]{8,17}$`)
	subnetIDPattern   = regexp.MustCompile(`^subnet-[0-9a-f]{8,17}$`)
	endpointIDPattern = regexp.MustCompile(`^vpce-[0-9a-f]{8,17}$`)
)

// loadExisting reads the existing network's keys; the VPC's own keys
// (vpcCidr, azCount, excludeZoneIds) then have no effect and are refused.
func loadExisting(cfg *config.Config, c *Config) error {
	c.ExistingVpcID = cfg.Get("existingVpcId")
	c.ExistingSecretsManagerEndpointID = cfg.Get("existingSecretsManagerEndpointId")
	c.ExistingKMSEndpointID = cfg.Get("existingKmsEndpointId")
	if err := kit.ObjectConfig(cfg, "existingSubnetIds", &c.ExistingSubnetIDs); err != nil {
		return fmt.Errorf("%w (a JSON list: pulumi config set --path 'existingSubnetIds[0]' subnet-...)", err)
	}
	if s := cfg.Get("endpointPrivateDns"); s != "" {
		v, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("endpointPrivateDns %q is not true or false", s)
		}
		c.EndpointPrivateDNS = v
	}
	if c.ExistingVpcID == "" {
		if len(c.ExistingSubnetIDs) > 0 || c.ExistingSecretsManagerEndpointID != "" || c.ExistingKMSEndpointID != "" {
			return fmt.Errorf("existingSubnetIds and the existing endpoints need existingVpcId, the VPC they are in")
		}
		if c.EndpointPrivateDNS {
			return fmt.Errorf("endpointPrivateDns is for an existing VPC (existingVpcId); the VPC the layer creates always has private DNS on its endpoints: remove it")
		}
		return nil
	}
	if !vpcIDPattern.MatchString(c.ExistingVpcID) {
		return fmt.Errorf("existingVpcId %q is not a VPC ID (vpc-<hex>)", c.ExistingVpcID)
	}
	if len(c.ExistingSubnetIDs) < MinAZCount {
		return fmt.Errorf("existingSubnetIds names %d subnet(s); name the VPC's private subnets, at least %d, in different zones (pulumi config set --path 'existingSubnetIds[0]' subnet-...)", len(c.ExistingSubnetIDs), MinAZCount)
	}
	for i, id := range c.ExistingSubnetIDs {
		if !subnetIDPattern.MatchString(id) {
			return fmt.Errorf("existingSubnetIds[%d] %q is not a subnet ID (subnet-<hex>)", i, id)
		}
	}
	for key, id := range map[string]string{"existingSecretsManagerEndpointId": c.ExistingSecretsManagerEndpointID, "existingKmsEndpointId": c.ExistingKMSEndpointID} {
		if id != "" && !endpointIDPattern.MatchString(id) {
			return fmt.Errorf("%s %q is not a VPC endpoint ID (vpce-<hex>)", key, id)
		}
	}
	for _, key := range []string{"vpcCidr", "azCount", "excludeZoneIds"} {
		if cfg.Get(key) != "" {
			return fmt.Errorf("%s has no effect with existingVpcId (the existing subnets decide the zones): remove it", key)
		}
	}
	return nil
}

// existing is the Args' Existing of c, nil without existingVpcId.
func (c Config) existing() *Existing {
	if c.ExistingVpcID == "" {
		return nil
	}
	e := &Existing{VpcID: pulumi.String(c.ExistingVpcID), SubnetIDs: pulumi.ToStringArray(c.ExistingSubnetIDs), PrivateDNS: c.EndpointPrivateDNS}
	if c.ExistingSecretsManagerEndpointID != "" {
		e.SecretsManagerEndpointID = pulumi.String(c.ExistingSecretsManagerEndpointID)
	}
	if c.ExistingKMSEndpointID != "" {
		e.KMSEndpointID = pulumi.String(c.ExistingKMSEndpointID)
	}
	return e
}

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
	if err := loadExisting(cfg, &c); err != nil {
		return Config{}, err
	}
	return c, nil
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
	caller, err := aws.GetCallerIdentity(ctx, nil, common.AWS())
	if err != nil {
		return nil, fmt.Errorf("network: who am I (sts get-caller-identity): %w", err)
	}
	args := &Args{
		Suffix:              common.Suffix,
		Region:              common.Region,
		AccountID:           caller.AccountId,
		AppSecurityGroupIDs: stringInputs(cfg.AppSecurityGroupIDs),
		Existing:            cfg.existing(),
	}
	if args.Existing == nil {
		args.VpcCidr = cfg.VpcCidr
		if args.AvailabilityZones, args.AvailabilityZoneIDs, err = chooseZones(ctx, common, cfg); err != nil {
			return nil, err
		}
	}
	n, err := NewNetwork(ctx, kit.NetworkComponent, args, common.AWS())
	if err != nil {
		return nil, err
	}
	return n.Outputs(), nil
}

// chooseZones picks the zones of a new VPC: the region's standard zones
// that every endpoint service offers, less the excluded ones.
func chooseZones(ctx *pulumi.Context, common kit.Common, cfg Config) ([]string, []string, error) {
	zones, err := aws.GetAvailabilityZones(ctx, &aws.GetAvailabilityZonesArgs{
		State: pulumi.StringRef("available"),
		// Local and Wavelength zones are opt-in and lack RDS; keep to the
		// region's standard zones.
		Filters: []aws.GetAvailabilityZonesFilter{{Name: "opt-in-status", Values: []string{"opt-in-not-required"}}},
	}, common.AWS())
	if err != nil {
		return nil, nil, fmt.Errorf("network: list availability zones: %w", err)
	}
	// The interface endpoints exist only in the zones their services
	// offer; a subnet elsewhere would reach neither Secrets Manager nor
	// KMS.
	var serviceZones [][]string
	for _, svc := range []string{"secretsmanager", "kms"} {
		es, err := ec2.LookupVpcEndpointService(ctx, &ec2.LookupVpcEndpointServiceArgs{
			ServiceName: pulumi.StringRef(fmt.Sprintf("com.amazonaws.%s.%s", common.Region, svc)),
		}, common.AWS())
		if err != nil {
			return nil, nil, fmt.Errorf("network: zones of the %s endpoint service: %w", svc, err)
		}
		serviceZones = append(serviceZones, es.AvailabilityZones)
	}
	exclude := cfg.ExcludeZoneIDs
	if exclude == nil {
		exclude = DefaultExcludedZoneIDs[common.Region]
	}
	names, ids, err := ChooseZones(zones.Names, zones.ZoneIds, exclude, serviceZones, cfg.AZCount)
	if err != nil {
		return nil, nil, fmt.Errorf("network: %s: %w", common.Region, err)
	}
	return names, ids, nil
}

// stringInputs are plain strings as inputs.
func stringInputs(ss []string) []pulumi.StringInput {
	out := make([]pulumi.StringInput, len(ss))
	for i, s := range ss {
		out[i] = pulumi.String(s)
	}
	return out
}
