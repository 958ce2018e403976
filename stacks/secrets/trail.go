package secrets

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudtrail"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dbvault/dbvault/stacks/kit"
)

// TrailBucketName is the trail's bucket. Bucket names are global across all
// accounts and regions: the region and the account ID keep it unique (the
// documented naming exception: the account follows the suffix).
func TrailBucketName(names kit.Names, region, account string) string {
	return names.TrailBucketName(region, account)
}

// TrailRetentionDays is how long a production trail's log files cannot be
// deleted or overwritten (Object Lock's default retention).
const TrailRetentionDays = kit.ProductionMinLogRetentionDays

// immutableTrail versions the trail's bucket and gives every log file a
// year of Object Lock retention in governance mode: nobody deletes or
// overwrites a log file in that time unless a principal holds
// s3:BypassGovernanceRetention and asks for it explicitly (compliance mode
// would stop even the root user, and the bucket could not be emptied for a
// year). CloudTrail delivers to buckets with Object Lock; that it does with
// this default retention is unconfirmed offline: `go run mage.go verify`
// shows the trail's LatestDeliveryError.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-overview.html
func immutableTrail(ctx *pulumi.Context, args *Args, bucket *s3.BucketV2, parent pulumi.ResourceOption) error {
	l := args.names.Logical
	versioning, err := s3.NewBucketVersioningV2(ctx, l("trail-bucket-versioning"), &s3.BucketVersioningV2Args{
		Bucket:                  bucket.ID(),
		VersioningConfiguration: &s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String("Enabled")},
	}, parent)
	if err != nil {
		return fmt.Errorf("trail bucket versioning: %w", err)
	}
	_, err = s3.NewBucketObjectLockConfigurationV2(ctx, l("trail-bucket-object-lock"), &s3.BucketObjectLockConfigurationV2Args{
		Bucket: bucket.ID(),
		Rule: &s3.BucketObjectLockConfigurationV2RuleArgs{
			DefaultRetention: &s3.BucketObjectLockConfigurationV2RuleDefaultRetentionArgs{
				Mode: pulumi.String("GOVERNANCE"),
				Days: pulumi.Int(TrailRetentionDays),
			},
		},
	}, parent, pulumi.DependsOn([]pulumi.Resource{versioning}))
	if err != nil {
		return fmt.Errorf("trail bucket object lock: %w", err)
	}
	return nil
}

// newTrail records the account's management events, the secret's API calls
// among them, with log file validation, in a KMS-encrypted bucket and a
// KMS-encrypted log group.
func newTrail(ctx *pulumi.Context, args *Args, arn func(string, string) string, parent pulumi.ResourceOption) (*cloudtrail.Trail, error) {
	names, l := args.names, args.names.Logical
	trailName := names.TrailName()
	trailArn := arn("cloudtrail", "trail/"+trailName)

	// S3 bucket names are global across all accounts: the account ID after
	// the suffix keeps the name unique (the documented naming exception).
	bucket, err := s3.NewBucketV2(ctx, l("trail-bucket"), &s3.BucketV2Args{
		Bucket: pulumi.String(TrailBucketName(names, args.Region, args.Account)),
		// Ephemeral: destroyable without manual steps, the log files go
		// with the bucket. Production: never; the audit trail outlives the
		// environment until someone deletes it deliberately.
		ForceDestroy: pulumi.Bool(!args.Production),
		// Object Lock can only be turned on when the bucket is created.
		// https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html
		ObjectLockEnabled: pulumi.Bool(args.Production),
	}, parent, pulumi.Protect(args.Production))
	if err != nil {
		return nil, fmt.Errorf("trail bucket: %w", err)
	}
	if args.Production {
		if err := immutableTrail(ctx, args, bucket, parent); err != nil {
			return nil, err
		}
	}
	_, err = s3.NewBucketPublicAccessBlock(ctx, l("trail-bucket-public-access"), &s3.BucketPublicAccessBlockArgs{
		Bucket:                bucket.ID(),
		BlockPublicAcls:       pulumi.Bool(true),
		BlockPublicPolicy:     pulumi.Bool(true),
		IgnorePublicAcls:      pulumi.Bool(true),
		RestrictPublicBuckets: pulumi.Bool(true),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("trail bucket public access block: %w", err)
	}
	_, err = s3.NewBucketOwnershipControls(ctx, l("trail-bucket-ownership"), &s3.BucketOwnershipControlsArgs{
		Bucket: bucket.ID(),
		Rule:   &s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String("BucketOwnerEnforced")},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("trail bucket ownership: %w", err)
	}
	_, err = s3.NewBucketServerSideEncryptionConfigurationV2(ctx, l("trail-bucket-encryption"), &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{&s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
			ApplyServerSideEncryptionByDefault: &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
				SseAlgorithm:   pulumi.String("aws:kms"),
				KmsMasterKeyId: args.LogsKeyArn,
			},
			BucketKeyEnabled: pulumi.Bool(true),
		}},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("trail bucket encryption: %w", err)
	}
	bucketPolicy, err := s3.NewBucketPolicy(ctx, l("trail-bucket-policy"), &s3.BucketPolicyArgs{
		Bucket: bucket.ID(),
		Policy: bucket.Arn.ApplyT(func(b string) (string, error) {
			fromThisTrail := map[string]map[string]any{"StringEquals": {"aws:SourceArn": trailArn}}
			return kit.NewPolicy(
				kit.Statement{
					Sid:       "CloudTrailAclCheck",
					Effect:    "Allow",
					Principal: map[string]any{"Service": "cloudtrail.amazonaws.com"},
					Action:    "s3:GetBucketAcl",
					Resource:  b,
					Condition: fromThisTrail,
				},
				kit.Statement{
					Sid:       "CloudTrailWrite",
					Effect:    "Allow",
					Principal: map[string]any{"Service": "cloudtrail.amazonaws.com"},
					Action:    "s3:PutObject",
					Resource:  fmt.Sprintf("%s/AWSLogs/%s/*", b, args.Account),
					Condition: fromThisTrail,
				},
				kit.Statement{
					Sid:       "TLSOnly",
					Effect:    "Deny",
					Principal: "*",
					Action:    "s3:*",
					Resource:  []string{b, b + "/*"},
					Condition: map[string]map[string]any{"Bool": {"aws:SecureTransport": "false"}},
				},
			).JSON()
		}).(pulumi.StringOutput),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("trail bucket policy: %w", err)
	}

	logs, err := cloudwatch.NewLogGroup(ctx, l("trail-logs"), &cloudwatch.LogGroupArgs{
		Name:            pulumi.String(names.TrailLogGroup()),
		RetentionInDays: pulumi.Int(args.LogRetentionDays),
		KmsKeyId:        args.LogsKeyArn,
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("trail log group: %w", err)
	}
	logsRole, err := iam.NewRole(ctx, l("trail-logs-role"), &iam.RoleArgs{
		Name:        pulumi.String(names.Global("trail-logs-role", args.Region)),
		Description: pulumi.String("Lets " + trailName + " deliver to its log group"),
		// CloudTrail's documented trust policy for log delivery names the
		// principal only; a source condition it does not send would make
		// CreateTrail fail its role check.
		AssumeRolePolicy: policyJSON(kit.Statement{
			Sid:       "CloudTrail",
			Effect:    "Allow",
			Principal: map[string]any{"Service": "cloudtrail.amazonaws.com"},
			Action:    "sts:AssumeRole",
		}),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("trail logs role: %w", err)
	}
	logsPolicy, err := iam.NewRolePolicy(ctx, l("trail-logs-policy"), &iam.RolePolicyArgs{
		Name: pulumi.String(names.Name("trail-logs-policy")),
		Role: logsRole.Name,
		Policy: logs.Arn.ApplyT(func(lg string) (string, error) {
			return kit.NewPolicy(kit.Statement{
				Sid:      "DeliverToTheTrailLogGroup",
				Effect:   "Allow",
				Action:   []string{"logs:CreateLogStream", "logs:PutLogEvents"},
				Resource: lg + ":log-stream:*",
			}).JSON()
		}).(pulumi.StringOutput),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("trail logs policy: %w", err)
	}

	trail, err := cloudtrail.NewTrail(ctx, l("trail"), &cloudtrail.TrailArgs{
		Name:                       pulumi.String(trailName),
		S3BucketName:               bucket.ID(),
		KmsKeyId:                   args.LogsKeyArn,
		EnableLogFileValidation:    pulumi.Bool(true),
		IncludeGlobalServiceEvents: pulumi.Bool(true),
		// Secrets Manager events are regional; this region's record covers
		// the vault's secret.
		IsMultiRegionTrail: pulumi.Bool(false),
		// No eventSelectors: a trail records every management event (read
		// and write) by default, which is what the vault needs. Setting
		// that default explicitly is a change on every `up`: the provider
		// reads the default selector back as an empty list
		// (terraform-provider-aws internal/service/cloudtrail, flattenEventSelector;
		// upstream issues #3697 and #4040).
		// https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-management-events-with-cloudtrail.html
		// CloudTrail wants the group's ARN with the ":*" stream wildcard.
		CloudWatchLogsGroupArn: logs.Arn.ApplyT(func(a string) string { return a + ":*" }).(pulumi.StringOutput),
		CloudWatchLogsRoleArn:  logsRole.Arn,
	}, parent, pulumi.DependsOn([]pulumi.Resource{bucketPolicy, logsPolicy}))
	if err != nil {
		return nil, fmt.Errorf("trail: %w", err)
	}
	return trail, nil
}
