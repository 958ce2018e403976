package database

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Existing is an Aurora cluster the team already runs, on which the vault
// issues and rotates application users instead of creating a cluster of
// its own. The vault changes one thing on it: a rule on one of its security
// groups that admits the rotator on the cluster's port (and the matching
// egress rule on the rotator's own group). Everything else (the cluster,
// its instances, parameter groups, logs, backups, master secret and its
// rotation) stays the team's and is only read.
type Existing struct {
	// ClusterIdentifier names the cluster.
	ClusterIdentifier string
	// SecurityGroupID is the cluster's security group that admits the
	// rotator; empty means the cluster's only group (a cluster with more
	// must name one).
	SecurityGroupID string
	// MasterSecretArn is a secret that holds the master user's credentials
	// ({"username", "password"}) when RDS does not manage them; empty means
	// the secret RDS manages for the cluster.
	MasterSecretArn string
	// DBName is the database the application users are granted on; empty
	// means the database the cluster was created with.
	DBName string
}

// check refuses an Existing whose values cannot name a cluster, a security
// group or a secret, before anything is looked up; rotatorSG is
// Args.RotatorSecurityGroupID, which an existing cluster needs.
func (e *Existing) check(rotatorSG pulumi.StringInput) error {
	switch {
	case !clusterIDPattern.MatchString(e.ClusterIdentifier):
		return fmt.Errorf("Existing.ClusterIdentifier is %q: it must be a DB cluster identifier (1 to 63 letters, digits or hyphens, a letter first)", e.ClusterIdentifier)
	case e.SecurityGroupID != "" && !securityGroupPattern.MatchString(e.SecurityGroupID):
		return fmt.Errorf("Existing.SecurityGroupID is %q: it must be a security group ID (sg-<hex>) or empty", e.SecurityGroupID)
	case e.MasterSecretArn != "" && !secretArnPattern.MatchString(e.MasterSecretArn):
		return fmt.Errorf("Existing.MasterSecretArn is %q: it must be a Secrets Manager secret ARN or empty", e.MasterSecretArn)
	case e.DBName != "" && !dbNamePattern.MatchString(e.DBName):
		return fmt.Errorf("Existing.DBName is %q: it must be 1 to 64 letters, digits or underscores and start with a letter, or empty", e.DBName)
	case rotatorSG == nil:
		return fmt.Errorf("RotatorSecurityGroupID is required with Existing (the rules that let the rotator reach the cluster; the network layer's rotatorSecurityGroupId)")
	}
	return nil
}

// ExistingEngineVersionPattern is what the vault serves: Aurora MySQL 3,
// which is MySQL 8.0 compatible (the rotator's statements and the exact
// grants it checks are MySQL 8.0's).
var ExistingEngineVersionPattern = regexp.MustCompile(`^8\.0\.mysql_aurora\.3\.`)

// existingCluster is what the data sources tell about an existing cluster,
// checked.
type existingCluster struct {
	ClusterIdentifier, Arn, ResourceID string
	Endpoint, ReaderEndpoint           string
	Port                               int
	MasterUsername, DBName             string
	MasterSecretArn                    string
	// MasterSecretKeyArn is the KMS key that encrypts the master secret;
	// empty for the AWS managed key aws/secretsmanager.
	MasterSecretKeyArn string
	SecurityGroupID    string
	VpcID              string
}

// LookupExistingCluster reads an existing cluster through the provider's
// data sources (terraform-provider-aws internal/service/rds/cluster_data_source.go,
// which reads DescribeDBClusters, and subnet_group_data_source.go) and
// refuses, with the fix, a cluster the vault cannot serve: not Aurora MySQL
// 3, storage not encrypted, no master secret, or a security group that is
// not the cluster's. Whether it is in the network layer's VPC is checked
// where that VPC is known (NewDatabase).
func LookupExistingCluster(ctx *pulumi.Context, e Existing, region, account string, opts ...pulumi.InvokeOption) (existingCluster, error) {
	id := e.ClusterIdentifier
	fail := func(format string, a ...any) (existingCluster, error) {
		return existingCluster{}, fmt.Errorf("database: existingClusterIdentifier %s: "+format, append([]any{id}, a...)...)
	}
	c, err := rds.LookupCluster(ctx, &rds.LookupClusterArgs{ClusterIdentifier: id}, opts...)
	if err != nil {
		return fail("%w", err)
	}
	switch {
	case c.Engine != Engine:
		return fail("runs engine %q; the vault serves Aurora MySQL 3 (engine %s, MySQL 8.0 compatible) only", c.Engine, Engine)
	case !ExistingEngineVersionPattern.MatchString(c.EngineVersion):
		return fail("runs %s; the vault serves Aurora MySQL 3 (8.0.mysql_aurora.3.*): upgrade the cluster to Aurora MySQL 3 first", c.EngineVersion)
	case !c.StorageEncrypted:
		// Encryption is chosen when a cluster is created and cannot be
		// turned on later; an encrypted copy comes from restoring a
		// snapshot with a KMS key.
		// https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Overview.Encryption.html
		// (Limitations of Amazon Aurora encrypted DB clusters)
		return fail("has unencrypted storage, which the vault does not serve: restore a snapshot of it into a cluster encrypted with a KMS key and name that one")
	}
	out := existingCluster{
		ClusterIdentifier: c.ClusterIdentifier,
		Arn:               c.Arn,
		ResourceID:        c.ClusterResourceId,
		Endpoint:          c.Endpoint,
		ReaderEndpoint:    c.ReaderEndpoint,
		Port:              c.Port,
		MasterUsername:    c.MasterUsername,
		DBName:            e.DBName,
	}
	if out.DBName == "" {
		out.DBName = c.DatabaseName
	}
	if out.DBName == "" {
		return fail("was created without a database; set dbName to the database the application users are granted on")
	}
	if !dbNamePattern.MatchString(out.DBName) {
		return fail("dbName %q must be 1 to 64 letters, digits or underscores and start with a letter", out.DBName)
	}

	// The master secret: the one RDS manages for the cluster
	// (ManageMasterUserPassword; DescribeDBClusters' MasterUserSecret), or
	// the operator's. RDS's is the truth where it exists: another secret
	// would go stale at RDS's next rotation.
	// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_MasterUserSecret.html
	var managed *rds.GetClusterMasterUserSecret
	if len(c.MasterUserSecrets) > 0 && c.MasterUserSecrets[0].SecretArn != "" {
		managed = &c.MasterUserSecrets[0]
	}
	var keyID string
	switch {
	case managed != nil && e.MasterSecretArn != "" && e.MasterSecretArn != managed.SecretArn:
		return fail("RDS manages its master password in %s, but existingMasterSecretArn names %s: unset existingMasterSecretArn (RDS rotates its own secret, so any other copy goes stale)", managed.SecretArn, e.MasterSecretArn)
	case managed != nil:
		out.MasterSecretArn, keyID = managed.SecretArn, managed.KmsKeyId
	case e.MasterSecretArn != "":
		// DescribeSecret reports the key as a key ID or an alias ARN, and
		// omits it for the AWS managed key aws/secretsmanager
		// (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DescribeSecret.html, KmsKeyId).
		s, err := secretsmanager.LookupSecret(ctx, &secretsmanager.LookupSecretArgs{Arn: &e.MasterSecretArn}, opts...)
		if err != nil {
			return fail("existingMasterSecretArn: %w", err)
		}
		out.MasterSecretArn, keyID = s.Arn, s.KmsKeyId
	default:
		return fail("has no master secret the vault can read: let RDS manage the master password (aws rds modify-db-cluster --db-cluster-identifier %s --manage-master-user-password --apply-immediately) or set existingMasterSecretArn to a secret that holds {\"username\", \"password\"}", id)
	}
	if out.MasterSecretKeyArn, err = keyArn(ctx, keyID, region, account, opts...); err != nil {
		return fail("the master secret's key: %w", err)
	}

	switch sg := e.SecurityGroupID; {
	case sg != "" && !slices.Contains(c.VpcSecurityGroupIds, sg):
		return fail("existingClusterSecurityGroupId %s is not one of the cluster's security groups %v", sg, c.VpcSecurityGroupIds)
	case sg != "":
		out.SecurityGroupID = sg
	case len(c.VpcSecurityGroupIds) == 1:
		out.SecurityGroupID = c.VpcSecurityGroupIds[0]
	default:
		return fail("has %d security groups %v: set existingClusterSecurityGroupId to the one that should admit the rotator", len(c.VpcSecurityGroupIds), c.VpcSecurityGroupIds)
	}

	subnets, err := rds.LookupSubnetGroup(ctx, &rds.LookupSubnetGroupArgs{Name: c.DbSubnetGroupName}, opts...)
	if err != nil {
		return fail("its subnet group %s: %w", c.DbSubnetGroupName, err)
	}
	out.VpcID = subnets.VpcId
	return out, nil
}

// keyArnPattern is a KMS key's ARN (not an alias's).
var keyArnPattern = regexp.MustCompile(`^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$`)

// keyArn is the ARN of the key that id names, for the rotator's policy,
// which must name a key by its key ARN: an alias ARN in Resource does not
// match the key (https://docs.aws.amazon.com/kms/latest/developerguide/cmks-in-iam-policies.html).
// A key ID becomes the key ARN in this account and region; an alias is
// resolved with DescribeKey (the provider's aws_kms_key data source). Empty
// stays empty: the AWS managed key aws/secretsmanager, whose own key policy
// lets the account's principals use it through Secrets Manager
// (https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html).
func keyArn(ctx *pulumi.Context, id, region, account string, opts ...pulumi.InvokeOption) (string, error) {
	switch {
	case id == "", keyArnPattern.MatchString(id):
		return id, nil
	case !strings.Contains(id, ":") && !strings.HasPrefix(id, "alias/"):
		return fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", region, account, id), nil
	}
	k, err := kms.LookupKey(ctx, &kms.LookupKeyArgs{KeyId: id}, opts...)
	if err != nil {
		return "", fmt.Errorf("%s: %w", id, err)
	}
	return k.Arn, nil
}

// existingDatabase serves an existing cluster: the rotator's rules on the
// cluster's security group and its own, once the cluster is found to be in
// the network layer's VPC. It fills d's cluster outputs.
func existingDatabase(ctx *pulumi.Context, d *Database, args *Args, parent pulumi.ResourceOrInvokeOption) error {
	c, err := LookupExistingCluster(ctx, *args.Existing, args.Region, args.AccountID, parent)
	if err != nil {
		return err
	}
	// The rules wait for the VPC check and for SecretsKeyArn, which carries
	// the deployer check of the layer (kit.RequireDeployer).
	checked := pulumi.All(args.VpcID, args.SecretsKeyArn).ApplyT(func(a []any) (string, error) {
		if vpcID := a[0].(string); vpcID != c.VpcID {
			return "", fmt.Errorf("database: existingClusterIdentifier %s is in %s, not in the network layer's VPC %s: deploy the network layer into the cluster's VPC (existingVpcId %s)", c.ClusterIdentifier, c.VpcID, vpcID, c.VpcID)
		}
		return c.SecurityGroupID, nil
	}).(pulumi.StringOutput)
	l := args.names.Logical
	// Separate rule resources, not the group's inline rules: each is one
	// AWS rule that the vault adds and removes alone, so the team's other
	// rules stay as they are (pulumi-aws docs for
	// aws.vpc.SecurityGroupIngressRule; terraform-provider-aws
	// internal/service/ec2/vpc_security_group_ingress_rule.go). A team that
	// manages this group with inline rules would remove it on its next
	// apply, and cannot hold the same rule itself (AWS refuses a duplicate:
	// InvalidPermission.Duplicate): it attaches a group of the vault's own
	// to the cluster and names that one (docs/deploying.md).
	if _, err := vpc.NewSecurityGroupIngressRule(ctx, l("cluster-from-rotator"), &vpc.SecurityGroupIngressRuleArgs{
		SecurityGroupId:           checked,
		IpProtocol:                pulumi.String("tcp"),
		FromPort:                  pulumi.Int(c.Port),
		ToPort:                    pulumi.Int(c.Port),
		ReferencedSecurityGroupId: args.RotatorSecurityGroupID,
		Description:               pulumi.String("dbvault rotator " + args.names.Name("rotator")),
	}, parent); err != nil {
		return fmt.Errorf("cluster ingress rule: %w", err)
	}
	if _, err := vpc.NewSecurityGroupEgressRule(ctx, l("rotator-to-cluster"), &vpc.SecurityGroupEgressRuleArgs{
		SecurityGroupId:           args.RotatorSecurityGroupID,
		IpProtocol:                pulumi.String("tcp"),
		FromPort:                  pulumi.Int(c.Port),
		ToPort:                    pulumi.Int(c.Port),
		ReferencedSecurityGroupId: checked,
		Description:               pulumi.String("rotator to the existing cluster " + c.ClusterIdentifier),
	}, parent); err != nil {
		return fmt.Errorf("rotator egress rule: %w", err)
	}
	str := func(s string) pulumi.StringOutput { return pulumi.String(s).ToStringOutput() }
	d.ClusterIdentifier = str(c.ClusterIdentifier)
	d.ClusterArn = str(c.Arn)
	d.ClusterResourceID = str(c.ResourceID)
	d.Endpoint = str(c.Endpoint)
	d.ReaderEndpoint = str(c.ReaderEndpoint)
	d.Port = pulumi.Int(c.Port).ToIntOutput()
	d.MasterUsername = str(c.MasterUsername)
	d.MasterSecretArn = str(c.MasterSecretArn)
	d.MasterSecretKeyArn = str(c.MasterSecretKeyArn)
	d.DBName = str(c.DBName)
	d.LogGroupNames = pulumi.StringArray{}.ToStringArrayOutput()
	d.FinalSnapshotIdentifier = pulumi.StringPtr("").ToStringPtrOutput()
	d.ExistingCluster = true
	return nil
}
