package network_test

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dbvault/dbvault/stacks/kit"
	"github.com/dbvault/dbvault/stacks/kit/kittest"
	"github.com/dbvault/dbvault/stacks/kit/mock"
	"github.com/dbvault/dbvault/stacks/network"
)

// required are the only Args a program must give for a VPC of its own.
func required() network.Args {
	return network.Args{
		Suffix:            "dev",
		Region:            "us-east-1",
		AccountID:         account,
		AvailabilityZones: []string{"us-east-1a", "us-east-1b"},
	}
}

// component runs a program that calls NewNetwork with args and nothing
// else (kittest.Build).
func component(t *testing.T, args network.Args) (mock.Result, error) {
	t.Helper()
	return kittest.Build(t, network.NewNetwork, kit.NetworkComponent, &args)
}

// A program that gives only the required Args gets the documented
// defaults: the default VPC block split into a /20 per zone, only the
// rotator admitted, endpoints with private DNS in its own VPC; in an
// existing VPC, created endpoints without private DNS.
func TestOnlyRequiredArgsGiveTheDefaults(t *testing.T) {
	res, err := component(t, required())
	if err != nil {
		t.Fatal(err)
	}
	if got := str(one(t, res, tVpc), "cidrBlock"); got != network.DefaultVpcCidr {
		t.Errorf("VPC block %q, want the default %s", got, network.DefaultVpcCidr)
	}
	var cidrs []string
	for _, s := range res.ByType(tSubnet) {
		cidrs = append(cidrs, str(s, "cidrBlock"))
	}
	sort.Strings(cidrs)
	if want := []string{"10.40.0.0/20", "10.40.16.0/20"}; !slices.Equal(cidrs, want) {
		t.Errorf("subnets %v, want %v", cidrs, want)
	}
	// No application groups: only the rotator's four rules.
	if got := ruleSet(t, res); len(got) != 4 {
		t.Errorf("rules %q, want the rotator's 4", got)
	}
	endpoints(t, res, true, "in the vault's own VPC")
	if got := fmt.Sprint(res.Outputs["availabilityZoneIds"].Value); got != "[]" {
		t.Errorf("availabilityZoneIds = %s, want an empty list without AvailabilityZoneIDs", got)
	}

	res, err = component(t, network.Args{
		Suffix: "dev", Region: "us-east-1", AccountID: account,
		Existing: &network.Existing{VpcID: pulumi.String(fake.ExistingVpcID()), SubnetIDs: pulumi.ToStringArray(fake.ExistingSubnetIDs())},
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(res.ByType(tVpc)); n != 0 {
		t.Errorf("%d VPCs created in an existing network", n)
	}
	endpoints(t, res, false, "by default in an existing network, where none is named")
}

// Every invalid field is refused with its name and rule, before anything
// is registered.
func TestInvalidArgsAreRefused(t *testing.T) {
	existing := func(edit func(*network.Existing)) func(*network.Args) {
		return func(a *network.Args) {
			e := &network.Existing{VpcID: pulumi.String(fake.ExistingVpcID()), SubnetIDs: pulumi.ToStringArray(fake.ExistingSubnetIDs())}
			edit(e)
			a.AvailabilityZones, a.Existing = nil, e
		}
	}
	seventeenZones := func(a *network.Args) {
		a.AvailabilityZones = nil
		for i := range 17 {
			a.AvailabilityZones = append(a.AvailabilityZones, fmt.Sprintf("zone-%d", i))
		}
	}
	for name, c := range map[string]struct {
		edit func(*network.Args)
		want string
	}{
		"no suffix":            {func(a *network.Args) { a.Suffix = "" }, "network: Suffix: environmentSuffix is required"},
		"malformed suffix":     {func(a *network.Args) { a.Suffix = "Dev_1" }, `network: Suffix: environmentSuffix "Dev_1" may hold only lower-case letters`},
		"no region":            {func(a *network.Args) { a.Region = "" }, "network: Region is empty: it is required"},
		"no account":           {func(a *network.Args) { a.AccountID = "" }, "network: AccountID is empty: it is required"},
		"no zones":             {func(a *network.Args) { a.AvailabilityZones = nil }, "network: AvailabilityZones has 0 zone(s): at least 2 availability zones are needed"},
		"one zone":             {func(a *network.Args) { a.AvailabilityZones = a.AvailabilityZones[:1] }, "network: AvailabilityZones has 1 zone(s): at least 2 availability zones are needed"},
		"more zones than /20s": {seventeenZones, "network: VpcCidr 10.40.0.0/16 holds at most 16 subnets, 17 asked"},
		"public block":         {func(a *network.Args) { a.VpcCidr = netip.MustParsePrefix("8.8.0.0/16") }, "network: VpcCidr 8.8.0.0/16 is not in a private range"},
		"block too wide":       {func(a *network.Args) { a.VpcCidr = netip.MustParsePrefix("10.0.0.0/8") }, "network: VpcCidr 10.0.0.0/8: the prefix must be /16 to /24"},
		"block too narrow":     {func(a *network.Args) { a.VpcCidr = netip.MustParsePrefix("10.0.0.0/25") }, "network: VpcCidr 10.0.0.0/25: the prefix must be /16 to /24"},
		"host bits":            {func(a *network.Args) { a.VpcCidr = netip.MustParsePrefix("10.40.1.0/16") }, "network: VpcCidr 10.40.1.0/16 has host bits set; did you mean 10.40.0.0/16"},
		"IPv6 block":           {func(a *network.Args) { a.VpcCidr = netip.MustParsePrefix("fd00::/48") }, `network: VpcCidr "fd00::/48" is not an IPv4 CIDR block`},
		"nil app group":        {func(a *network.Args) { a.AppSecurityGroupIDs = []pulumi.StringInput{nil} }, "network: AppSecurityGroupIDs[0] is nil: each must be a security group ID (sg-<hex>)"},
		"app group not SG": {func(a *network.Args) {
			a.AppSecurityGroupIDs = []pulumi.StringInput{pulumi.String("sg-0123456789abcdef0"), pulumi.String("10.0.0.0/8")}
		}, `network: AppSecurityGroupIDs[1] "10.0.0.0/8" is not a security group ID (sg-<hex>)`},
		"existing, no VPC":       {existing(func(e *network.Existing) { e.VpcID = nil }), "network: Existing.VpcID is nil: an existing network needs its VPC"},
		"existing, no subnets":   {existing(func(e *network.Existing) { e.SubnetIDs = nil }), "network: Existing.SubnetIDs is nil: an existing network needs its private subnets, at least 2"},
		"existing, not a VPC ID": {existing(func(e *network.Existing) { e.VpcID = pulumi.String("vpc1") }), `network: Existing.VpcID "vpc1" is not a VPC ID (vpc-<hex>)`},
		"existing, one subnet":   {existing(func(e *network.Existing) { e.SubnetIDs = pulumi.ToStringArray(fake.ExistingSubnetIDs()[:1]) }), "network: Existing.SubnetIDs names 1 subnet(s); name the VPC's private subnets, at least 2"},
		"existing, not a subnet ID": {existing(func(e *network.Existing) {
			e.SubnetIDs = pulumi.ToStringArray([]string{fake.ExistingSubnetIDs()[0], "sub-1"})
		}), `network: Existing.SubnetIDs[1] "sub-1" is not a subnet ID (subnet-<hex>)`},
		"existing, Secrets Manager endpoint not an ID": {existing(func(e *network.Existing) { e.SecretsManagerEndpointID = pulumi.String("vpc-0123456789abcdef0") }), `network: Existing.SecretsManagerEndpointID "vpc-0123456789abcdef0" is not a VPC endpoint ID (vpce-<hex>)`},
		"existing, KMS endpoint not an ID":             {existing(func(e *network.Existing) { e.KMSEndpointID = pulumi.String("kms") }), `network: Existing.KMSEndpointID "kms" is not a VPC endpoint ID (vpce-<hex>)`},
		"existing, nil app group": {func(a *network.Args) {
			existing(func(*network.Existing) {})(a)
			a.AppSecurityGroupIDs = []pulumi.StringInput{nil}
		}, "network: AppSecurityGroupIDs[0] is nil"},
	} {
		t.Run(name, func(t *testing.T) {
			args := required()
			c.edit(&args)
			res, err := component(t, args)
			kittest.Refused(t, err, c.want)
			kittest.NothingRegistered(t, res)
		})
	}
}

// Without Args the component says what it needs instead of panicking.
func TestNilArgsAreRefused(t *testing.T) {
	res, err := kittest.Build(t, network.NewNetwork, "network", (*network.Args)(nil))
	kittest.Refused(t, err, "network: args are nil: ")
	kittest.NothingRegistered(t, res)
}
