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

// loadArgs reads the layer's own config keys into Args, each left zero when
// unset so that NewNetwork gives it its default, and refuses what config
// alone shows wrong: a value that does not parse, and a key that needs, or
// has no effect with, another. NewNetwork checks the values.
func loadArgs(ctx *pulumi.Context) (*Args, error) {
	cfg := config.New(ctx, "")
	a := &Args{}
	if s := cfg.Get("vpcCidr"); s != "" {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("vpcCidr %q is not a CIDR block (e.g. %s): pulumi config set vpcCidr <block>", s, DefaultVpcCidr)
		}
		a.VpcCidr = p
	}
	if s := cfg.Get("appSecurityGroupIds"); s != "" {
		var ids []string
		if err := json.Unmarshal([]byte(s), &ids); err != nil {
			return nil, fmt.Errorf(`appSecurityGroupIds must be a JSON list of security group IDs (pulumi config set --path 'appSecurityGroupIds[0]' sg-...): %w`, err)
		}
		a.AppSecurityGroupIDs = stringInputs(ids)
	}
	existing, err := loadExisting(cfg)
	if err != nil {
		return nil, err
	}
	a.Existing = existing
	return a, nil
}

// loadExisting reads the existing network's keys: nil without
// existingVpcId. The VPC's own keys (vpcCidr, azCount, excludeZoneIds) then
// have no effect and are refused.
func loadExisting(cfg *config.Config) (*Existing, error) {
	vpcID := cfg.Get("existingVpcId")
	smID := cfg.Get("existingSecretsManagerEndpointId")
	kmsID := cfg.Get("existingKmsEndpointId")
	var subnetIDs []string
	if err := kit.ObjectConfig(cfg, "existingSubnetIds", &subnetIDs); err != nil {
		return nil, fmt.Errorf("%w (a JSON list: pulumi config set --path 'existingSubnetIds[0]' subnet-...)", err)
	}
	privateDNS := false
	if s := cfg.Get("endpointPrivateDns"); s != "" {
		v, err := strconv.ParseBool(s)
		if err != nil {
			return nil, fmt.Errorf("endpointPrivateDns %q is not true or false", s)
		}
		privateDNS = v
	}
	if vpcID == "" {
		if len(subnetIDs) > 0 || smID != "" || kmsID != "" {
			return nil, fmt.Errorf("existingSubnetIds and the existing endpoints need existingVpcId, the VPC they are in")
		}
		if privateDNS {
			return nil, fmt.Errorf("endpointPrivateDns is for an existing VPC (existingVpcId); the VPC the layer creates always has private DNS on its endpoints: remove it")
		}
		return nil, nil
	}
	for _, key := range []string{"vpcCidr", "azCount", "excludeZoneIds"} {
		if cfg.Get(key) != "" {
			return nil, fmt.Errorf("%s has no effect with existingVpcId (the existing subnets decide the zones): remove it", key)
		}
	}
	e := &Existing{VpcID: pulumi.String(vpcID), SubnetIDs: pulumi.ToStringArray(subnetIDs), PrivateDNS: privateDNS}
	if smID != "" {
		e.SecretsManagerEndpointID = pulumi.String(smID)
	}
	if kmsID != "" {
		e.KMSEndpointID = pulumi.String(kmsID)
	}
	return e, nil
}

// zoneChoice is what picks the zones of a new VPC, from config: how many
// (azCount) and which zone IDs never to use (excludeZoneIds; nil means
// the region's DefaultExcludedZoneIDs). run looks the zones up with it and
// gives them to NewNetwork as Args.AvailabilityZones.
type zoneChoice struct {
	count   int
	exclude []string
}

// loadZoneChoice reads azCount and excludeZoneIds.
func loadZoneChoice(ctx *pulumi.Context) (zoneChoice, error) {
	cfg := config.New(ctx, "")
	z := zoneChoice{count: DefaultAZCount}
	if s := cfg.Get("azCount"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return zoneChoice{}, fmt.Errorf("azCount %q is not a whole number", s)
		}
		// Checked before the lookup, which picks this many zones; NewNetwork
		// checks the zones it is given by the same rule.
		if n < MinAZCount {
			return zoneChoice{}, fmt.Errorf("azCount is %d; at least %d availability zones are needed (Aurora spans two)", n, MinAZCount)
		}
		z.count = n
	}
	if err := kit.ObjectConfig(cfg, "excludeZoneIds", &z.exclude); err != nil {
		return zoneChoice{}, err
	}
	return z, nil
}

// Layer is the network layer: main.go, synth, the tests and the deploy
// orchestration all run it.
var Layer = kit.NewLayer("network", kit.NetworkProject, run)

func run(ctx *pulumi.Context, common kit.Common) (pulumi.Map, error) {
	args, err := loadArgs(ctx)
	if err != nil {
		return nil, err
	}
	var zones zoneChoice
	if args.Existing == nil {
		if zones, err = loadZoneChoice(ctx); err != nil {
			return nil, err
		}
	}
	caller, err := aws.GetCallerIdentity(ctx, nil, common.AWS())
	if err != nil {
		return nil, fmt.Errorf("network: who am I (sts get-caller-identity): %w", err)
	}
	args.Suffix = common.Suffix
	args.Region = common.Region
	args.AccountID = caller.AccountId
	if args.Existing == nil {
		if args.AvailabilityZones, args.AvailabilityZoneIDs, err = chooseZones(ctx, common, zones); err != nil {
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
func chooseZones(ctx *pulumi.Context, common kit.Common, z zoneChoice) ([]string, []string, error) {
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
	exclude := z.exclude
	if exclude == nil {
		exclude = DefaultExcludedZoneIDs[common.Region]
	}
	names, ids, err := ChooseZones(zones.Names, zones.ZoneIds, exclude, serviceZones, z.count)
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
