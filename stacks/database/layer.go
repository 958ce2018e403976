package database

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/dbvault/dbvault/stacks/kit"
)

// Layer is the database layer: project vault-database.
var Layer = kit.NewLayer("database", kit.DatabaseProject, run)

// ownClusterKeys are the keys that describe a cluster the vault creates,
// with their defaults. Set to anything else together with
// existingClusterIdentifier they would be silently ignored, so they are
// refused; their defaults are not, since the Pulumi CLI writes every
// declared default into a stack's configuration.
var ownClusterKeys = map[string]string{
	"engineVersion":       DefaultEngineVersion,
	"instanceClass":       DefaultInstanceClass,
	"masterUsername":      DefaultMasterUsername,
	"masterRotationDays":  strconv.Itoa(DefaultMasterRotationDays),
	"applyEngineVersion":  "false",
	"backupRetentionDays": strconv.Itoa(DefaultBackupRetentionDays),
}

// loadArgs reads the layer's configuration into Args, leaving a key that is
// not set at its zero value (NewDatabase gives it its default and checks
// every value). It refuses only what the configuration alone shows: a value
// that does not parse, a number of days set to 0, a retired key, a key that
// needs another one, and an own-cluster key set next to an existing cluster.
// Its errors never contain the password.
func loadArgs(ctx *pulumi.Context, common kit.Common) (*Args, error) {
	cfg := config.New(ctx, "")
	if cfg.Get("masterPassword") != "" {
		return nil, fmt.Errorf("masterPassword is set, but RDS now manages the master password (manageMasterUserPassword): remove it with `pulumi config rm masterPassword` in stacks/database; the credentials are in the secret the stack exports as masterSecretArn")
	}
	a := &Args{
		Suffix:         common.Suffix,
		Region:         common.Region,
		Production:     common.Production(),
		EngineVersion:  cfg.Get("engineVersion"),
		InstanceClass:  cfg.Get("instanceClass"),
		MasterUsername: cfg.Get("masterUsername"),
	}
	// logRetentionDays left at 0 gets the component's default, which
	// depends on the environment class (a year in production).
	if err := kit.NonZeroInts(cfg, map[string]*int{
		"backupRetentionDays": &a.BackupRetentionDays,
		"logRetentionDays":    &a.LogRetentionDays,
		"masterRotationDays":  &a.MasterRotationDays,
	}, "a number of days must be at least 1: set one, or remove the key for the default"); err != nil {
		return nil, err
	}
	switch v := cfg.Get("applyEngineVersion"); v {
	case "", "false":
	case "true":
		a.ApplyEngineVersion = true
	default:
		return nil, fmt.Errorf("applyEngineVersion is %q; it must be true or false", v)
	}
	if id := cfg.Get("existingClusterIdentifier"); id != "" {
		for _, k := range slices.Sorted(maps.Keys(ownClusterKeys)) {
			if v := cfg.Get(k); v != "" && v != ownClusterKeys[k] {
				return nil, fmt.Errorf("%s is set, but existingClusterIdentifier %s names a cluster the team runs, which keeps its own settings: remove %s", k, id, k)
			}
		}
		// dbName names the existing cluster's database (empty: the one it
		// was created with), not one the vault creates.
		a.Existing = &Existing{
			ClusterIdentifier: id,
			SecurityGroupID:   cfg.Get("existingClusterSecurityGroupId"),
			MasterSecretArn:   cfg.Get("existingMasterSecretArn"),
			DBName:            cfg.Get("dbName"),
		}
		return a, nil
	}
	for _, k := range []string{"existingClusterSecurityGroupId", "existingMasterSecretArn"} {
		if cfg.Get(k) != "" {
			return nil, fmt.Errorf("%s is set without existingClusterIdentifier; it names part of an existing cluster: set existingClusterIdentifier too, or remove it", k)
		}
	}
	a.DBName = cfg.Get("dbName")
	return a, nil
}

func run(ctx *pulumi.Context, common kit.Common) (pulumi.Map, error) {
	args, err := loadArgs(ctx, common)
	if err != nil {
		return nil, err
	}
	network, err := kit.NewRef(ctx, "networkStack", kit.NetworkProject)
	if err != nil {
		return nil, err
	}
	keys, err := kit.NewRef(ctx, "kmsStack", kit.KMSProject)
	if err != nil {
		return nil, err
	}
	// RDS creates the master secret with the secrets key on the deployer's
	// behalf, which only an administrator of the vault may make it do: a
	// preview by anyone else stops here, before the cluster waits on the
	// key (kit.CheckDeployer says why every layer needs it).
	account, deployer, err := common.Deployer(ctx)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	args.AccountID = account
	args.SecretsKeyArn = pulumi.All(keys.String("secretsKeyArn"), kit.RequireDeployer(deployer, keys.Strings("administrators"))).ApplyT(
		func(a []any) string { return a[0].(string) }).(pulumi.StringOutput)
	args.LogsKeyArn = keys.String("logsKeyArn")
	args.VpcID = network.String("vpcId")
	if args.Existing != nil {
		// Only an existing cluster needs the rotator's group here: the
		// network layer already admits the rotator to its own cluster's.
		args.RotatorSecurityGroupID = network.String("rotatorSecurityGroupId")
	} else {
		args.SubnetIDs = network.Strings("privateSubnetIds")
		args.AvailabilityZones = network.Strings("availabilityZones")
		args.SecurityGroupID = network.String("databaseSecurityGroupId")
		args.DatabaseKeyArn = keys.String("databaseKeyArn")
	}
	// The orderable lookup asks about the engine version and class the
	// component will use, defaults included; an invalid value stops here,
	// before the lookup.
	if err := args.applyDefaults(); err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	if args.Existing == nil {
		// Not every zone offers every class: a zone that lacks it would
		// fail the instance's creation after the cluster exists.
		// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeOrderableDBInstanceOptions.html
		// The lookup runs on every preview, also of a running cluster,
		// and RDS stops offering superseded patch versions to new
		// instances: the error says how a running environment gets past it.
		orderable, err := rds.GetOrderableDbInstance(ctx, OrderableLookup(args.EngineVersion, args.InstanceClass), common.AWS())
		if err != nil {
			return nil, fmt.Errorf("database: where RDS offers %s for %s: %w; %s", args.InstanceClass, args.EngineVersion, err, notOfferedFix)
		}
		args.OrderableZones = orderable.AvailabilityZones
	}
	d, err := NewDatabase(ctx, kit.DatabaseComponent, args, common.AWS())
	if err != nil {
		return nil, err
	}
	return d.Outputs(), nil
}
