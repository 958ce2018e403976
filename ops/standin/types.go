package standin

import "github.com/pulumi/pulumi/sdk/v3/go/common/resource"

// typeRules are what the stand-in knows of an AWS resource type beyond
// awsfake's computed outputs: the inputs AWS refuses a create without, and
// the inputs AWS cannot change in place (the provider schema's ForceNew).
type typeRules struct {
	// required inputs: a create without one fails in AWS, so Check fails.
	required []string
	// replaceOn are the inputs whose change replaces the resource.
	replaceOn []string
}

// nameKeys are the inputs that carry a resource's physical name. When a
// replaced resource keeps an explicit physical name, the old one must go
// first (AWS refuses two resources with one name), as the real provider asks
// the engine to do.
var nameKeys = []string{"name", "clusterIdentifier", "identifier", "bucket", "statementId"}

// rules per type token. Types not listed here are accepted with no required
// input and updated in place: the stand-in must not invent constraints AWS
// does not have, and every type the layers use is listed.
var rules = map[string]typeRules{
	"aws:ec2/vpc:Vpc":               {required: []string{"cidrBlock"}, replaceOn: []string{"cidrBlock", "instanceTenancy"}},
	"aws:ec2/subnet:Subnet":         {required: []string{"vpcId"}, replaceOn: []string{"vpcId", "cidrBlock", "availabilityZone", "availabilityZoneId"}},
	"aws:ec2/routeTable:RouteTable": {required: []string{"vpcId"}, replaceOn: []string{"vpcId"}},
	"aws:ec2/routeTableAssociation:RouteTableAssociation": {
		required: []string{"routeTableId"}, replaceOn: []string{"subnetId", "gatewayId"},
	},
	"aws:ec2/securityGroup:SecurityGroup": {replaceOn: []string{"name", "namePrefix", "vpcId", "description"}},
	"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": {
		required: []string{"securityGroupId", "ipProtocol"}, replaceOn: []string{"securityGroupId"},
	},
	"aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": {
		required: []string{"securityGroupId", "ipProtocol"}, replaceOn: []string{"securityGroupId"},
	},
	"aws:ec2/securityGroupRule:SecurityGroupRule": {
		required:  []string{"type", "fromPort", "toPort", "protocol", "securityGroupId"},
		replaceOn: []string{"type", "fromPort", "toPort", "protocol", "securityGroupId", "cidrBlocks", "sourceSecurityGroupId", "self", "prefixListIds"},
	},
	"aws:ec2/vpcEndpoint:VpcEndpoint": {
		required: []string{"vpcId", "serviceName"}, replaceOn: []string{"vpcId", "serviceName", "vpcEndpointType"},
	},
	"aws:ec2/flowLog:FlowLog": {
		required:  []string{"trafficType"},
		replaceOn: []string{"vpcId", "subnetId", "eniId", "logDestination", "logDestinationType", "trafficType", "iamRoleArn", "logFormat", "maxAggregationInterval"},
	},
	"aws:kms/key:Key":     {replaceOn: []string{"customerMasterKeySpec", "keyUsage", "multiRegion", "customKeyStoreId"}},
	"aws:kms/alias:Alias": {required: []string{"targetKeyId"}, replaceOn: []string{"name", "namePrefix"}},
	"aws:rds/subnetGroup:SubnetGroup": {
		required: []string{"subnetIds"}, replaceOn: []string{"name", "namePrefix"},
	},
	"aws:rds/clusterParameterGroup:ClusterParameterGroup": {
		required: []string{"family"}, replaceOn: []string{"name", "namePrefix", "family", "description"},
	},
	"aws:rds/parameterGroup:ParameterGroup": {
		required: []string{"family"}, replaceOn: []string{"name", "namePrefix", "family", "description"},
	},
	"aws:rds/cluster:Cluster": {
		required: []string{"engine"},
		replaceOn: []string{"clusterIdentifier", "clusterIdentifierPrefix", "engine", "storageEncrypted", "kmsKeyId",
			"databaseName", "masterUsername", "dbSubnetGroupName", "availabilityZones", "snapshotIdentifier"},
	},
	"aws:rds/clusterInstance:ClusterInstance": {
		required:  []string{"clusterIdentifier", "instanceClass", "engine"},
		replaceOn: []string{"identifier", "identifierPrefix", "clusterIdentifier", "engine", "availabilityZone", "dbSubnetGroupName"},
	},
	"aws:cloudwatch/logGroup:LogGroup":       {replaceOn: []string{"name", "namePrefix", "logGroupClass"}},
	"aws:cloudwatch/metricAlarm:MetricAlarm": {required: []string{"comparisonOperator", "evaluationPeriods"}, replaceOn: []string{"name"}},
	"aws:cloudwatch/eventRule:EventRule":     {replaceOn: []string{"name", "namePrefix", "eventBusName"}},
	"aws:cloudwatch/eventTarget:EventTarget": {required: []string{"arn", "rule"}, replaceOn: []string{"rule", "targetId", "eventBusName"}},
	"aws:sns/topic:Topic":                    {replaceOn: []string{"name", "namePrefix", "fifoTopic"}},
	"aws:sns/topicSubscription:TopicSubscription": {
		required: []string{"endpoint", "protocol", "topic"}, replaceOn: []string{"endpoint", "protocol", "topic"},
	},
	"aws:sns/topicPolicy:TopicPolicy": {required: []string{"arn", "policy"}, replaceOn: []string{"arn"}},
	"aws:iam/role:Role":               {required: []string{"assumeRolePolicy"}, replaceOn: []string{"name", "namePrefix", "path"}},
	"aws:iam/policy:Policy":           {required: []string{"policy"}, replaceOn: []string{"name", "namePrefix", "path", "description"}},
	"aws:iam/rolePolicy:RolePolicy":   {required: []string{"policy", "role"}, replaceOn: []string{"name", "namePrefix", "role"}},
	"aws:iam/rolePolicyAttachment:RolePolicyAttachment": {
		required: []string{"policyArn", "role"}, replaceOn: []string{"policyArn", "role"},
	},
	"aws:lambda/function:Function": {required: []string{"role"}, replaceOn: []string{"name"}},
	"aws:lambda/permission:Permission": {
		required: []string{"action", "function", "principal"},
		replaceOn: []string{"action", "function", "principal", "sourceArn", "sourceAccount", "statementId",
			"statementIdPrefix", "qualifier", "eventSourceToken", "principalOrgId", "functionUrlAuthType"},
	},
	"aws:secretsmanager/secret:Secret": {replaceOn: []string{"name", "namePrefix"}},
	"aws:secretsmanager/secretVersion:SecretVersion": {
		required: []string{"secretId"}, replaceOn: []string{"secretId", "secretString", "secretBinary"},
	},
	"aws:secretsmanager/secretRotation:SecretRotation": {required: []string{"secretId", "rotationRules"}, replaceOn: []string{"secretId"}},
	"aws:secretsmanager/secretPolicy:SecretPolicy":     {required: []string{"policy", "secretArn"}, replaceOn: []string{"secretArn"}},
	"aws:cloudtrail/trail:Trail":                       {required: []string{"s3BucketName"}, replaceOn: []string{"name"}},
	"aws:s3/bucketV2:BucketV2":                         {replaceOn: []string{"bucket", "bucketPrefix", "objectLockEnabled"}},
	"aws:s3/bucket:Bucket":                             {replaceOn: []string{"bucket", "bucketPrefix", "objectLockEnabled"}},
	"aws:s3/bucketPolicy:BucketPolicy":                 {required: []string{"bucket", "policy"}, replaceOn: []string{"bucket"}},
	"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": {
		required: []string{"bucket"}, replaceOn: []string{"bucket"},
	},
	"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": {
		required: []string{"bucket", "rules"}, replaceOn: []string{"bucket", "expectedBucketOwner"},
	},
}

// readBack is what the real provider reads back from AWS where it differs
// from what a program sets: for these keys the provider's plan compares the
// program's value with the state it read (the Terraform bridge diffs
// against prior state), so a value AWS normalises shows as a change on
// every `up`. The stand-in stores the normalised value in its outputs and
// diffs these keys against them, so the rehearsal's second deploy shows the
// same perpetual change that a real account would.
//
// Each entry names its source in the provider. Checked and left out (no
// read-back that differs from what the layers set): IAM and key policies
// (the provider suppresses equivalent JSON, verify.SuppressEquivalentPolicyDiffs),
// EventBridge event patterns (normalised JSON; the layers write sorted
// keys), the cluster's engine version (compareActualEngineVersion; the
// layer ignores engineVersion drift).
var readBack = map[string]struct {
	keys      []string
	normalise func(outputs resource.PropertyMap)
}{
	// terraform-provider-aws internal/service/cloudtrail/trail.go,
	// flattenEventSelector: the default selector (ReadWriteType All,
	// management events, no data resources) is read back as an empty list
	// (upstream issues #3697, #4040).
	"aws:cloudtrail/trail:Trail": {
		keys: []string{"eventSelectors"},
		normalise: func(out resource.PropertyMap) {
			v, ok := out["eventSelectors"]
			if !ok || !v.IsArray() {
				return
			}
			var kept []resource.PropertyValue
			for _, sel := range v.ArrayValue() {
				if !isDefaultEventSelector(sel) {
					kept = append(kept, sel)
				}
			}
			out["eventSelectors"] = resource.NewArrayProperty(kept)
		},
	},
}

// isDefaultEventSelector: All, management events on, no data resources.
func isDefaultEventSelector(v resource.PropertyValue) bool {
	if !v.IsObject() {
		return false
	}
	o := v.ObjectValue()
	rw := o["readWriteType"]
	mgmt := o["includeManagementEvents"]
	data := o["dataResources"]
	return (!rw.HasValue() || rw.IsString() && rw.StringValue() == "All") &&
		(!mgmt.HasValue() || mgmt.IsBool() && mgmt.BoolValue()) &&
		(!data.HasValue() || data.IsArray() && len(data.ArrayValue()) == 0)
}
