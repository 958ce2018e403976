package main

import (
	"regexp"
	"slices"
	"testing"

	"github.com/dbvault/dbvault/stacks/kit/mock"
)

var finalSnapshotPattern = regexp.MustCompile(`^final-dev-[0-9]{8}-[0-9]{6}$`)

// todaysNames are the default vault's logical and physical names (type,
// what, value) as the four layers registered them before components could
// be named (synthesized from the layers at that commit, environment dev in
// us-east-1): an existing environment sees no change.
var todaysNames = [][3]string{
	{"aws:cloudtrail/trail:Trail", "logical", "trail"},
	{"aws:cloudtrail/trail:Trail", "name", "trail-dev"},
	{"aws:cloudwatch/eventRule:EventRule", "logical", "rotation-failed"},
	{"aws:cloudwatch/eventRule:EventRule", "name", "rotation-failed-dev"},
	{"aws:cloudwatch/eventRule:EventRule", "logical", "secret-changes"},
	{"aws:cloudwatch/eventRule:EventRule", "name", "secret-changes-dev"},
	{"aws:cloudwatch/eventRule:EventRule", "logical", "rotator-changes"},
	{"aws:cloudwatch/eventRule:EventRule", "name", "rotator-changes-dev"},
	{"aws:cloudwatch/eventRule:EventRule", "logical", "alert-changes"},
	{"aws:cloudwatch/eventRule:EventRule", "name", "alert-changes-dev"},
	{"aws:cloudwatch/eventTarget:EventTarget", "logical", "rotation-failed-alert"},
	{"aws:cloudwatch/eventTarget:EventTarget", "logical", "secret-changes-alert"},
	{"aws:cloudwatch/eventTarget:EventTarget", "logical", "rotator-changes-alert"},
	{"aws:cloudwatch/eventTarget:EventTarget", "logical", "alert-changes-alert"},
	{"aws:cloudwatch/logGroup:LogGroup", "logical", "rds-audit"},
	{"aws:cloudwatch/logGroup:LogGroup", "logical", "rds-error"},
	{"aws:cloudwatch/logGroup:LogGroup", "logical", "rds-slowquery"},
	{"aws:cloudwatch/logGroup:LogGroup", "logical", "rotator-logs"},
	{"aws:cloudwatch/logGroup:LogGroup", "logical", "trail-logs"},
	{"aws:cloudwatch/logGroup:LogGroup", "logical", "vpc-flow-logs"},
	{"aws:cloudwatch/logGroup:LogGroup", "name", "/aws/cloudtrail/trail-dev"},
	{"aws:cloudwatch/logGroup:LogGroup", "name", "/aws/lambda/rotator-dev"},
	{"aws:cloudwatch/logGroup:LogGroup", "name", "/aws/rds/cluster/aurora-cluster-dev/audit"},
	{"aws:cloudwatch/logGroup:LogGroup", "name", "/aws/rds/cluster/aurora-cluster-dev/error"},
	{"aws:cloudwatch/logGroup:LogGroup", "name", "/aws/rds/cluster/aurora-cluster-dev/slowquery"},
	{"aws:cloudwatch/logGroup:LogGroup", "name", "vpc-flow-logs-dev"},
	{"aws:cloudwatch/metricAlarm:MetricAlarm", "logical", "rotator-errors"},
	{"aws:cloudwatch/metricAlarm:MetricAlarm", "name", "rotator-errors-dev"},
	{"aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "logical", "default-sg"},
	{"aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "tags.Name", "default-sg-dev"},
	{"aws:ec2/flowLog:FlowLog", "logical", "vpc-flow-log"},
	{"aws:ec2/flowLog:FlowLog", "tags.Name", "vpc-flow-log-dev"},
	{"aws:ec2/routeTable:RouteTable", "logical", "private-rt"},
	{"aws:ec2/routeTable:RouteTable", "tags.Name", "private-rt-dev"},
	{"aws:ec2/routeTableAssociation:RouteTableAssociation", "logical", "private-rt-assoc-0"},
	{"aws:ec2/routeTableAssociation:RouteTableAssociation", "logical", "private-rt-assoc-1"},
	{"aws:ec2/routeTableAssociation:RouteTableAssociation", "logical", "private-rt-assoc-2"},
	{"aws:ec2/securityGroup:SecurityGroup", "logical", "database-sg"},
	{"aws:ec2/securityGroup:SecurityGroup", "logical", "endpoints-sg"},
	{"aws:ec2/securityGroup:SecurityGroup", "logical", "rotator-sg"},
	{"aws:ec2/securityGroup:SecurityGroup", "name", "database-sg-dev"},
	{"aws:ec2/securityGroup:SecurityGroup", "name", "endpoints-sg-dev"},
	{"aws:ec2/securityGroup:SecurityGroup", "name", "rotator-sg-dev"},
	{"aws:ec2/securityGroup:SecurityGroup", "tags.Name", "database-sg-dev"},
	{"aws:ec2/securityGroup:SecurityGroup", "tags.Name", "endpoints-sg-dev"},
	{"aws:ec2/securityGroup:SecurityGroup", "tags.Name", "rotator-sg-dev"},
	{"aws:ec2/subnet:Subnet", "logical", "private-subnet-0"},
	{"aws:ec2/subnet:Subnet", "logical", "private-subnet-1"},
	{"aws:ec2/subnet:Subnet", "logical", "private-subnet-2"},
	{"aws:ec2/subnet:Subnet", "tags.Name", "private-subnet-us-east-1a-dev"},
	{"aws:ec2/subnet:Subnet", "tags.Name", "private-subnet-us-east-1b-dev"},
	{"aws:ec2/subnet:Subnet", "tags.Name", "private-subnet-us-east-1d-dev"},
	{"aws:ec2/vpc:Vpc", "logical", "vpc"},
	{"aws:ec2/vpc:Vpc", "tags.Name", "vpc-dev"},
	{"aws:ec2/vpcEndpoint:VpcEndpoint", "logical", "kms-endpoint"},
	{"aws:ec2/vpcEndpoint:VpcEndpoint", "logical", "secretsmanager-endpoint"},
	{"aws:ec2/vpcEndpoint:VpcEndpoint", "tags.Name", "kms-endpoint-dev"},
	{"aws:ec2/vpcEndpoint:VpcEndpoint", "tags.Name", "secretsmanager-endpoint-dev"},
	{"aws:iam/role:Role", "logical", "rotator-role"},
	{"aws:iam/role:Role", "logical", "trail-logs-role"},
	{"aws:iam/role:Role", "logical", "vpc-flow-logs-role"},
	{"aws:iam/role:Role", "name", "rotator-role-us-east-1-dev"},
	{"aws:iam/role:Role", "name", "trail-logs-role-us-east-1-dev"},
	{"aws:iam/role:Role", "name", "vpc-flow-logs-role-us-east-1-dev"},
	{"aws:iam/rolePolicy:RolePolicy", "logical", "rotator-policy"},
	{"aws:iam/rolePolicy:RolePolicy", "logical", "trail-logs-policy"},
	{"aws:iam/rolePolicy:RolePolicy", "logical", "vpc-flow-logs-policy"},
	{"aws:iam/rolePolicy:RolePolicy", "name", "rotator-policy-dev"},
	{"aws:iam/rolePolicy:RolePolicy", "name", "trail-logs-policy-dev"},
	{"aws:iam/rolePolicy:RolePolicy", "name", "vpc-flow-logs-policy-dev"},
	{"aws:kms/alias:Alias", "logical", "alerts-alias"},
	{"aws:kms/alias:Alias", "logical", "database-alias"},
	{"aws:kms/alias:Alias", "logical", "logs-alias"},
	{"aws:kms/alias:Alias", "logical", "secrets-alias"},
	{"aws:kms/alias:Alias", "name", "alias/alerts-dev"},
	{"aws:kms/alias:Alias", "name", "alias/database-dev"},
	{"aws:kms/alias:Alias", "name", "alias/logs-dev"},
	{"aws:kms/alias:Alias", "name", "alias/secrets-dev"},
	{"aws:kms/key:Key", "logical", "alerts-key"},
	{"aws:kms/key:Key", "logical", "database-key"},
	{"aws:kms/key:Key", "logical", "logs-key"},
	{"aws:kms/key:Key", "logical", "secrets-key"},
	{"aws:kms/key:Key", "tags.Name", "alerts-key-dev"},
	{"aws:kms/key:Key", "tags.Name", "database-key-dev"},
	{"aws:kms/key:Key", "tags.Name", "logs-key-dev"},
	{"aws:kms/key:Key", "tags.Name", "secrets-key-dev"},
	{"aws:lambda/function:Function", "logical", "rotator"},
	{"aws:lambda/layerVersion:LayerVersion", "logical", "declarations"},
	{"aws:lambda/layerVersion:LayerVersion", "layerName", "declarations-dev"},
	{"aws:lambda/function:Function", "name", "rotator-dev"},
	{"aws:lambda/permission:Permission", "logical", "rotator-invoke-app"},
	{"aws:rds/cluster:Cluster", "clusterIdentifier", "aurora-cluster-dev"},
	{"aws:rds/cluster:Cluster", "logical", "cluster"},
	{"aws:rds/clusterInstance:ClusterInstance", "identifier", "aurora-instance-1-dev"},
	{"aws:rds/clusterInstance:ClusterInstance", "identifier", "aurora-instance-2-dev"},
	{"aws:rds/clusterInstance:ClusterInstance", "logical", "instance-1"},
	{"aws:rds/clusterInstance:ClusterInstance", "logical", "instance-2"},
	{"aws:rds/clusterParameterGroup:ClusterParameterGroup", "logical", "params"},
	{"aws:rds/clusterParameterGroup:ClusterParameterGroup", "name", "aurora-mysql8-params-dev"},
	{"aws:rds/subnetGroup:SubnetGroup", "logical", "subnets"},
	{"aws:rds/subnetGroup:SubnetGroup", "name", "db-subnets-dev"},
	{"aws:s3/bucketOwnershipControls:BucketOwnershipControls", "bucket", "cloudtrail-us-east-1-dev-123456789012"},
	{"aws:s3/bucketOwnershipControls:BucketOwnershipControls", "logical", "trail-bucket-ownership"},
	{"aws:s3/bucketPolicy:BucketPolicy", "bucket", "cloudtrail-us-east-1-dev-123456789012"},
	{"aws:s3/bucketPolicy:BucketPolicy", "logical", "trail-bucket-policy"},
	{"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "bucket", "cloudtrail-us-east-1-dev-123456789012"},
	{"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "logical", "trail-bucket-public-access"},
	{"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", "bucket", "cloudtrail-us-east-1-dev-123456789012"},
	{"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", "logical", "trail-bucket-encryption"},
	{"aws:s3/bucketV2:BucketV2", "bucket", "cloudtrail-us-east-1-dev-123456789012"},
	{"aws:s3/bucketV2:BucketV2", "logical", "trail-bucket"},
	{"aws:secretsmanager/secret:Secret", "logical", "secret-app"},
	{"aws:secretsmanager/secret:Secret", "name", "db-credentials-app-dev"},
	{"aws:secretsmanager/secretPolicy:SecretPolicy", "logical", "master-secret-policy"},
	{"aws:secretsmanager/secretPolicy:SecretPolicy", "logical", "secret-policy-app"},
	{"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", "bucket", "cloudtrail-us-east-1-dev-123456789012"},
	{"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", "logical", "trail-bucket-lifecycle"},
	{"aws:secretsmanager/secretRotation:SecretRotation", "logical", "master-rotation"},
	{"aws:secretsmanager/secretRotation:SecretRotation", "logical", "rotation-app"},
	{"aws:secretsmanager/secretVersion:SecretVersion", "logical", "initial-version-app"},
	{"aws:sns/topic:Topic", "logical", "alerts"},
	{"aws:sns/topic:Topic", "name", "vault-alerts-dev"},
	{"aws:sns/topicPolicy:TopicPolicy", "logical", "alerts-policy"},
	{"aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "logical", "rotator-to-database"},
	{"aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "logical", "rotator-to-endpoints"},
	{"aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "tags.Name", "rotator-to-database-dev"},
	{"aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "tags.Name", "rotator-to-endpoints-dev"},
	{"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "logical", "database-from-rotator"},
	{"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "logical", "endpoints-from-rotator"},
	{"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "tags.Name", "database-from-rotator-dev"},
	{"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "tags.Name", "endpoints-from-rotator-dev"},
	{"dbvault:database:Database", "logical", "database"},
	{"dbvault:kms:Keys", "logical", "keys"},
	{"dbvault:network:Network", "logical", "network"},
	{"dbvault:secrets:Vault", "logical", "vault"},
}

func TestDefaultVaultKeepsTodaysNames(t *testing.T) {
	got := map[[3]string]bool{}
	for _, r := range layersAlone(t, mock.RotatorZip(t)) {
		got[[3]string{r.Type, "logical", r.Name}] = true
		for k := range physicalNames {
			if k == "clusterIdentifier" && r.Type == "aws:rds/clusterInstance:ClusterInstance" {
				continue
			}
			if k == "finalSnapshotIdentifier" && r.Type == "aws:rds/cluster:Cluster" {
				// Named at the cluster's creation (final-<suffix>-<UTC
				// time>) and kept by ignoreChanges, so an existing
				// cluster keeps the name in its state: only its form is
				// the program's.
				if s, _ := r.Input(k).(string); !finalSnapshotPattern.MatchString(s) {
					t.Errorf("%s finalSnapshotIdentifier %q, want final-dev-<YYYYMMDD-hhmmss>", r.Type, s)
				}
				continue
			}
			if s, ok := r.Input(k).(string); ok && s != "" {
				got[[3]string{r.Type, k, s}] = true
			}
		}
		if n := r.Tags()["Name"]; n != "" {
			got[[3]string{r.Type, "tags.Name", n}] = true
		}
	}
	for _, n := range todaysNames {
		if !got[n] {
			t.Errorf("today's %s %s %q is gone", n[0], n[1], n[2])
		}
	}
	for n := range got {
		if !slices.Contains(todaysNames, n) {
			t.Errorf("new %s %s %q", n[0], n[1], n[2])
		}
	}
}
