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

// DefaultTrailRetentionDays is how long an ephemeral environment's trail
// bucket keeps log files (config trailRetentionDays); a production one
// keeps them TrailRetentionDays by default, and never less.
const DefaultTrailRetentionDays = 90

// TrailLogPrefix is where CloudTrail writes its log and digest files in the
// bucket: AWSLogs/<account>/CloudTrail[-Digest]/<region>/...
// https://docs.aws.amazon.com/awscloudtrail/latest/userguide/get-and-view-cloudtrail-log-files.html
const TrailLogPrefix = "AWSLogs/"

// trailRetention is the days the trail bucket keeps a log file: days from
// config, or the class's default when 0. A production bucket locks every
// log file for TrailRetentionDays; expiring files earlier would only put
// delete markers on locked versions, so it is refused.
func trailRetention(days int, production bool) (int, error) {
	switch {
	case days == 0 && production:
		return TrailRetentionDays, nil
	case days == 0:
		return DefaultTrailRetentionDays, nil
	case days < 1:
		return 0, fmt.Errorf("trailRetentionDays is %d; it must be a positive number of days", days)
	case production && days < TrailRetentionDays:
		return 0, fmt.Errorf("trailRetentionDays is %d; a production trail bucket locks its log files for %d days (Object Lock), so it keeps them at least that long: pulumi config set trailRetentionDays %d, or remove the key", days, TrailRetentionDays, TrailRetentionDays)
	}
	return days, nil
}

// trailLifecycle bounds the bucket's storage: a log file expires days after
// CloudTrail wrote it. In a versioned (production) bucket expiring the
// current version only adds a delete marker, so the now noncurrent version
// is removed a day later; Object Lock keeps any locked version until its
// retention ends, whatever the rule says, and S3 removes the delete marker
// left alone by then. In an unversioned (ephemeral) bucket the file goes.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-expire-general-considerations.html
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html
// (section "Managing S3 Lifecycle policies with Object Lock")
func trailLifecycle(ctx *pulumi.Context, args *Args, bucket *s3.BucketV2, days int, parent pulumi.ResourceOption) error {
	_, err := s3.NewBucketLifecycleConfigurationV2(ctx, args.names.Logical("trail-bucket-lifecycle"), &s3.BucketLifecycleConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules: s3.BucketLifecycleConfigurationV2RuleArray{&s3.BucketLifecycleConfigurationV2RuleArgs{
			Id:     pulumi.String("expire-trail-log-files"),
			Status: pulumi.String("Enabled"),
			// A filter with a prefix, not an empty one: CloudTrail writes
			// only under AWSLogs/ (the bucket policy's CloudTrailWrite).
			Filter:     &s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String(TrailLogPrefix)},
			Expiration: &s3.BucketLifecycleConfigurationV2RuleExpirationArgs{Days: pulumi.Int(days)},
			NoncurrentVersionExpiration: &s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs{
				NoncurrentDays: pulumi.Int(1),
			},
		}},
	}, parent)
	if err != nil {
		return fmt.Errorf("trail bucket lifecycle: %w", err)
	}
	return nil
}

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

// TrailExcludedEventSources are the management event sources whose read
// events the vault's trail leaves out (TrailEventSelectors). A trail delivers every event it records to the
// CloudWatch Logs group, billed per GB ingested, but the vault needs only
// Secrets Manager's events (its audit record and its EventBridge rules on
// "AWS API Call via CloudTrail"). A trail's advanced selectors cannot keep
// one source: on management events, eventSource takes only NotEquals
// kms.amazonaws.com or rdsdata.amazonaws.com
// (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_AdvancedFieldSelector.html;
// eventName, which could, is for data events and event data stores; the
// field readOnly, Equals true or false, splits reads from writes). So the
// trail drops those two from the reads. KMS's are the bulk: "accounts with AWS KMS
// encryption enabled often see very high volumes of AWS KMS events"
// (https://aws.amazon.com/blogs/aws-cloud-financial-management/launch-controlling-aws-cloudtrail-costs-using-aws-kms-event-filtering/);
// here every GetSecretValue, rotation, log delivery and trail write calls
// Decrypt or GenerateDataKey on the vault's keys. Both values in one
// NotEquals are what AWS's own sample exports from a live trail
// (aws-samples/karpenter-workshop-additional,
// stream-0/tf/cloudtrail/sav/aws_cloudtrail__mda-events.tf).
// CloudTrail's event history still shows KMS calls for 90 days, whatever
// the trails record:
// https://docs.aws.amazon.com/awscloudtrail/latest/userguide/view-cloudtrail-events.html
var TrailExcludedEventSources = []string{"kms.amazonaws.com", "rdsdata.amazonaws.com"}

// TrailFieldSelector is one field selector of the trail's advanced event
// selectors: the field and the values it must equal or must not.
type TrailFieldSelector struct {
	Field             string
	Equals, NotEquals []string
}

// TrailEventSelector is one of the trail's advanced event selectors.
type TrailEventSelector struct {
	Name   string
	Fields []TrailFieldSelector
}

// TrailEventSelectors record every management event that writes, and
// every one that reads but KMS's and RDS Data API's (an event is logged when
// it matches any selector: EventSelector,
// https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_EventSelector.html).
// KMS's bulk is its reads: "Encrypt, Decrypt, and GenerateDataKey
// typically generate a large volume (more than 99%) of events. These
// actions are now logged as Read events", while "Disable, Delete, and
// ScheduleKey ... are logged as Write events"
// (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-management-events-with-cloudtrail.html).
// So a change to one of the vault's keys (its policy, a grant, disabling
// it, scheduling its deletion) stays in the record, and the flood does
// not. RDS Data API's are left out of both.
var TrailEventSelectors = []TrailEventSelector{
	{Name: "Management write events except RDS Data API", Fields: []TrailFieldSelector{
		{Field: "eventCategory", Equals: []string{"Management"}},
		{Field: "readOnly", Equals: []string{"false"}},
		{Field: "eventSource", NotEquals: []string{"rdsdata.amazonaws.com"}},
	}},
	{Name: "Management read events except KMS and RDS Data API", Fields: []TrailFieldSelector{
		{Field: "eventCategory", Equals: []string{"Management"}},
		{Field: "readOnly", Equals: []string{"true"}},
		{Field: "eventSource", NotEquals: TrailExcludedEventSources},
	}},
}

// trailSelectors are TrailEventSelectors as the provider's inputs. The
// provider reads advanced selectors back as CloudTrail returns them, name
// and values included, with the field selectors as a set
// (terraform-provider-aws internal/service/cloudtrail/trail.go,
// flattenAdvancedEventSelector), so the selectors are named and their
// values sorted: an unnamed selector or values in another order than
// CloudTrail's would show a change on every `up`, as the basic default
// selector does (read back as an empty list by flattenEventSelector;
// upstream issues #3697 and #4040). That CloudTrail returns the selectors
// and NotEquals in the order given is unconfirmed offline.
func trailSelectors() cloudtrail.TrailAdvancedEventSelectorArray {
	var out cloudtrail.TrailAdvancedEventSelectorArray
	for _, sel := range TrailEventSelectors {
		var fields cloudtrail.TrailAdvancedEventSelectorFieldSelectorArray
		for _, f := range sel.Fields {
			fs := &cloudtrail.TrailAdvancedEventSelectorFieldSelectorArgs{Field: pulumi.String(f.Field)}
			if len(f.Equals) > 0 {
				fs.Equals = pulumi.ToStringArray(f.Equals)
			}
			if len(f.NotEquals) > 0 {
				fs.NotEquals = pulumi.ToStringArray(f.NotEquals)
			}
			fields = append(fields, fs)
		}
		out = append(out, &cloudtrail.TrailAdvancedEventSelectorArgs{Name: pulumi.String(sel.Name), FieldSelectors: fields})
	}
	return out
}

// newTrail records the region's management events but KMS's reads and
// RDS Data API's (TrailEventSelectors), the secrets' API calls among them, with log file validation, in a KMS-encrypted bucket and a
// KMS-encrypted log group.
func newTrail(ctx *pulumi.Context, args *Args, arn func(string, string) string, parent pulumi.ResourceOption) (*cloudtrail.Trail, error) {
	names, l := args.names, args.names.Logical
	trailName := names.TrailName()
	trailArn := arn("cloudtrail", "trail/"+trailName)
	retention, err := trailRetention(args.TrailRetentionDays, args.Production)
	if err != nil {
		return nil, err
	}

	// S3 bucket names are global across all accounts: the account ID after
	// the suffix keeps the name unique (the documented naming exception).
	bucket, err := s3.NewBucketV2(ctx, l("trail-bucket"), &s3.BucketV2Args{
		Bucket: pulumi.String(TrailBucketName(names, args.Region, args.AccountID)),
		// Ephemeral: destroyable without manual steps, the log files go
		// with the bucket. Production: never; the audit trail outlives the
		// environment until someone deletes it deliberately.
		ForceDestroy: pulumi.Bool(!args.Production),
		// Object Lock can only be turned on when the bucket is created.
		// https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html
		ObjectLockEnabled: pulumi.Bool(args.Production),
	}, parent, kit.Protected(args.Production))
	if err != nil {
		return nil, fmt.Errorf("trail bucket: %w", err)
	}
	if args.Production {
		if err := immutableTrail(ctx, args, bucket, parent); err != nil {
			return nil, err
		}
	}
	if err := trailLifecycle(ctx, args, bucket, retention, parent); err != nil {
		return nil, err
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
					Resource:  fmt.Sprintf("%s/AWSLogs/%s/*", b, args.AccountID),
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
		IsMultiRegionTrail:     pulumi.Bool(false),
		AdvancedEventSelectors: trailSelectors(),
		// CloudTrail wants the group's ARN with the ":*" stream wildcard.
		CloudWatchLogsGroupArn: logs.Arn.ApplyT(func(a string) string { return a + ":*" }).(pulumi.StringOutput),
		CloudWatchLogsRoleArn:  logsRole.Arn,
	}, parent, pulumi.DependsOn([]pulumi.Resource{bucketPolicy, logsPolicy}))
	if err != nil {
		return nil, fmt.Errorf("trail: %w", err)
	}
	return trail, nil
}
