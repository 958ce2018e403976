package kit

import "fmt"

// The physical names that more than one layer needs: a key policy in the kms
// layer names the log groups, the trail and the topic that later layers
// create, so each name is derived here, once.

// RotatorName is the rotation function.
func RotatorName(suffix string) string { return Name("rotator", suffix) }

// RotatorLogGroup is the function's log group, the name Lambda gives it.
func RotatorLogGroup(suffix string) string { return "/aws/lambda/" + RotatorName(suffix) }

// TrailName is the vault's own trail (when it creates one).
func TrailName(suffix string) string { return Name("trail", suffix) }

// TrailLogGroup is the trail's log group.
func TrailLogGroup(suffix string) string { return "/aws/cloudtrail/" + TrailName(suffix) }

// FlowLogGroup is the log group of the VPC's flow log.
func FlowLogGroup(suffix string) string { return Name("vpc-flow-logs", suffix) }

// ClusterIdentifier is the Aurora cluster.
func ClusterIdentifier(suffix string) string { return Name("aurora-cluster", suffix) }

// RDSLogTypes are the logs the cluster exports to CloudWatch Logs.
var RDSLogTypes = []string{"audit", "error", "slowquery"}

// RDSLogGroup is the log group RDS exports the cluster's logType log to.
// RDS fixes this name (/aws/rds/cluster/<cluster>/<type>), so it is the one
// physical name that does not end in -<suffix>; it carries the suffix in the
// cluster identifier instead.
// https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_LogAccess.Procedural.UploadtoCloudWatch.html
func RDSLogGroup(clusterIdentifier, logType string) string {
	return "/aws/rds/cluster/" + clusterIdentifier + "/" + logType
}

// LogGroups are every log group of the environment, by exact name: the
// only groups the logs key may encrypt.
func LogGroups(suffix string) []string {
	groups := []string{RotatorLogGroup(suffix), TrailLogGroup(suffix), FlowLogGroup(suffix)}
	for _, t := range RDSLogTypes {
		groups = append(groups, RDSLogGroup(ClusterIdentifier(suffix), t))
	}
	return groups
}

// AlertsTopicName is the SNS topic that receives the vault's alerts.
func AlertsTopicName(suffix string) string { return Name("vault-alerts", suffix) }

// GlobalName is the name of a resource whose names are global to the
// account (IAM roles) or to AWS (S3 buckets): the region goes into it, so
// that one environment can exist in two regions of an account. It still
// ends in -<suffix>.
func GlobalName(resourceType, region, suffix string) string {
	return Name(fmt.Sprintf("%s-%s", resourceType, region), suffix)
}
