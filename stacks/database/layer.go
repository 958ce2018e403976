package database

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/dbvault/dbvault/stacks/kit"
)

// Layer is the database layer: project vault-database.
var Layer = kit.Layer{Name: "database", Project: kit.DatabaseProject, Run: run}

// Config is the layer's own configuration (beyond kit.Common).
type Config struct {
	EngineVersion       string
	InstanceClass       string
	MasterUsername      string
	MasterRotationDays  int
	ApplyEngineVersion  bool
	DBName              string
	BackupRetentionDays int
	LogRetentionDays    int
	// Existing is the team's cluster to serve instead of creating one
	// (existingClusterIdentifier); nil creates the vault's own.
	Existing *Existing
}

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

var (
	engineVersionPattern = regexp.MustCompile(`^8\.0\.mysql_aurora\.3\.\d{2}\.\d+$`)
	instanceClassPattern = regexp.MustCompile(`^db\.[a-z0-9]+\.[a-z0-9]+$`)
	// Aurora MySQL: 1 to 16 letters, digits and underscores, a letter first.
	usernamePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,15}$`)
	// A MySQL database name RDS accepts: a letter first, up to 64 letters,
	// digits and underscores.
	dbNamePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)
	// A DB cluster identifier: letters, digits and hyphens, a letter first
	// (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBCluster.html).
	clusterIDPattern     = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,62}$`)
	securityGroupPattern = regexp.MustCompile(`^sg-[0-9a-f]{8,17}$`)
	secretArnPattern     = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$`)
	// Aurora MySQL 8.0 runs on no class below medium.
	unsupportedClasses = []string{"db.t2.micro", "db.t2.small", "db.t3.micro", "db.t3.small", "db.t4g.micro", "db.t4g.small"}
)

// LoadConfig reads and validates the layer's configuration. Its errors never
// contain the password.
func LoadConfig(ctx *pulumi.Context, common kit.Common) (Config, error) {
	cfg := config.New(ctx, "")
	c := Config{
		EngineVersion:  cfg.Get("engineVersion"),
		InstanceClass:  cfg.Get("instanceClass"),
		MasterUsername: cfg.Get("masterUsername"),
		DBName:         cfg.Get("dbName"),
	}
	if c.EngineVersion == "" {
		c.EngineVersion = DefaultEngineVersion
	}
	if c.InstanceClass == "" {
		c.InstanceClass = DefaultInstanceClass
	}
	if c.MasterUsername == "" {
		c.MasterUsername = DefaultMasterUsername
	}
	if c.DBName == "" {
		c.DBName = DefaultDBName
	}
	var err error
	if c.BackupRetentionDays, err = kit.IntConfig(cfg, "backupRetentionDays", DefaultBackupRetentionDays); err != nil {
		return Config{}, err
	}
	if c.LogRetentionDays, err = common.LogRetention(cfg, "logRetentionDays", DefaultLogRetentionDays); err != nil {
		return Config{}, err
	}
	if c.MasterRotationDays, err = kit.IntConfig(cfg, "masterRotationDays", DefaultMasterRotationDays); err != nil {
		return Config{}, err
	}
	switch v := cfg.Get("applyEngineVersion"); v {
	case "", "false":
	case "true":
		c.ApplyEngineVersion = true
	default:
		return Config{}, fmt.Errorf("applyEngineVersion is %q; it must be true or false", v)
	}
	if id := cfg.Get("existingClusterIdentifier"); id != "" {
		e, err := existingConfig(cfg, id)
		if err != nil {
			return Config{}, err
		}
		// The flow log's retention is the layer's either way.
		return Config{Existing: e, LogRetentionDays: c.LogRetentionDays}, nil
	}
	for _, k := range []string{"existingClusterSecurityGroupId", "existingMasterSecretArn"} {
		if cfg.Get(k) != "" {
			return Config{}, fmt.Errorf("%s is set without existingClusterIdentifier; it names part of an existing cluster: set existingClusterIdentifier too, or remove it", k)
		}
	}
	if cfg.Get("masterPassword") != "" {
		return Config{}, fmt.Errorf("masterPassword is set, but RDS now manages the master password (manageMasterUserPassword): remove it with `pulumi config rm masterPassword` in stacks/database; the credentials are in the secret the stack exports as masterSecretArn")
	}
	switch {
	case !engineVersionPattern.MatchString(c.EngineVersion):
		return Config{}, fmt.Errorf("engineVersion %q is not an Aurora MySQL 3 (MySQL 8.0) version such as %s", c.EngineVersion, DefaultEngineVersion)
	case !instanceClassPattern.MatchString(c.InstanceClass):
		return Config{}, fmt.Errorf("instanceClass %q is not a DB instance class such as %s", c.InstanceClass, DefaultInstanceClass)
	case slices.Contains(unsupportedClasses, c.InstanceClass):
		//lint:ignore ST1005 the message starts with the product's name
		return Config{}, fmt.Errorf("Aurora MySQL 8.0 does not support %s; use db.t3.medium or larger", c.InstanceClass)
	case !usernamePattern.MatchString(c.MasterUsername) || strings.EqualFold(c.MasterUsername, "rdsadmin"):
		return Config{}, fmt.Errorf("masterUsername %q must be 1 to 16 letters, digits or underscores, start with a letter, and not be rdsadmin", c.MasterUsername)
	case !dbNamePattern.MatchString(c.DBName):
		return Config{}, fmt.Errorf("dbName %q must be 1 to 64 letters, digits or underscores and start with a letter", c.DBName)
	case c.BackupRetentionDays < 1 || c.BackupRetentionDays > 35:
		return Config{}, fmt.Errorf("backupRetentionDays is %d; Aurora keeps automated backups 1 to 35 days", c.BackupRetentionDays)
	case c.MasterRotationDays < 1 || c.MasterRotationDays > MaxMasterRotationDays:
		return Config{}, fmt.Errorf("masterRotationDays is %d; it must be from 1 to %d (the vault rotates every credential at least every %d days)", c.MasterRotationDays, MaxMasterRotationDays, MaxMasterRotationDays)
	}
	return c, nil
}

// existingConfig reads the configuration of an existing cluster.
func existingConfig(cfg *config.Config, id string) (*Existing, error) {
	for _, k := range slices.Sorted(maps.Keys(ownClusterKeys)) {
		if v := cfg.Get(k); v != "" && v != ownClusterKeys[k] {
			return nil, fmt.Errorf("%s is set, but existingClusterIdentifier %s names a cluster the team runs, which keeps its own settings: remove %s", k, id, k)
		}
	}
	e := &Existing{
		ClusterIdentifier: id,
		SecurityGroupID:   cfg.Get("existingClusterSecurityGroupId"),
		MasterSecretArn:   cfg.Get("existingMasterSecretArn"),
		DBName:            cfg.Get("dbName"),
	}
	switch {
	case !clusterIDPattern.MatchString(id):
		return nil, fmt.Errorf("existingClusterIdentifier %q is not a DB cluster identifier (1 to 63 letters, digits or hyphens, a letter first)", id)
	case e.SecurityGroupID != "" && !securityGroupPattern.MatchString(e.SecurityGroupID):
		return nil, fmt.Errorf("existingClusterSecurityGroupId %q is not a security group ID (sg-<hex>)", e.SecurityGroupID)
	case e.MasterSecretArn != "" && !secretArnPattern.MatchString(e.MasterSecretArn):
		return nil, fmt.Errorf("existingMasterSecretArn %q is not a Secrets Manager secret ARN", e.MasterSecretArn)
	}
	return e, nil
}

func run(ctx *pulumi.Context) (pulumi.Map, error) {
	common, err := kit.LoadCommon(ctx)
	if err != nil {
		return nil, err
	}
	c, err := LoadConfig(ctx, common)
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
	identity, err := aws.GetCallerIdentity(ctx, nil, common.AWS())
	if err != nil {
		return nil, fmt.Errorf("caller identity: %w", err)
	}
	// RDS creates the master secret with the secrets key on the deployer's
	// behalf, which only an administrator of the vault may make it do: a
	// preview by anyone else stops here, before the cluster waits on the
	// key (kit.CheckDeployer says why every layer needs it).
	deployer, err := kit.DeployingPrincipal(ctx, identity.Arn, common.AWS())
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	secretsKey := pulumi.All(keys.String("secretsKeyArn"), kit.RequireDeployer(deployer, keys.Strings("administrators"))).ApplyT(
		func(a []any) string { return a[0].(string) }).(pulumi.StringOutput)
	// Not every zone offers every class: a zone that lacks it would fail
	// the instance's creation after the cluster exists.
	// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeOrderableDBInstanceOptions.html
	var orderableZones []string
	if c.Existing == nil {
		orderable, err := rds.GetOrderableDbInstance(ctx, OrderableLookup(c.EngineVersion, c.InstanceClass), common.AWS())
		if err != nil {
			return nil, fmt.Errorf("database: where RDS offers %s for %s: %w", c.InstanceClass, c.EngineVersion, err)
		}
		orderableZones = orderable.AvailabilityZones
	}
	args := &Args{
		OrderableZones:      orderableZones,
		Existing:            c.Existing,
		Suffix:              common.Suffix,
		Region:              common.Region,
		AccountID:           identity.AccountId,
		EngineVersion:       c.EngineVersion,
		InstanceClass:       c.InstanceClass,
		MasterUsername:      c.MasterUsername,
		MasterRotationDays:  c.MasterRotationDays,
		ApplyEngineVersion:  c.ApplyEngineVersion,
		Production:          common.Production(),
		DBName:              c.DBName,
		BackupRetentionDays: c.BackupRetentionDays,
		LogRetentionDays:    c.LogRetentionDays,
		SubnetIDs:           network.Strings("privateSubnetIds"),
		AvailabilityZones:   network.Strings("availabilityZones"),
		SecurityGroupID:     network.String("databaseSecurityGroupId"),
		DatabaseKeyArn:      keys.String("databaseKeyArn"),
		SecretsKeyArn:       secretsKey,
		LogsKeyArn:          keys.String("logsKeyArn"),
		VpcID:               network.String("vpcId"),
	}
	if c.Existing != nil {
		// Only an existing cluster needs the rotator's group here: the
		// network layer already admits the rotator to its own cluster's.
		args.RotatorSecurityGroupID = network.String("rotatorSecurityGroupId")
	}
	d, err := NewDatabase(ctx, kit.DatabaseComponent, args, common.AWS())
	if err != nil {
		return nil, err
	}
	out := pulumi.Map{
		"clusterIdentifier": d.ClusterIdentifier,
		"clusterArn":        d.ClusterArn,
		"clusterResourceId": d.ClusterResourceID,
		"clusterEndpoint":   d.Endpoint,
		"readerEndpoint":    d.ReaderEndpoint,
		"port":              d.Port,
		"masterUsername":    d.MasterUsername,
		"masterSecretArn":   d.MasterSecretArn,
		// The key the secrets layer lets the rotator decrypt the master
		// secret with, and whether that secret is the team's (whose
		// policy the vault leaves alone).
		"masterSecretKeyArn": d.MasterSecretKeyArn,
		"existingCluster":    pulumi.Bool(d.ExistingCluster),
		"dbName":             d.DBName,
		// verify's flow-log line reads the flow log's delivery status.
		"flowLogId": d.FlowLogID,
	}
	if !d.ExistingCluster {
		// The name to look for once the cluster is gone (docs/runbooks.md,
		// "Retiring a production environment"); a team's cluster is never
		// deleted by the vault, so it has none.
		out["finalSnapshotIdentifier"] = d.FinalSnapshotIdentifier
	}
	return out, nil
}
