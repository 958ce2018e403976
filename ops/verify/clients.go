package verify

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// CloudTrailAPI is the part of the CloudTrail client verify calls.
type CloudTrailAPI interface {
	GetTrailStatus(ctx context.Context, in *cloudtrail.GetTrailStatusInput, opts ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailStatusOutput, error)
	LookupEvents(ctx context.Context, in *cloudtrail.LookupEventsInput, opts ...func(*cloudtrail.Options)) (*cloudtrail.LookupEventsOutput, error)
	GetEventSelectors(ctx context.Context, in *cloudtrail.GetEventSelectorsInput, opts ...func(*cloudtrail.Options)) (*cloudtrail.GetEventSelectorsOutput, error)
	DescribeTrails(ctx context.Context, in *cloudtrail.DescribeTrailsInput, opts ...func(*cloudtrail.Options)) (*cloudtrail.DescribeTrailsOutput, error)
}

// S3API is the part of the S3 client verify calls: the trail bucket's
// lifecycle configuration, nothing of its objects.
type S3API interface {
	GetBucketLifecycleConfiguration(ctx context.Context, in *s3.GetBucketLifecycleConfigurationInput, opts ...func(*s3.Options)) (*s3.GetBucketLifecycleConfigurationOutput, error)
}

// EventBridgeAPI is the part of the EventBridge client verify calls.
type EventBridgeAPI interface {
	DescribeRule(ctx context.Context, in *eventbridge.DescribeRuleInput, opts ...func(*eventbridge.Options)) (*eventbridge.DescribeRuleOutput, error)
	ListTargetsByRule(ctx context.Context, in *eventbridge.ListTargetsByRuleInput, opts ...func(*eventbridge.Options)) (*eventbridge.ListTargetsByRuleOutput, error)
	TestEventPattern(ctx context.Context, in *eventbridge.TestEventPatternInput, opts ...func(*eventbridge.Options)) (*eventbridge.TestEventPatternOutput, error)
}

// CloudWatchAPI is the part of the CloudWatch client verify calls.
type CloudWatchAPI interface {
	GetMetricStatistics(ctx context.Context, in *cloudwatch.GetMetricStatisticsInput, opts ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricStatisticsOutput, error)
}

// LogsAPI is the part of the CloudWatch Logs client verify calls.
type LogsAPI interface {
	FilterLogEvents(ctx context.Context, in *cloudwatchlogs.FilterLogEventsInput, opts ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error)
}

// LambdaAPI is the part of the Lambda client verify calls.
type LambdaAPI interface {
	GetFunctionConfiguration(ctx context.Context, in *lambda.GetFunctionConfigurationInput, opts ...func(*lambda.Options)) (*lambda.GetFunctionConfigurationOutput, error)
	GetPolicy(ctx context.Context, in *lambda.GetPolicyInput, opts ...func(*lambda.Options)) (*lambda.GetPolicyOutput, error)
}

// SecretsManagerAPI is the part of the Secrets Manager client verify calls.
type SecretsManagerAPI interface {
	DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	ListSecretVersionIds(ctx context.Context, in *secretsmanager.ListSecretVersionIdsInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.ListSecretVersionIdsOutput, error)
	GetResourcePolicy(ctx context.Context, in *secretsmanager.GetResourcePolicyInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetResourcePolicyOutput, error)
}

// KMSAPI is the part of the KMS client verify calls: Decrypt, only as a
// dry run of a dummy ciphertext (secrets-key-direct-use), which decrypts
// nothing.
type KMSAPI interface {
	Decrypt(ctx context.Context, in *kms.DecryptInput, opts ...func(*kms.Options)) (*kms.DecryptOutput, error)
}

// RDSAPI is the part of the RDS client verify calls.
type RDSAPI interface {
	DescribeDBClusters(ctx context.Context, in *rds.DescribeDBClustersInput, opts ...func(*rds.Options)) (*rds.DescribeDBClustersOutput, error)
	DescribeDBClusterParameters(ctx context.Context, in *rds.DescribeDBClusterParametersInput, opts ...func(*rds.Options)) (*rds.DescribeDBClusterParametersOutput, error)
}

// EC2API is the part of the EC2 client verify calls.
type EC2API interface {
	DescribeVpcEndpoints(ctx context.Context, in *ec2.DescribeVpcEndpointsInput, opts ...func(*ec2.Options)) (*ec2.DescribeVpcEndpointsOutput, error)
	DescribeSubnets(ctx context.Context, in *ec2.DescribeSubnetsInput, opts ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error)
	DescribeFlowLogs(ctx context.Context, in *ec2.DescribeFlowLogsInput, opts ...func(*ec2.Options)) (*ec2.DescribeFlowLogsOutput, error)
}

// Clients are the services verify reads.
type Clients struct {
	CloudTrail     CloudTrailAPI
	EventBridge    EventBridgeAPI
	CloudWatch     CloudWatchAPI
	Logs           LogsAPI
	Lambda         LambdaAPI
	SecretsManager SecretsManagerAPI
	KMS            KMSAPI
	RDS            RDSAPI
	EC2            EC2API
	S3             S3API
}

// NewClients are the real clients for cfg; Secrets Manager at
// secretsManagerEndpoint when set (the local emulator).
func NewClients(cfg aws.Config, secretsManagerEndpoint string) Clients {
	return Clients{
		CloudTrail:  cloudtrail.NewFromConfig(cfg),
		EventBridge: eventbridge.NewFromConfig(cfg),
		CloudWatch:  cloudwatch.NewFromConfig(cfg),
		Logs:        cloudwatchlogs.NewFromConfig(cfg),
		Lambda:      lambda.NewFromConfig(cfg),
		SecretsManager: secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) {
			if secretsManagerEndpoint != "" {
				o.BaseEndpoint = aws.String(secretsManagerEndpoint)
			}
		}),
		KMS: kms.NewFromConfig(cfg),
		RDS: rds.NewFromConfig(cfg),
		EC2: ec2.NewFromConfig(cfg),
		S3:  s3.NewFromConfig(cfg),
	}
}

// ErrReadOnly is what the Secrets Manager adapter answers to a write.
var ErrReadOnly = errors.New("verify is read-only: RotateSecret refused")

// readOnlySM adapts SecretsManagerAPI to ops/status.API, whose RotateSecret
// it refuses: status.Describe never calls it, and verify must not.
type readOnlySM struct{ SecretsManagerAPI }

func (readOnlySM) RotateSecret(context.Context, *secretsmanager.RotateSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.RotateSecretOutput, error) {
	return nil, ErrReadOnly
}
