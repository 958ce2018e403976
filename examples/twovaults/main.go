// Command twovaults is an example Pulumi program that uses the vault's four
// components as a library: it creates two complete vaults, "orders" and
// "billing", in one stack, wiring each vault's network, keys, database and
// secrets directly (no StackReferences); billing uses orders' trail. Each component is named after its
// vault, which prefixes every physical name (orders-rotator-<suffix>, ...),
// so the two never collide. kit.NewLayer reads the common configuration and
// creates the program's AWS provider (kit.LoadCommon), whose defaultTags
// carry the compliance tags; every component and invoke goes through it
// (c.AWS()).
//
// Config (project twovaults): environmentSuffix (required), aws:region,
// environmentClass (production keeps both vaults' data, as each layer's
// stack does), the tag values of every layer, administrators (default: the deploying role,
// which must be one of them), rotatorZip (default: the workspace build,
// `go run mage.go dev:build`).
package main

import (
	"fmt"
	"net/netip"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/dbvault/dbvault/stacks/database"
	"github.com/dbvault/dbvault/stacks/kit"
	"github.com/dbvault/dbvault/stacks/kms"
	"github.com/dbvault/dbvault/stacks/network"
	"github.com/dbvault/dbvault/stacks/secrets"
)

// Project is the example's Pulumi project.
const Project = "twovaults"

// Vaults are the two vaults and their VPC blocks.
var Vaults = []struct {
	Name    string
	VpcCidr string
}{
	{"orders", "10.40.0.0/16"},
	{"billing", "10.41.0.0/16"},
}

// Program is the example as a kit.Layer, so tests run it under the mocks.
var Program = kit.NewLayer(Project, Project, run)

func main() { pulumi.Run(Program.Program) }

// env is what both vaults share: the environment and its account.
type env struct {
	common    kit.Common
	account   string
	partition string
	admins    []string
	zones     []string
	zoneIDs   []string
	zip       pulumi.StringInput
}

func run(ctx *pulumi.Context, common kit.Common) (pulumi.Map, error) {
	account, deployer, err := common.Deployer(ctx)
	if err != nil {
		return nil, err
	}
	partition, err := aws.GetPartition(ctx, nil, common.AWS())
	if err != nil {
		return nil, fmt.Errorf("partition: %w", err)
	}
	admins, err := kit.Administrators(ctx, deployer)
	if err != nil {
		return nil, err
	}
	// The deployer writes the keys' policies and reads back the secrets,
	// which only the administrators may (kit.CheckDeployer).
	if err := kit.CheckDeployer(deployer, admins); err != nil {
		return nil, err
	}
	zones, err := aws.GetAvailabilityZones(ctx, &aws.GetAvailabilityZonesArgs{
		State:   pulumi.StringRef("available"),
		Filters: []aws.GetAvailabilityZonesFilter{{Name: "opt-in-status", Values: []string{"opt-in-not-required"}}},
	}, common.AWS())
	if err != nil {
		return nil, fmt.Errorf("availability zones: %w", err)
	}
	names, ids, err := network.ChooseZones(zones.Names, zones.ZoneIds, network.DefaultExcludedZoneIDs[common.Region], nil, network.DefaultAZCount)
	if err != nil {
		return nil, err
	}
	e := env{common: common, account: account, partition: partition.Partition, admins: admins, zones: names, zoneIDs: ids}
	if zip := config.New(ctx, "").Get("rotatorZip"); zip != "" {
		e.zip = pulumi.String(zip)
	}
	// The first vault's trail records the region's management events for
	// both: CloudTrail allows five trails per region, a quota that cannot
	// be raised, and each would deliver every event again
	// (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/WhatIsCloudTrail-Limits.html).
	first, err := kit.NewNames(Vaults[0].Name, common.Suffix)
	if err != nil {
		return nil, err
	}
	outputs := pulumi.Map{}
	for i, v := range Vaults {
		trail := ""
		if i > 0 {
			trail = first.TrailName()
		}
		out, err := newVault(ctx, e, v.Name, netip.MustParsePrefix(v.VpcCidr), trail)
		if err != nil {
			return nil, fmt.Errorf("vault %s: %w", v.Name, err)
		}
		for k, o := range out {
			outputs[v.Name+"."+k] = o
		}
	}
	return outputs, nil
}

// newVault creates one vault: its four components, all named name; with
// trail set, the vault uses that trail instead of creating its own.
func newVault(ctx *pulumi.Context, e env, name string, cidr netip.Prefix, trail string) (pulumi.Map, error) {
	c := e.common
	net, err := network.NewNetwork(ctx, name, &network.Args{
		Suffix:              c.Suffix,
		Region:              c.Region,
		AccountID:           e.account,
		VpcCidr:             cidr,
		AvailabilityZones:   e.zones,
		AvailabilityZoneIDs: e.zoneIDs,
	}, c.AWS())
	if err != nil {
		return nil, err
	}
	keys, err := kms.NewKeys(ctx, name, &kms.Args{
		Suffix:         c.Suffix,
		Region:         c.Region,
		AccountID:      e.account,
		Administrators: pulumi.ToStringArray(e.admins),
		Production:     c.Production(),
	}, c.AWS())
	if err != nil {
		return nil, err
	}
	db, err := database.NewDatabase(ctx, name, &database.Args{
		Suffix:            c.Suffix,
		Region:            c.Region,
		AccountID:         e.account,
		SubnetIDs:         net.PrivateSubnetIDs,
		AvailabilityZones: net.AvailabilityZones,
		SecurityGroupID:   net.DatabaseSecurityGroupID.ToStringOutput(),
		DatabaseKeyArn:    keys.DatabaseKeyArn,
		SecretsKeyArn:     keys.SecretsKeyArn,
		LogsKeyArn:        keys.LogsKeyArn,
		VpcID:             net.VpcID.ToStringOutput(),
		Production:        c.Production(),
	}, c.AWS())
	if err != nil {
		return nil, err
	}
	vault, err := secrets.NewVault(ctx, name, &secrets.Args{
		Suffix:                 c.Suffix,
		Region:                 c.Region,
		AccountID:              e.account,
		Partition:              e.partition,
		RotatorZip:             e.zip,
		Administrators:         keys.Administrators,
		SubnetIDs:              net.PrivateSubnetIDs,
		RotatorSecurityGroupID: net.RotatorSecurityGroupID.ToStringOutput(),
		SecretsKeyArn:          keys.SecretsKeyArn,
		LogsKeyArn:             keys.LogsKeyArn,
		AlertsKeyArn:           keys.AlertsKeyArn,
		Database:               secrets.DatabaseOf(db),
		Production:             c.Production(),
		ExistingTrailName:      trail,
	}, c.AWS())
	if err != nil {
		return nil, err
	}
	return pulumi.Map{
		"vpcId":              net.VpcID,
		"clusterEndpoint":    db.Endpoint,
		"secretArn":          vault.SecretArn,
		"rotatorFunctionArn": vault.RotatorFunctionArn,
		"alertsTopicArn":     vault.AlertsTopicArn,
	}, nil
}
