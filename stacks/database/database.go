// Package database is the vault's third layer: the Aurora MySQL 8.0 cluster
// whose credentials the secrets layer keeps and rotates. TLS is required by
// the cluster parameter group, the server audit log is on, storage and logs
// are encrypted with the customer keys of the kms layer, and RDS manages the
// master password: it generates it, keeps it in a Secrets Manager secret of
// its own encrypted with the vault's secrets key, and rotates it, so the
// password never passes through Pulumi's config, state or outputs. The
// layer also
// records the network layer's VPC in flow logs: they need the logs key, which
// the kms layer creates after the network, and this is the first layer that
// imports both.
package database

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

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

// FlowLogAggregationSeconds is how long the flow log aggregates packets into
// one record: 600 s is AWS's default and the cheaper of the two choices.
const FlowLogAggregationSeconds = 600

// FlowLogsService is the service principal that delivers VPC flow logs.
const FlowLogsService = "vpc-flow-logs.amazonaws.com"

// InstanceCount is the number of DB instances, each in its own AZ: a writer
// and a reader that Aurora promotes if the writer's AZ fails.
const InstanceCount = 2

// Layer is the database layer: project vault-database.
var Layer = kit.Layer{Name: "database", Project: kit.DatabaseProject, Run: run}

// Args are the inputs of the Database component.
type Args struct {
	// Suffix is environmentSuffix.
	Suffix string
	// Region is the AWS region (ARNs in the flow log role's policies).
	Region string
	// AccountID is the account the stacks deploy to.
	AccountID string
	// EngineVersion is the Aurora MySQL 3 engine version.
	EngineVersion string
	// InstanceClass is the class of both DB instances.
	InstanceClass string
	// MasterUsername is the master user's name.
	MasterUsername string
	// MasterRotationDays is the managed master secret's rotation period.
	MasterRotationDays int
	// ApplyEngineVersion applies EngineVersion to an existing cluster; off,
	// the version RDS runs (after a patch it applied itself) is kept.
	ApplyEngineVersion bool
	// Production keeps the data: deletion protection, a final snapshot and
	// `protect` on the cluster and its instances (kit.Production).
	Production bool
	// DBName is the database created with the cluster.
	DBName string
	// BackupRetentionDays is how long automated backups are kept.
	BackupRetentionDays int
	// LogRetentionDays is how long the exported logs are kept.
	LogRetentionDays int

	// SubnetIDs are the private subnets of the network layer.
	SubnetIDs pulumi.StringArrayInput
	// AvailabilityZones are the AZs of those subnets; the instances go into
	// the first two.
	AvailabilityZones pulumi.StringArrayInput
	// OrderableZones are the zones where RDS offers the engine version and
	// instance class (rds.GetOrderableDbInstance); nil skips the check.
	OrderableZones []string
	// SecurityGroupID is the database security group of the network layer.
	SecurityGroupID pulumi.StringInput
	// DatabaseKeyArn is the KMS key that encrypts the cluster's storage.
	DatabaseKeyArn pulumi.StringInput
	// SecretsKeyArn is the KMS key that encrypts RDS's master secret.
	SecretsKeyArn pulumi.StringInput
	// LogsKeyArn is the KMS key that encrypts the log groups.
	LogsKeyArn pulumi.StringInput
	// VpcID is the network layer's VPC, which gets the flow log.
	VpcID pulumi.StringInput
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
	// DBName is the database created with the cluster.
	DBName pulumi.StringOutput
	// LogGroupNames are the names of the cluster's log groups.
	LogGroupNames pulumi.StringArrayOutput
	// FlowLogID is the ID of the VPC's flow log.
	FlowLogID pulumi.IDOutput
}

// ClusterIdentifier is the cluster's name in environment suffix.
func ClusterIdentifier(suffix string) string { return kit.ClusterIdentifier(suffix) }

// LogGroupName is the log group RDS exports the cluster's logType log to.
// RDS fixes this name (/aws/rds/cluster/<cluster>/<type>), so it is the one
// physical name that does not end in -<suffix>; it carries the suffix in the
// cluster identifier instead.
func LogGroupName(clusterIdentifier, logType string) string {
	return kit.RDSLogGroup(clusterIdentifier, logType)
}

// FlowLogGroupName is the log group of the VPC's flow log. It ends in
// -<suffix>, so the logs key's encryption-context condition
// (log-group:*-<suffix>) admits it.
func FlowLogGroupName(suffix string) string { return kit.FlowLogGroup(suffix) }

// NewDatabase creates the database layer's resources as children of one
// component.
func NewDatabase(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Database, error) {
	d := &Database{}
	if args.AccountID == "" || args.Region == "" {
		return nil, fmt.Errorf("database: account and region are required (flow log role)")
	}
	if err := ctx.RegisterComponentResource("dbvault:database:Database", name, d, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(d)
	clusterID := ClusterIdentifier(args.Suffix)

	// The log groups come first: if the cluster exported into a group that
	// does not exist yet, RDS would create it unencrypted and keep it forever.
	var logGroups []pulumi.Resource
	var logGroupNames pulumi.StringArray
	for _, t := range LogTypes {
		lg, err := cloudwatch.NewLogGroup(ctx, "rds-"+t, &cloudwatch.LogGroupArgs{
			Name:            pulumi.String(LogGroupName(clusterID, t)),
			RetentionInDays: pulumi.Int(args.LogRetentionDays),
			KmsKeyId:        args.LogsKeyArn,
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("log group %s: %w", t, err)
		}
		logGroups = append(logGroups, lg)
		logGroupNames = append(logGroupNames, lg.Name)
	}

	subnets, err := rds.NewSubnetGroup(ctx, "subnets", &rds.SubnetGroupArgs{
		Name:        pulumi.String(kit.Name("db-subnets", args.Suffix)),
		Description: pulumi.String("Private subnets of the vault's Aurora cluster"),
		SubnetIds:   args.SubnetIDs,
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("subnet group: %w", err)
	}

	// Cluster-level settings of Aurora MySQL 3 (family aurora-mysql8.0):
	// https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraMySQL.Security.html
	// (require_secure_transport and tls_version in the DB cluster parameter
	// group) and
	// https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraMySQL.Auditing.html
	// (server_audit_logging, server_audit_events).
	params, err := rds.NewClusterParameterGroup(ctx, "params", &rds.ClusterParameterGroupArgs{
		Name:        pulumi.String(kit.Name("aurora-mysql8-params", args.Suffix)),
		Family:      pulumi.String(ParameterGroupFamily),
		Description: pulumi.String("TLS required (1.2 floor), server audit log on"),
		Parameters: rds.ClusterParameterGroupParameterArray{
			// Refuse every connection that is not TLS (error 3159); dynamic.
			param("require_secure_transport", "ON", "immediate"),
			// TLS 1.2 is the floor; tls_version is static, so it takes
			// effect at the instances' first boot (and after a reboot).
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
		return nil, fmt.Errorf("cluster parameter group: %w", err)
	}

	cluster, err := rds.NewCluster(ctx, "cluster", &rds.ClusterArgs{
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
		// Stay on standard support: a cluster silently enrolled in RDS
		// Extended Support is billed for it.
		EngineLifecycleSupport: pulumi.String("open-source-rds-extended-support-disabled"),
	}, parent, pulumi.DependsOn(logGroups), engineVersionOption(args), pulumi.Protect(args.Production))
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}

	for i := range InstanceCount {
		_, err := rds.NewClusterInstance(ctx, fmt.Sprintf("instance-%d", i+1), &rds.ClusterInstanceArgs{
			Identifier:         pulumi.String(kit.Name(fmt.Sprintf("aurora-instance-%d", i+1), args.Suffix)),
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
		}, parent, engineVersionOption(args), pulumi.Protect(args.Production))
		if err != nil {
			return nil, fmt.Errorf("instance %d: %w", i+1, err)
		}
	}

	masterSecretArn := cluster.MasterUserSecrets.ApplyT(func(secrets []rds.ClusterMasterUserSecret) (string, error) {
		if len(secrets) == 0 || secrets[0].SecretArn == nil || *secrets[0].SecretArn == "" {
			return "", fmt.Errorf("RDS reports no master user secret for %s although manageMasterUserPassword is on", clusterID)
		}
		return *secrets[0].SecretArn, nil
	}).(pulumi.StringOutput)
	if err := masterRotation(ctx, masterSecretArn, args.MasterRotationDays, parent); err != nil {
		return nil, err
	}

	flowLog, err := newFlowLog(ctx, args, parent)
	if err != nil {
		return nil, err
	}

	d.ClusterIdentifier = cluster.ClusterIdentifier
	d.ClusterArn = cluster.Arn
	d.ClusterResourceID = cluster.ClusterResourceId
	d.Endpoint = cluster.Endpoint
	d.ReaderEndpoint = cluster.ReaderEndpoint
	d.Port = cluster.Port
	d.MasterUsername = pulumi.String(args.MasterUsername).ToStringOutput()
	d.MasterSecretArn = masterSecretArn
	d.DBName = pulumi.String(args.DBName).ToStringOutput()
	d.LogGroupNames = logGroupNames.ToStringArrayOutput()
	d.FlowLogID = flowLog.ID()
	if err := ctx.RegisterResourceOutputs(d, pulumi.Map{
		"clusterIdentifier": d.ClusterIdentifier,
		"clusterArn":        d.ClusterArn,
		"endpoint":          d.Endpoint,
		"readerEndpoint":    d.ReaderEndpoint,
		"port":              d.Port,
		"logGroupNames":     d.LogGroupNames,
		"flowLogId":         d.FlowLogID,
		"masterSecretArn":   d.MasterSecretArn,
	}); err != nil {
		return nil, err
	}
	return d, nil
}

// FinalSnapshotName is the snapshot RDS takes when a production cluster is
// deleted. It is named from the environment alone, not from the date: the
// identifier is an input of the cluster, so a date in it would change, and
// show as a change, on every `up`; RDS adds the snapshot's creation time.
func FinalSnapshotName(suffix string) string { return kit.Name("aurora-cluster-final", suffix) }

func finalSnapshot(args *Args) pulumi.StringPtrInput {
	if !args.Production {
		return nil
	}
	return pulumi.String(FinalSnapshotName(args.Suffix))
}

// engineVersionOption keeps the engine version RDS runs. RDS applies
// mandatory patches itself (even with autoMinorVersionUpgrade off), and the
// provider then reads the new version back into engineVersion:
// terraform-provider-aws internal/service/rds (compareActualEngineVersion)
// keeps the configured value only when it is a prefix of the actual one, so
// a pinned 8.0.mysql_aurora.3.10.0 against an actual 3.10.1 shows as a
// change, and `up` would ask RDS for a downgrade. The version is therefore
// ignored unless the stack's config sets applyEngineVersion: an upgrade is
// an explicit change (set engineVersion and applyEngineVersion, `up`, then
// unset applyEngineVersion).
// https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraMySQL.Updates.Patching.html
func engineVersionOption(args *Args) pulumi.ResourceOption {
	if args.ApplyEngineVersion {
		return pulumi.IgnoreChanges(nil)
	}
	return pulumi.IgnoreChanges([]string{"engineVersion"})
}

// masterRotation sets the schedule on which RDS rotates its master secret.
// A managed secret's schedule can be changed, and its rotation needs no
// Lambda: RotateSecret without RotationLambdaARN, which pulumi-aws v6.83.4
// allows (secretsmanager.SecretRotationArgs.RotationLambdaArn is optional
// since terraform-provider-aws PR #34180, "support managed secrets";
// https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_managed.html).
//   - RotateImmediately false: RDS has just generated the password; the
//     change only sets the schedule (RotateSecret API reference,
//     RotateImmediately: "wait until the next scheduled rotation window").
//   - RetainOnDelete: the provider deletes this resource with
//     CancelRotateSecret (internal/service/secretsmanager/secret_rotation.go,
//     resourceSecretRotationDelete), which would switch RDS's rotation off
//     while the cluster lives on; RDS deletes the secret with the cluster.
//
// Unconfirmed offline: whether the provider reads back a RotationLambdaARN
// for a managed secret (which would show as a change on the next `up`); the
// first real deploy's second `up` must show no change to master-rotation.
func masterRotation(ctx *pulumi.Context, secretArn pulumi.StringOutput, days int, parent pulumi.ResourceOption) error {
	_, err := secretsmanager.NewSecretRotation(ctx, "master-rotation", &secretsmanager.SecretRotationArgs{
		SecretId: secretArn,
		RotationRules: &secretsmanager.SecretRotationRotationRulesArgs{
			AutomaticallyAfterDays: pulumi.Int(days),
		},
		RotateImmediately: pulumi.Bool(false),
	}, parent, pulumi.RetainOnDelete(true))
	if err != nil {
		return fmt.Errorf("master secret rotation: %w", err)
	}
	return nil
}

// newFlowLog records all of the VPC's traffic into an encrypted log group of
// its own, delivered through a role that only the flow logs service of this
// account can assume and that may write only to that group. Source:
// https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html
func newFlowLog(ctx *pulumi.Context, args *Args, parent pulumi.ResourceOption) (*ec2.FlowLog, error) {
	group, err := cloudwatch.NewLogGroup(ctx, "vpc-flow-logs", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String(FlowLogGroupName(args.Suffix)),
		RetentionInDays: pulumi.Int(args.LogRetentionDays),
		KmsKeyId:        args.LogsKeyArn,
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("flow log group: %w", err)
	}
	trust, err := FlowLogTrustPolicy(args.Region, args.AccountID).JSON()
	if err != nil {
		return nil, fmt.Errorf("flow log role trust policy: %w", err)
	}
	role, err := iam.NewRole(ctx, "vpc-flow-logs-role", &iam.RoleArgs{
		Name:             pulumi.String(kit.GlobalName("vpc-flow-logs-role", args.Region, args.Suffix)),
		Description:      pulumi.String("Lets VPC flow logs deliver to " + FlowLogGroupName(args.Suffix)),
		AssumeRolePolicy: pulumi.String(trust),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("flow log role: %w", err)
	}
	policy, err := iam.NewRolePolicy(ctx, "vpc-flow-logs-policy", &iam.RolePolicyArgs{
		Name: pulumi.String(kit.Name("vpc-flow-logs-policy", args.Suffix)),
		Role: role.Name,
		Policy: group.Arn.ApplyT(func(arn string) (string, error) {
			return FlowLogDeliveryPolicy(arn).JSON()
		}).(pulumi.StringOutput),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("flow log role policy: %w", err)
	}
	flowLog, err := ec2.NewFlowLog(ctx, "vpc-flow-log", &ec2.FlowLogArgs{
		VpcId:                  args.VpcID,
		TrafficType:            pulumi.String("ALL"),
		LogDestinationType:     pulumi.String("cloud-watch-logs"),
		LogDestination:         group.Arn,
		IamRoleArn:             role.Arn,
		MaxAggregationInterval: pulumi.Int(FlowLogAggregationSeconds),
		Tags:                   pulumi.StringMap{"Name": pulumi.String(kit.Name("vpc-flow-log", args.Suffix))},
	}, parent,
		// The service checks the role when the flow log is created; without
		// its policy the first deliveries would fail.
		pulumi.DependsOn([]pulumi.Resource{policy}))
	if err != nil {
		return nil, fmt.Errorf("flow log: %w", err)
	}
	return flowLog, nil
}

// FlowLogTrustPolicy lets the flow logs service assume the delivery role
// only for a flow log of this account and region (aws:SourceAccount and
// aws:SourceArn, AWS's guard against the confused deputy). The flow log's ID
// is unknown before it exists, so the ARN ends in a wildcard, as AWS's
// documentation suggests.
func FlowLogTrustPolicy(region, account string) kit.PolicyDocument {
	return kit.NewPolicy(kit.Statement{
		Sid:       "VPCFlowLogsOfThisAccount",
		Effect:    "Allow",
		Principal: map[string]any{"Service": FlowLogsService},
		Action:    "sts:AssumeRole",
		Condition: map[string]map[string]any{
			"StringEquals": {"aws:SourceAccount": account},
			"ArnLike":      {"aws:SourceArn": fmt.Sprintf("arn:aws:ec2:%s:%s:vpc-flow-log/*", region, account)},
		},
	})
}

// FlowLogDeliveryPolicy lets the delivery role write to the flow log group
// and its streams, and nothing else. AWS's minimal policy also lists
// logs:CreateLogGroup and Resource "*": the stack creates the group itself
// (encrypted, with a retention), so the service never needs to.
//
// logs:DescribeLogGroups lists the account's groups: scoped to one group it
// grants nothing, so it gets the "*" that AWS's flow-log role policy gives
// it (https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html);
// the Service Authorization Reference lists DescribeLogGroups with no
// resource-level permission beyond the account's groups
// (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html).
func FlowLogDeliveryPolicy(logGroupArn string) kit.PolicyDocument {
	return kit.NewPolicy(
		kit.Statement{
			Sid:      "DeliverToTheFlowLogGroup",
			Effect:   "Allow",
			Action:   []string{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"},
			Resource: []string{logGroupArn, logGroupArn + ":*"},
		},
		kit.Statement{
			Sid:      "ListLogGroups",
			Effect:   "Allow",
			Action:   "logs:DescribeLogGroups",
			Resource: "*",
		},
	)
}

func param(name, value, applyMethod string) rds.ClusterParameterGroupParameterInput {
	return rds.ClusterParameterGroupParameterArgs{
		Name:        pulumi.String(name),
		Value:       pulumi.String(value),
		ApplyMethod: pulumi.String(applyMethod),
	}
}

// nthZone is the i-th availability zone, with an error that says why when the
// network layer offers fewer than InstanceCount, or when RDS does not offer
// the instance class there (orderable: the zones RDS offers it in; nil when
// unknown).
func nthZone(zones pulumi.StringArrayInput, orderable []string, i int) pulumi.StringOutput {
	return zones.ToStringArrayOutput().ApplyT(func(azs []string) (string, error) {
		if len(azs) < InstanceCount {
			return "", fmt.Errorf("the network layer exports %d availability zone(s); the cluster's %d instances need %d distinct ones", len(azs), InstanceCount, InstanceCount)
		}
		if orderable != nil && !slices.Contains(orderable, azs[i]) {
			return "", fmt.Errorf("RDS does not offer this instance class and engine version in %s (it does in %v): exclude that zone's ID with the network layer's excludeZoneIds, or choose another instanceClass", azs[i], orderable)
		}
		return azs[i], nil
	}).(pulumi.StringOutput)
}

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
}

var (
	engineVersionPattern = regexp.MustCompile(`^8\.0\.mysql_aurora\.3\.\d{2}\.\d+$`)
	instanceClassPattern = regexp.MustCompile(`^db\.[a-z0-9]+\.[a-z0-9]+$`)
	// Aurora MySQL: 1 to 16 letters, digits and underscores, a letter first.
	usernamePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,15}$`)
	// A MySQL database name RDS accepts: a letter first, up to 64 letters,
	// digits and underscores.
	dbNamePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)
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
	identity, err := aws.GetCallerIdentity(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("caller identity: %w", err)
	}
	// Not every zone offers every class: a zone that lacks it would fail
	// the instance's creation after the cluster exists.
	// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeOrderableDBInstanceOptions.html
	orderable, err := rds.GetOrderableDbInstance(ctx, &rds.GetOrderableDbInstanceArgs{
		Engine:        Engine,
		EngineVersion: pulumi.StringRef(c.EngineVersion),
		InstanceClass: pulumi.StringRef(c.InstanceClass),
	})
	if err != nil {
		return nil, fmt.Errorf("database: where RDS offers %s for %s: %w", c.InstanceClass, c.EngineVersion, err)
	}
	d, err := NewDatabase(ctx, "database", &Args{
		OrderableZones:      orderable.AvailabilityZones,
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
		SecretsKeyArn:       keys.String("secretsKeyArn"),
		LogsKeyArn:          keys.String("logsKeyArn"),
		VpcID:               network.String("vpcId"),
	})
	if err != nil {
		return nil, err
	}
	return pulumi.Map{
		"clusterIdentifier": d.ClusterIdentifier,
		"clusterArn":        d.ClusterArn,
		"clusterResourceId": d.ClusterResourceID,
		"clusterEndpoint":   d.Endpoint,
		"readerEndpoint":    d.ReaderEndpoint,
		"port":              d.Port,
		"masterUsername":    d.MasterUsername,
		"masterSecretArn":   d.MasterSecretArn,
		"dbName":            d.DBName,
	}, nil
}
