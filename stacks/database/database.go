// Package database is the vault's third layer: the Aurora MySQL 8.0 cluster
// whose credentials the secrets layer keeps and rotates. TLS is required by
// the cluster parameter group, the server audit log is on, storage and logs
// are encrypted with the customer keys of the kms layer, and RDS manages the
// master password: it generates it, keeps it in a Secrets Manager secret of
// its own encrypted with the vault's secrets key, and rotates it, so the
// password never passes through Pulumi's config, state or outputs. Given
// an existing cluster instead (Args.Existing, existing.go), the layer
// creates none, checks that the vault can serve that one, admits the
// rotator to it and hands on its values. The layer also records the
// network layer's VPC in flow logs: they need the logs key, which the kms
// layer creates after the network, and this is the first layer that
// imports both.
package database

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dbvault/dbvault/stacks/kit"
)

// Defaults of the layer's configuration.
const (
	// DefaultEngineVersion is an Aurora MySQL 3 long-term-support release.
	// Aurora designates 3.04.* and 3.10.* as its current LTS minor versions;
	// 3.10 (MySQL 8.0.42 compatible) is the newer one and keeps the same
	// minor version for at least three years. Sources:
	// https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraMySQL.Update.SpecialVersions.html
	// https://docs.aws.amazon.com/AmazonRDS/latest/AuroraMySQLReleaseNotes/AuroraMySQL.Updates.3100.html
	// The T classes from medium up (db.t3.medium, db.t4g.medium) run Aurora
	// MySQL 3; AWS recommends them for development and test only:
	// https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.DBInstanceClass.SupportAurora.html
	// https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraMySQL.BestPractices.Performance.html
	DefaultEngineVersion = "8.0.mysql_aurora.3.10.0"
	// DefaultInstanceClass is the smallest class Aurora MySQL 8.0 runs on.
	DefaultInstanceClass = "db.t3.medium"
	// DefaultMasterUsername is the cluster's master user.
	DefaultMasterUsername = "dbadmin"
	// DefaultDBName is the database created with the cluster.
	DefaultDBName = "vault"
	// DefaultBackupRetentionDays keeps automated backups a week.
	DefaultBackupRetentionDays = 7
	// DefaultLogRetentionDays keeps the exported database logs 90 days.
	DefaultLogRetentionDays = 90
	// DefaultMasterRotationDays is how often RDS rotates the master
	// password: RDS's own default for managed master secrets is 7 days
	// (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-secrets-manager.html,
	// "rotates the secret every seven days"); the layer states it
	// explicitly so that the schedule is in code and checked by policy.
	DefaultMasterRotationDays = 7
	// MaxMasterRotationDays is the longest schedule the vault allows.
	MaxMasterRotationDays = 30
)

// Engine is the RDS engine of the cluster: Aurora MySQL.
const Engine = "aurora-mysql"

// ParameterGroupFamily is the cluster parameter group family of Aurora MySQL 3.
const ParameterGroupFamily = "aurora-mysql8.0"

// LogTypes are the logs the cluster exports to CloudWatch Logs.
var LogTypes = kit.RDSLogTypes

// InstanceCount is the number of DB instances, each in its own AZ: a writer
// and a reader that Aurora promotes if the writer's AZ fails.
const InstanceCount = 2

// Args are the inputs of the Database component. A field left at its zero
// value gets the default its comment names; NewDatabase refuses an invalid
// value before it creates anything.
type Args struct {
	// Suffix is environmentSuffix, the last part of every physical name.
	// Required: lower-case letters, digits and single hyphens
	// (kit.ValidateSuffix).
	Suffix string
	// Region is the AWS region (ARNs in the flow log role's policies).
	// Required.
	Region string
	// AccountID is the account the stacks deploy to. Required.
	AccountID string
	// Production keeps the data: deletion protection, a final snapshot and
	// `protect` on the cluster and its instances (kit.Production), and
	// raises LogRetentionDays' default and floor to a year. Zero means an
	// ephemeral environment.
	Production bool

	// EngineVersion is the Aurora MySQL 3 engine version. Zero means
	// DefaultEngineVersion; it must be 8.0.mysql_aurora.3.NN.N.
	EngineVersion string
	// InstanceClass is the class of both DB instances. Zero means
	// DefaultInstanceClass; it must be a DB instance class that Aurora
	// MySQL 8.0 runs on (db.t3.medium or larger).
	InstanceClass string
	// MasterUsername is the master user's name. Zero means
	// DefaultMasterUsername; it must be 1 to 16 letters, digits or
	// underscores, a letter first, and not rdsadmin.
	MasterUsername string
	// MasterRotationDays is the managed master secret's rotation period.
	// Zero means DefaultMasterRotationDays; it must be 1 to
	// MaxMasterRotationDays.
	MasterRotationDays int
	// ApplyEngineVersion applies EngineVersion to an existing cluster; off
	// (the zero value), the version RDS runs (after a patch it applied
	// itself) is kept.
	ApplyEngineVersion bool
	// DBName is the database created with the cluster. Zero means
	// DefaultDBName; it must be 1 to 64 letters, digits or underscores, a
	// letter first. With Existing, Existing.DBName is used instead.
	DBName string
	// BackupRetentionDays is how long automated backups are kept. Zero
	// means DefaultBackupRetentionDays; it must be 1 to 35.
	BackupRetentionDays int
	// LogRetentionDays is how long the exported logs and the flow log are
	// kept. Zero means DefaultLogRetentionDays, or
	// kit.ProductionMinLogRetentionDays in production; it must be a value
	// CloudWatch Logs accepts (kit.LogRetentionDays), and at least a year
	// in production.
	LogRetentionDays int
	// CreatedAt is the time in the final snapshot's name when the cluster
	// is created (FinalSnapshotName). Zero means now. Later `up`s keep the
	// name the cluster was created with.
	CreatedAt time.Time

	// SubnetIDs are the private subnets of the network layer. Required
	// without Existing.
	SubnetIDs pulumi.StringArrayInput
	// AvailabilityZones are the AZs of those subnets; the instances go into
	// the first two. Required without Existing.
	AvailabilityZones pulumi.StringArrayInput
	// OrderableZones are the zones where RDS offers the engine version and
	// instance class (rds.GetOrderableDbInstance). Zero (nil) skips the
	// check.
	OrderableZones []string
	// SecurityGroupID is the database security group of the network layer.
	// Required without Existing.
	SecurityGroupID pulumi.StringInput
	// DatabaseKeyArn is the KMS key that encrypts the cluster's storage.
	// Required without Existing.
	DatabaseKeyArn pulumi.StringInput
	// SecretsKeyArn is the KMS key that encrypts RDS's master secret.
	// Required.
	SecretsKeyArn pulumi.StringInput
	// LogsKeyArn is the KMS key that encrypts the log groups. Required.
	LogsKeyArn pulumi.StringInput
	// VpcID is the network layer's VPC, which gets the flow log. Required.
	VpcID pulumi.StringInput

	// Existing, when set, is a cluster the team already runs: the layer
	// creates no cluster, instance, parameter or subnet group and no log
	// group of the cluster's, and hands on the existing cluster's values
	// (existing.go). EngineVersion, InstanceClass, MasterUsername,
	// MasterRotationDays, ApplyEngineVersion, DBName, BackupRetentionDays,
	// CreatedAt, OrderableZones, SubnetIDs, AvailabilityZones,
	// SecurityGroupID and DatabaseKeyArn are then not used. Zero (nil)
	// means the vault creates its own cluster.
	Existing *Existing
	// RotatorSecurityGroupID is the rotator's security group of the network
	// layer. Required with Existing (the rules that let it reach the
	// cluster); not used without.
	RotatorSecurityGroupID pulumi.StringInput

	// names are the vault's names, from the component's name (set by
	// NewDatabase on its own copy of the Args).
	names kit.Names
}

var (
	engineVersionPattern = regexp.MustCompile(`^8\.0\.mysql_aurora\.3\.\d{2}\.\d+$`)
	instanceClassPattern = regexp.MustCompile(`^db\.[a-z0-9]+\.[a-z0-9]+$`)
	// 1 to 16 characters, a letter first: CreateDBCluster's MasterUsername
	// says "1 to 16 letters or numbers"
	// (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBCluster.html);
	// CreateDBInstance's adds underscores, which this pattern allows too,
	// unconfirmed for a cluster offline (the first real up shows it).
	usernamePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,15}$`)
	// A MySQL database name RDS accepts: a letter first, up to 64 letters,
	// digits and underscores.
	dbNamePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)
	// A DB cluster identifier: letters, digits and hyphens, a letter first
	// (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBCluster.html).
	clusterIDPattern     = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,62}$`)
	securityGroupPattern = regexp.MustCompile(`^sg-[0-9a-f]{8,17}$`)
	secretArnPattern     = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$`)
	// Aurora MySQL 8.0 runs on no class below medium, and on no db.t2
	// class (db.t2.medium: "not supported in 3.01.0 and higher",
	// https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.DBInstanceClass.SupportAurora.html).
	unsupportedClasses = []string{"db.t3.micro", "db.t3.small", "db.t4g.micro", "db.t4g.small"}
	// unsupportedFamily is the prefix of the classes of such a family.
	unsupportedFamily = "db.t2."
)

// applyDefaults sets the documented default on every optional field left
// at its zero value and checks every field, returning the first problem
// with the field's name and its rule. It never puts a secret in an error:
// the Args hold none.
func (a *Args) applyDefaults() error {
	if err := kit.ValidateSuffix(a.Suffix); err != nil {
		//lint:ignore ST1005 the message starts with the field's name
		return fmt.Errorf("Suffix is %q: %w", a.Suffix, err)
	}
	switch {
	case a.AccountID == "":
		return fmt.Errorf("AccountID is required (the flow log role's trust policy names the account)")
	case a.Region == "":
		//lint:ignore ST1005 the message starts with the field's name
		return fmt.Errorf("Region is required (the flow log role's trust policy names the region)")
	}
	if a.EngineVersion == "" {
		a.EngineVersion = DefaultEngineVersion
	}
	if a.InstanceClass == "" {
		a.InstanceClass = DefaultInstanceClass
	}
	if a.MasterUsername == "" {
		a.MasterUsername = DefaultMasterUsername
	}
	if a.MasterRotationDays == 0 {
		a.MasterRotationDays = DefaultMasterRotationDays
	}
	if a.DBName == "" {
		a.DBName = DefaultDBName
	}
	if a.BackupRetentionDays == 0 {
		a.BackupRetentionDays = DefaultBackupRetentionDays
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = time.Now()
	}
	days, err := kit.Retention("LogRetentionDays", a.LogRetentionDays, DefaultLogRetentionDays, a.Production)
	if err != nil {
		return err
	}
	a.LogRetentionDays = days
	switch {
	case !engineVersionPattern.MatchString(a.EngineVersion):
		return fmt.Errorf("EngineVersion is %q: it must be an Aurora MySQL 3 (MySQL 8.0) version such as %s", a.EngineVersion, DefaultEngineVersion)
	case !instanceClassPattern.MatchString(a.InstanceClass):
		return fmt.Errorf("InstanceClass is %q: it must be a DB instance class such as %s", a.InstanceClass, DefaultInstanceClass)
	case slices.Contains(unsupportedClasses, a.InstanceClass) || strings.HasPrefix(a.InstanceClass, unsupportedFamily):
		return fmt.Errorf("InstanceClass is %q: Aurora MySQL 8.0 does not support %s; use db.t3.medium or larger", a.InstanceClass, a.InstanceClass)
	case !usernamePattern.MatchString(a.MasterUsername) || strings.EqualFold(a.MasterUsername, "rdsadmin"):
		return fmt.Errorf("MasterUsername is %q: it must be 1 to 16 letters, digits or underscores, start with a letter, and not be rdsadmin", a.MasterUsername)
	case !dbNamePattern.MatchString(a.DBName):
		return fmt.Errorf("DBName is %q: it must be 1 to 64 letters, digits or underscores and start with a letter", a.DBName)
	case a.BackupRetentionDays < 1 || a.BackupRetentionDays > 35:
		// CreateDBCluster, BackupRetentionPeriod: "Must be a value from 1
		// to 35" (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBCluster.html).
		return fmt.Errorf("BackupRetentionDays is %d: Aurora keeps automated backups 1 to 35 days", a.BackupRetentionDays)
	case a.MasterRotationDays < 1 || a.MasterRotationDays > MaxMasterRotationDays:
		return fmt.Errorf("MasterRotationDays is %d: it must be from 1 to %d (the vault rotates every credential at least every %d days)", a.MasterRotationDays, MaxMasterRotationDays, MaxMasterRotationDays)
	case a.SecretsKeyArn == nil:
		return fmt.Errorf("SecretsKeyArn is required (the key of the master secret; the kms layer's secretsKeyArn)")
	case a.LogsKeyArn == nil:
		return fmt.Errorf("LogsKeyArn is required (the key of the log groups; the kms layer's logsKeyArn)")
	case a.VpcID == nil:
		return fmt.Errorf("VpcID is required (the VPC that gets the flow log; the network layer's vpcId)")
	}
	if a.Existing != nil {
		return a.Existing.check(a.RotatorSecurityGroupID)
	}
	switch {
	case a.SubnetIDs == nil:
		return fmt.Errorf("SubnetIDs is required without Existing (the cluster's subnets; the network layer's privateSubnetIds)")
	case a.AvailabilityZones == nil:
		return fmt.Errorf("AvailabilityZones is required without Existing (the instances' zones; the network layer's availabilityZones)")
	case a.SecurityGroupID == nil:
		return fmt.Errorf("SecurityGroupID is required without Existing (the cluster's security group; the network layer's databaseSecurityGroupId)")
	case a.DatabaseKeyArn == nil:
		return fmt.Errorf("DatabaseKeyArn is required without Existing (the key of the cluster's storage; the kms layer's databaseKeyArn)")
	}
	return nil
}

// Database is the cluster, its instances, its parameter and subnet groups and
// its log groups, and the VPC's flow log with its log group and role.
type Database struct {
	pulumi.ResourceState

	// ClusterIdentifier is the cluster's name, aurora-cluster-<suffix>.
	ClusterIdentifier pulumi.StringOutput
	// ClusterArn is the cluster's ARN.
	ClusterArn pulumi.StringOutput
	// ClusterResourceID is the cluster's immutable resource ID.
	ClusterResourceID pulumi.StringOutput
	// Endpoint is the writer endpoint.
	Endpoint pulumi.StringOutput
	// ReaderEndpoint is the load-balanced reader endpoint.
	ReaderEndpoint pulumi.StringOutput
	// Port is the MySQL port.
	Port pulumi.IntOutput
	// MasterUsername is the master user's name.
	MasterUsername pulumi.StringOutput
	// MasterSecretArn is the RDS-managed secret that holds the master
	// user's credentials ({"username", "password"}).
	MasterSecretArn pulumi.StringOutput
	// MasterSecretKeyArn is the KMS key that encrypts the master secret:
	// the vault's secrets key for its own cluster, the team's key for an
	// existing one (empty: the AWS managed key aws/secretsmanager).
	MasterSecretKeyArn pulumi.StringOutput
	// ExistingCluster is true when the cluster is the team's (Args.Existing):
	// the vault then leaves its master secret's policy alone.
	ExistingCluster bool
	// DBName is the database created with the cluster.
	DBName pulumi.StringOutput
	// LogGroupNames are the names of the cluster's log groups.
	LogGroupNames pulumi.StringArrayOutput
	// FlowLogID is the ID of the VPC's flow log.
	FlowLogID pulumi.IDOutput
	// FinalSnapshotIdentifier is the snapshot RDS takes when the cluster is
	// deleted in production (ephemeral clusters skip it); empty for a
	// cluster created ephemeral by an earlier version of this layer.
	FinalSnapshotIdentifier pulumi.StringPtrOutput
}

// LogGroupName is the log group RDS exports the cluster's logType log to.
// RDS fixes this name (/aws/rds/cluster/<cluster>/<type>), so it is the one
// physical name that does not end in -<suffix>; it carries the suffix in the
// cluster identifier instead.
func LogGroupName(clusterIdentifier, logType string) string {
	return kit.RDSLogGroup(clusterIdentifier, logType)
}

// NewDatabase creates the database layer's resources as children of one
// component.
//
// The component's name names the vault (kit.NewNames): give the vault's four
// components the same name, or default ones.
func NewDatabase(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Database, error) {
	if args == nil {
		return nil, fmt.Errorf("database: args are nil: Suffix, Region, AccountID, SecretsKeyArn, LogsKeyArn and VpcID are required, and SubnetIDs, AvailabilityZones, SecurityGroupID and DatabaseKeyArn without Existing")
	}
	d := &Database{}
	own := *args
	if err := own.applyDefaults(); err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	names, err := kit.NewNames(name, own.Suffix)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	own.names = names
	args = &own
	if err := ctx.RegisterComponentResource("dbvault:database:Database", name, d, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(d)
	if args.Existing != nil {
		err = existingDatabase(ctx, d, args, parent)
	} else {
		err = ownCluster(ctx, d, args, parent)
	}
	if err != nil {
		return nil, err
	}

	flowLog, err := newFlowLog(ctx, args, parent)
	if err != nil {
		return nil, err
	}

	d.FlowLogID = flowLog.ID()
	if err := ctx.RegisterResourceOutputs(d, d.Outputs()); err != nil {
		return nil, err
	}
	return d, nil
}

// Outputs are the database stack's outputs: what the secrets layer, verify
// and the rehearsal read from it.
func (d *Database) Outputs() pulumi.Map {
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
	return out
}

// ownCluster creates the vault's own cluster: its log groups, subnet and
// parameter groups, the cluster, its instances and the master secret's
// rotation schedule. It fills d's cluster outputs.
func ownCluster(ctx *pulumi.Context, d *Database, args *Args, parent pulumi.ResourceOption) error {
	names, l := args.names, args.names.Logical
	clusterID := names.ClusterIdentifier()

	// The log groups come first: if the cluster exported into a group that
	// does not exist yet, RDS would create it unencrypted and keep it forever.
	var logGroups []pulumi.Resource
	var logGroupNames pulumi.StringArray
	for _, t := range LogTypes {
		lg, err := cloudwatch.NewLogGroup(ctx, l("rds-"+t), &cloudwatch.LogGroupArgs{
			Name:            pulumi.String(LogGroupName(clusterID, t)),
			RetentionInDays: pulumi.Int(args.LogRetentionDays),
			KmsKeyId:        args.LogsKeyArn,
		}, parent)
		if err != nil {
			return fmt.Errorf("log group %s: %w", t, err)
		}
		logGroups = append(logGroups, lg)
		logGroupNames = append(logGroupNames, lg.Name)
	}

	subnets, err := rds.NewSubnetGroup(ctx, l("subnets"), &rds.SubnetGroupArgs{
		Name:        pulumi.String(names.Name("db-subnets")),
		Description: pulumi.String("Private subnets of the vault's Aurora cluster"),
		SubnetIds:   args.SubnetIDs,
	}, parent)
	if err != nil {
		return fmt.Errorf("subnet group: %w", err)
	}

	// Cluster-level settings of Aurora MySQL 3 (family aurora-mysql8.0):
	// https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraMySQL.Security.html
	// (require_secure_transport and tls_version in the DB cluster parameter
	// group) and
	// https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraMySQL.Auditing.html
	// (server_audit_logging, server_audit_events).
	params, err := rds.NewClusterParameterGroup(ctx, l("params"), &rds.ClusterParameterGroupArgs{
		Name:        pulumi.String(names.Name("aurora-mysql8-params")),
		Family:      pulumi.String(ParameterGroupFamily),
		Description: pulumi.String("TLS required (1.2 floor), server audit log on"),
		Parameters: rds.ClusterParameterGroupParameterArray{
			// Refuse every connection that is not TLS (error 3159); dynamic.
			param("require_secure_transport", "ON", "immediate"),
			// TLS 1.2 is the floor; tls_version is static, so it takes
			// effect at the instances' first boot (and after a reboot).
			// MySQL 8.0.28 and later (Aurora MySQL 3.10 is 8.0.42) know
			// only TLSv1.2 and TLSv1.3
			// (https://dev.mysql.com/doc/refman/8.0/en/encrypted-connection-protocols-ciphers.html);
			// that the aurora-mysql8.0 family takes this list as written
			// is unconfirmed offline: a value it refused would fail `up`,
			// and verify's tls-version line shows it in effect.
			param("tls_version", "TLSv1.2,TLSv1.3", "pending-reboot"),
			// Audit connections, grants and schema changes: who logged in,
			// and every password or privilege change, rotation's included.
			param("server_audit_logging", "1", "immediate"),
			param("server_audit_events", "CONNECT,QUERY_DCL,QUERY_DDL", "immediate"),
			// The slowquery export is empty unless the slow log is on and
			// written to files, which is what RDS ships to CloudWatch.
			param("slow_query_log", "1", "immediate"),
			param("log_output", "FILE", "immediate"),
		},
	}, parent)
	if err != nil {
		return fmt.Errorf("cluster parameter group: %w", err)
	}

	cluster, err := rds.NewCluster(ctx, l("cluster"), &rds.ClusterArgs{
		ClusterIdentifier: pulumi.String(clusterID),
		Engine:            pulumi.String(Engine),
		EngineVersion:     pulumi.String(args.EngineVersion),
		DatabaseName:      pulumi.String(args.DBName),
		MasterUsername:    pulumi.String(args.MasterUsername),
		// RDS generates the master password and keeps it in a secret it
		// creates, encrypted with the secrets key, and rotates:
		// https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-secrets-manager.html
		// On a cluster created with a master password (an environment of
		// an earlier version of this layer), turning this on is an
		// in-place ModifyDBCluster: terraform-provider-aws
		// internal/service/rds/cluster.go (resourceClusterUpdate) sends
		// ManageMasterUserPassword and MasterUserSecretKmsKeyId when they
		// change, and sends no MasterUserPassword when master_password is
		// no longer set.
		ManageMasterUserPassword:     pulumi.Bool(true),
		MasterUserSecretKmsKeyId:     args.SecretsKeyArn,
		DbSubnetGroupName:            subnets.Name,
		DbClusterParameterGroupName:  params.Name,
		VpcSecurityGroupIds:          pulumi.StringArray{args.SecurityGroupID},
		StorageEncrypted:             pulumi.Bool(true),
		KmsKeyId:                     args.DatabaseKeyArn,
		BackupRetentionPeriod:        pulumi.Int(args.BackupRetentionDays),
		CopyTagsToSnapshot:           pulumi.Bool(true),
		EnabledCloudwatchLogsExports: pulumi.ToStringArray(LogTypes),
		// Ephemeral: destroyable without manual steps, no final snapshot to
		// clean up, no deletion protection to turn off first. Production:
		// both, so that deleting the cluster takes two deliberate steps and
		// leaves its data behind.
		SkipFinalSnapshot:       pulumi.Bool(!args.Production),
		FinalSnapshotIdentifier: finalSnapshot(args),
		DeletionProtection:      pulumi.Bool(args.Production),
		// RDS defers an engine version change to the next maintenance
		// window "unless ApplyImmediately is enabled" (ModifyDBCluster,
		// EngineVersion:
		// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBCluster.html);
		// the provider sends it as set, false by default (pulumi-aws
		// sdk/go/aws/rds/cluster.go, ApplyImmediately). Asked to apply
		// the version, the layer applies it now.
		ApplyImmediately: pulumi.Bool(args.ApplyEngineVersion),
		// The provider deletes the automated backups with the cluster
		// unless told otherwise ("Default is `true`": pulumi-aws
		// sdk/go/aws/rds/cluster.go, DeleteAutomatedBackups; the
		// provider's internal/service/rds/cluster.go sends it in
		// DeleteDBCluster). Production keeps them, and with them
		// point-in-time recovery up to the deletion, for their retention.
		DeleteAutomatedBackups: pulumi.Bool(!args.Production),
		// Stay on standard support: a cluster silently enrolled in RDS
		// Extended Support is billed for it.
		EngineLifecycleSupport: pulumi.String("open-source-rds-extended-support-disabled"),
	}, parent, pulumi.DependsOn(logGroups), engineVersionOption(args), finalSnapshotOption(), kit.Protected(args.Production))
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}

	for i := range InstanceCount {
		_, err := rds.NewClusterInstance(ctx, l(fmt.Sprintf("instance-%d", i+1)), &rds.ClusterInstanceArgs{
			Identifier:         pulumi.String(names.Name(fmt.Sprintf("aurora-instance-%d", i+1))),
			ClusterIdentifier:  cluster.ID(),
			Engine:             cluster.Engine,
			EngineVersion:      cluster.EngineVersion,
			InstanceClass:      pulumi.String(args.InstanceClass),
			DbSubnetGroupName:  subnets.Name,
			AvailabilityZone:   nthZone(args.AvailabilityZones, args.OrderableZones, i),
			PubliclyAccessible: pulumi.Bool(false),
			// An LTS release stays put: AWS advises against automatic minor
			// upgrades, which may leave the LTS line.
			AutoMinorVersionUpgrade: pulumi.Bool(false),
			// The CA the rotator's embedded RDS bundle verifies.
			CaCertIdentifier: pulumi.String("rds-ca-rsa2048-g1"),
			PromotionTier:    pulumi.Int(i),
		}, parent, engineVersionOption(args), kit.Protected(args.Production))
		if err != nil {
			return fmt.Errorf("instance %d: %w", i+1, err)
		}
	}

	masterSecretArn := cluster.MasterUserSecrets.ApplyT(func(secrets []rds.ClusterMasterUserSecret) (string, error) {
		if len(secrets) == 0 || secrets[0].SecretArn == nil || *secrets[0].SecretArn == "" {
			return "", fmt.Errorf("RDS reports no master user secret for %s although manageMasterUserPassword is on", clusterID)
		}
		return *secrets[0].SecretArn, nil
	}).(pulumi.StringOutput)
	if err := masterRotation(ctx, l("master-rotation"), masterSecretArn, args.MasterRotationDays, parent); err != nil {
		return err
	}
	d.ClusterIdentifier = cluster.ClusterIdentifier
	d.ClusterArn = cluster.Arn
	d.ClusterResourceID = cluster.ClusterResourceId
	d.Endpoint = cluster.Endpoint
	d.ReaderEndpoint = cluster.ReaderEndpoint
	d.Port = cluster.Port
	d.MasterUsername = pulumi.String(args.MasterUsername).ToStringOutput()
	d.MasterSecretArn = masterSecretArn
	d.MasterSecretKeyArn = args.SecretsKeyArn.ToStringOutput()
	d.DBName = pulumi.String(args.DBName).ToStringOutput()
	d.LogGroupNames = logGroupNames.ToStringArrayOutput()
	d.FinalSnapshotIdentifier = cluster.FinalSnapshotIdentifier
	return nil
}
