package network

import (
	"encoding/json"
	"fmt"
	"net/netip"
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
	n, err := NewNetwork(ctx, kit.NetworkComponent, &Args{
		Suffix:              common.Suffix,
		Region:              common.Region,
		AccountID:           caller.AccountId,
		VpcCidr:             cfg.VpcCidr,
		AvailabilityZones:   names,
		AvailabilityZoneIDs: ids,
		AppSecurityGroupIDs: stringInputs(cfg.AppSecurityGroupIDs),
	})
	if err != nil {
		return nil, err
	}
	return n.Outputs(), nil
}

// stringInputs are plain strings as inputs.
func stringInputs(ss []string) []pulumi.StringInput {
	out := make([]pulumi.StringInput, len(ss))
	for i, s := range ss {
		out[i] = pulumi.String(s)
	}
	return out
}
