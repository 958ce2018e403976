package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/dbvault/dbvault/ops/access"
	"github.com/dbvault/dbvault/ops/deploy"
	"github.com/dbvault/dbvault/ops/status"
	"github.com/dbvault/dbvault/stacks/kit"
	"github.com/dbvault/dbvault/stacks/network"
	"github.com/dbvault/dbvault/stacks/secrets"
)

// trail: the vault's CloudTrail trail is logging and delivering; when it
// is the trail the secrets layer creates, it records what the layer's
// advanced event selector says and its bucket expires the log files.
//
// GetTrailStatus
// (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_GetTrailStatus.html):
// Name takes "the name or the CloudTrail ARN of the trail" (the ARN is
// required for a trail of another region); IsLogging is "Whether the
// CloudTrail trail is currently logging Amazon Web Services API calls";
// LatestDeliveryError "Displays any Amazon S3 error that CloudTrail
// encountered when attempting to deliver log files to the designated
// bucket".
//
// The secrets stack exports trailArn for its own trail and for the
// account's (existingTrailName) alike; ownTrail tells them apart by name.
// The account's trail, its selectors and its bucket are not the vault's:
// the line says so and checks only that it logs and delivers.
func (v *Verifier) trail(ctx context.Context) Result {
	const check = "trail"
	r := v.need(check)
	arn := r.str("secrets", "trailArn")
	rotator := r.str("secrets", "rotatorFunctionName")
	if r.bad {
		return r.out
	}
	st, err := v.Clients.CloudTrail.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(arn)})
	if err != nil {
		return callFailed(check, "cloudtrail:GetTrailStatus", arn, err, "")
	}
	var p problems
	if !aws.ToBool(st.IsLogging) {
		stopped := ""
		if st.StopLoggingTime != nil {
			stopped = " since " + when(st.StopLoggingTime)
		}
		p.add(fmt.Sprintf("trail %s is not logging%s", arn, stopped),
			fmt.Sprintf("turn logging on again by deploying the secrets layer (%s); find who stopped it in CloudTrail's event history (StopLogging)", v.up("secrets")))
	}
	if e := aws.ToString(st.LatestDeliveryError); e != "" {
		p.add(fmt.Sprintf("the last delivery of log files to S3 failed: %s", e),
			fmt.Sprintf("check the trail bucket's policy and its KMS key policy allow cloudtrail.amazonaws.com, then deploy the secrets layer (%s)", v.up("secrets")))
	}
	ok := fmt.Sprintf("trail %s is logging, no delivery error (last delivery %s)", arn, when(st.LatestDeliveryTime))
	// Which regions it records, and where it delivers (DescribeTrails:
	// IsMultiRegionTrail, HomeRegion, S3BucketName,
	// https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_Trail.html;
	// shadow trails included, so a multi-region trail homed elsewhere is
	// found by its ARN).
	dt, err := v.Clients.CloudTrail.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{TrailNameList: []string{arn}, IncludeShadowTrails: aws.Bool(true)})
	if err != nil {
		return callFailed(check, "cloudtrail:DescribeTrails", arn, err, "")
	}
	if len(dt.TrailList) != 1 {
		return fail(check, fmt.Sprintf("DescribeTrails %s answered %d trails", arn, len(dt.TrailList)), "run verify again")
	}
	info := dt.TrailList[0]
	if region := v.Outputs.Region(); region != "" && !aws.ToBool(info.IsMultiRegionTrail) && aws.ToString(info.HomeRegion) != region {
		p.add(fmt.Sprintf("trail %s records only %s, not %s, where the vault's calls are made", arn, orNone(aws.ToString(info.HomeRegion)), region),
			fmt.Sprintf("make it a multi-region trail, or give the vault a trail of its own (createTrail: true in stacks/secrets) and deploy the secrets layer (%s)", v.up("secrets")))
	}
	names, own := ownTrail(arn, rotator)
	if !own {
		// The account's selectors are not the vault's to set, but its
		// alert rules see only what the trail records: the deploy took
		// this trail because it recorded every management event
		// (deploy.RecordsManagementEvents), which is checked again.
		sel, err := v.Clients.CloudTrail.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String(arn)})
		if err != nil {
			return callFailed(check, "cloudtrail:GetEventSelectors", arn, err, "")
		}
		if !deploy.RecordsManagementEvents(sel) {
			p.add(fmt.Sprintf("the account's trail %s no longer records every management event, read and write, Secrets Manager's included: the vault's alert rules cannot see what it does not record", arn),
				fmt.Sprintf("have its owners restore its event selectors, or give the vault a trail of its own (createTrail: true in stacks/secrets) and deploy the secrets layer (%s)", v.up("secrets")))
		}
		return p.result(check, ok+"; it is the account's trail (existingTrailName), not one the secrets layer created: it records every management event, read and write; its bucket's lifecycle is the account's, so it is not checked")
	}
	recorded, err := v.trailSelectors(ctx, arn, &p)
	if err != nil {
		return fail(check, err.Error(), apiFix("cloudtrail:GetEventSelectors"))
	}
	region, account := arnRegionAccount(arn)
	bucket := names.TrailBucketName(region, account)
	if got := aws.ToString(info.S3BucketName); got != bucket {
		p.add(fmt.Sprintf("trail %s delivers to %s, not the secrets layer's bucket %s", arn, orNone(got), bucket),
			fmt.Sprintf("deploy the secrets layer (%s), which points it back; find who changed it in CloudTrail's event history (UpdateTrail)", v.up("secrets")))
	}
	expiry, err := v.trailExpiry(ctx, bucket, &p)
	if err != nil {
		return fail(check, err.Error(), apiFix("s3:GetLifecycleConfiguration on the trail bucket "+bucket))
	}
	return p.result(check, fmt.Sprintf("%s; it records %s (GetEventSelectors: the secrets layer's advanced selectors); its bucket %s %s", ok, recorded, bucket, expiry))
}

// ownTrail reports whether trailArn is the trail the secrets layer creates,
// and the vault's names. The layer names its trail Names.TrailName and its
// rotator Names.RotatorName, both [<vault>-]<type>-<suffix> (kit.Names), so
// the rotator's name (an output) gives the vault's names; a trail of any
// other name is the account's (existingTrailName).
func ownTrail(trailArn, rotator string) (kit.Names, bool) {
	_, name, ok := strings.Cut(trailArn, ":trail/")
	if !ok {
		return kit.Names{}, false
	}
	const kind = "rotator-"
	for i := strings.Index(rotator, kind); i >= 0; {
		n := kit.Names{Prefix: rotator[:i], Suffix: rotator[i+len(kind):]}
		if n.RotatorName() == rotator && n.TrailName() == name {
			return n, true
		}
		next := strings.Index(rotator[i+1:], kind)
		if next < 0 {
			break
		}
		i += 1 + next
	}
	return kit.Names{}, false
}

// arnPartitionAccount are an ARN's partition and account (empty when it
// has fewer parts).
func arnPartitionAccount(arn string) (partition, account string) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return "", ""
	}
	return parts[1], parts[4]
}

// arnRegionAccount are an ARN's region and account (empty when it has
// fewer parts).
func arnRegionAccount(arn string) (region, account string) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return "", ""
	}
	return parts[3], parts[4]
}

// trailWant is the secrets layer's advanced event selectors
// (secrets.TrailEventSelectors), each as fieldSelectorsText, sorted.
func trailWant() []string {
	var want []string
	for _, sel := range secrets.TrailEventSelectors {
		var fs []cttypes.AdvancedFieldSelector
		for _, f := range sel.Fields {
			fs = append(fs, cttypes.AdvancedFieldSelector{Field: aws.String(f.Field), Equals: f.Equals, NotEquals: f.NotEquals})
		}
		want = append(want, "["+fieldSelectorsText(fs)+"]")
	}
	slices.Sort(want)
	return want
}

// trailSelectors adds a problem unless the trail has exactly the secrets
// layer's advanced event selectors, and returns what it records.
//
// GetEventSelectors
// (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_GetEventSelectors.html):
// TrailName takes the trail's name or ARN; the answer has
// AdvancedEventSelectors (Name, FieldSelectors: Field and the operators
// Equals, NotEquals, StartsWith, NotStartsWith, EndsWith, NotEndsWith) or
// basic EventSelectors, as a trail uses one kind or the other
// (PutEventSelectors,
// https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_PutEventSelectors.html).
// A selector's name only labels it, and the order of the selectors, of
// their field selectors and of values carries no meaning (an event is
// logged when it matches any selector), so all are left out of the
// comparison. That CloudTrail answers the selectors as they were put,
// without fields of its own, is unconfirmed offline.
func (v *Verifier) trailSelectors(ctx context.Context, arn string, p *problems) (string, error) {
	out, err := v.Clients.CloudTrail.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String(arn)})
	if err != nil {
		return "", fmt.Errorf("GetEventSelectors %s: %w", arn, err)
	}
	want := strings.Join(trailWant(), " or ")
	var got []string
	for _, s := range out.AdvancedEventSelectors {
		got = append(got, "["+fieldSelectorsText(s.FieldSelectors)+"]")
	}
	for _, s := range out.EventSelectors {
		got = append(got, fmt.Sprintf("[basic: ReadWriteType %s, IncludeManagementEvents %t, %d data resources, ExcludeManagementEventSources %s]",
			orNone(string(s.ReadWriteType)), aws.ToBool(s.IncludeManagementEvents), len(s.DataResources), orNone(strings.Join(s.ExcludeManagementEventSources, " "))))
	}
	slices.Sort(got)
	if strings.Join(got, " or ") != want {
		p.add(fmt.Sprintf("trail %s has the event selectors %s, not the secrets layer's advanced selectors %s", arn, orNone(strings.Join(got, " or ")), want),
			fmt.Sprintf("deploy the secrets layer (%s), which sets them; find who changed them in CloudTrail's event history (PutEventSelectors)", v.up("secrets")))
	}
	return want, nil
}

// fieldSelectorsText shows field selectors as "field Operator [values]",
// sorted, so that two lists compare as sets.
func fieldSelectorsText(fs []cttypes.AdvancedFieldSelector) string {
	var parts []string
	for _, f := range fs {
		for _, op := range []struct {
			name   string
			values []string
		}{{"Equals", f.Equals}, {"NotEquals", f.NotEquals}, {"StartsWith", f.StartsWith}, {"NotStartsWith", f.NotStartsWith}, {"EndsWith", f.EndsWith}, {"NotEndsWith", f.NotEndsWith}} {
			if len(op.values) == 0 {
				continue
			}
			values := slices.Clone(op.values)
			slices.Sort(values)
			parts = append(parts, fmt.Sprintf("%s %s [%s]", aws.ToString(f.Field), op.name, strings.Join(values, " ")))
		}
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// trailExpiry adds a problem unless the trail bucket has the secrets
// layer's lifecycle rule: enabled, on the log files' prefix
// (secrets.TrailLogPrefix), expiring them after some days. It returns what
// the rule does.
//
// How many days is the layer's config trailRetentionDays (90 by default,
// at least the Object Lock retention in production), which the secrets
// stack does not export: the line shows the days rather than compare them.
//
// GetBucketLifecycleConfiguration
// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLifecycleConfiguration.html):
// Rules[] with ID, Status (Enabled | Disabled), Filter.Prefix,
// Expiration.Days, NoncurrentVersionExpiration.NoncurrentDays; a bucket
// without a lifecycle configuration answers the error code
// NoSuchLifecycleConfiguration. It needs s3:GetLifecycleConfiguration.
func (v *Verifier) trailExpiry(ctx context.Context, bucket string, p *problems) (string, error) {
	fix := fmt.Sprintf("deploy the secrets layer (%s), which writes the rule (config trailRetentionDays sets its days); find who changed it in CloudTrail's event history (PutBucketLifecycleConfiguration, DeleteBucketLifecycle)", v.up("secrets"))
	out, err := v.Clients.S3.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(bucket)})
	var apiErr smithy.APIError
	switch {
	case errors.As(err, &apiErr) && apiErr.ErrorCode() == "NoSuchLifecycleConfiguration":
		p.add(fmt.Sprintf("the trail bucket %s has no lifecycle configuration: its log files never expire", bucket), fix)
		return "", nil
	case err != nil:
		return "", fmt.Errorf("GetBucketLifecycleConfiguration %s: %w", bucket, err)
	}
	for _, rule := range out.Rules {
		if rule.Status != s3types.ExpirationStatusEnabled || rule.Filter == nil || aws.ToString(rule.Filter.Prefix) != secrets.TrailLogPrefix ||
			rule.Expiration == nil || aws.ToInt32(rule.Expiration.Days) < 1 {
			continue
		}
		noncurrent := ""
		if rule.NoncurrentVersionExpiration != nil && rule.NoncurrentVersionExpiration.NoncurrentDays != nil {
			noncurrent = fmt.Sprintf(", noncurrent versions after %d", aws.ToInt32(rule.NoncurrentVersionExpiration.NoncurrentDays))
		}
		return fmt.Sprintf("expires the log files under %s after %d days%s (rule %s; the days are config trailRetentionDays, which the secrets stack does not export)",
			secrets.TrailLogPrefix, aws.ToInt32(rule.Expiration.Days), noncurrent, orNone(aws.ToString(rule.ID))), nil
	}
	p.add(fmt.Sprintf("the trail bucket %s has no enabled lifecycle rule that expires the log files under %s after a number of days (of its %d rule(s)): they never expire", bucket, secrets.TrailLogPrefix, len(out.Rules)), fix)
	return "", nil
}

func when(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

// alerts: a failed rotation reaches the alerts topic.
//
// A real RotationFailed event cannot be sent to prove it: Secrets Manager
// emits it through CloudTrail, and customers cannot put events of an AWS
// source: "All events that come from AWS services begin with "aws."
// Customer-generated events can have any value here, as long as it doesn't
// begin with "aws."" (EventBridge User Guide, event structure reference,
// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events-structure.html).
// So the rule's own pattern is tested against a sample event instead: the
// real RotationSucceeded event lookupRotationEvent found, renamed
// RotationFailed, when it has the shape the rule expects (ev.confirmed;
// alerts-event-shape reports any other shape), else one built in that
// shape (sampleRotationFailed).
func (v *Verifier) alerts(ctx context.Context, ev *rotationEvent) Result {
	const check = "alerts"
	r := v.need(check)
	rule := r.str("secrets", "rotationFailedRuleName")
	topic := r.str("secrets", "alertsTopicArn")
	watched := v.ruleSecrets(r)
	if r.bad {
		return r.out
	}
	// DescribeRule
	// (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_DescribeRule.html):
	// State is DISABLED | ENABLED | ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS
	// (the last one matches everything ENABLED does, and more);
	// EventPattern is the rule's pattern.
	d, err := v.Clients.EventBridge.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(rule)})
	if err != nil {
		return callFailed(check, "events:DescribeRule", rule, err, v.ifMissing("the rule", "secrets"))
	}
	var p problems
	if d.State != ebtypes.RuleStateEnabled && d.State != ebtypes.RuleStateEnabledWithAllCloudtrailManagementEvents {
		p.add(fmt.Sprintf("rule %s is %s, not ENABLED", rule, orNone(string(d.State))),
			fmt.Sprintf("deploy the secrets layer (%s), which enables it", v.up("secrets")))
	}
	// ListTargetsByRule
	// (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_ListTargetsByRule.html):
	// Targets[].Arn, paged by NextToken.
	targets, err := v.ruleTargets(ctx, rule)
	if err != nil {
		return callFailed(check, "events:ListTargetsByRule", rule, err, "")
	}
	if !slices.Contains(targets, topic) {
		p.add(fmt.Sprintf("rule %s does not target the alerts topic %s (targets: %s)", rule, topic, orNone(strings.Join(targets, ", "))),
			fmt.Sprintf("deploy the secrets layer (%s), which adds the target", v.up("secrets")))
	}
	// TestEventPattern
	// (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_TestEventPattern.html):
	// the event must carry id, account, source, time, region, resources and
	// detail-type; Result says whether the pattern matches it. The pattern
	// lists every secret of the vault, so each one is tested: a pattern that
	// leaves one out would not raise its failure.
	sample := "a sample RotationFailed event of each of the vault's secrets"
	if ev.confirmed() {
		sample = fmt.Sprintf("a RotationFailed event of each of the vault's secrets, %s's shaped as the real %s event %s (its detail, eventName RotationFailed)", ev.secret, ShapeEventName, orNone(ev.id))
	} else {
		sample += fmt.Sprintf(" (built with %s; no real event of that shape: see alerts-event-shape)", ShapePath)
	}
	pat := aws.ToString(d.EventPattern)
	if pat == "" {
		p.add(fmt.Sprintf("rule %s has no event pattern", rule), fmt.Sprintf("deploy the secrets layer (%s)", v.up("secrets")))
	}
	var unmatched []string
	for _, secret := range watched {
		var event string
		if ev.confirmed() && ev.secret == secret {
			event, err = realRotationFailed(ev.record, secret, v.now())
		} else {
			event, err = sampleRotationFailed(secret, v.now())
		}
		if err != nil {
			return fail(check, err.Error(), "name the secrets by ARN in appSecretArns and masterSecretArn; deploy the secrets layer ("+v.up("secrets")+")")
		}
		if pat == "" {
			continue
		}
		m, err := v.Clients.EventBridge.TestEventPattern(ctx, &eventbridge.TestEventPatternInput{EventPattern: aws.String(pat), Event: aws.String(event)})
		if err != nil {
			return callFailed(check, "events:TestEventPattern", "of rule "+rule, err, "")
		}
		if !m.Result {
			unmatched = append(unmatched, secret)
		}
	}
	if len(unmatched) > 0 {
		p.add(fmt.Sprintf("rule %s's pattern %s does not match a RotationFailed event of %s (%s)", rule, pat, strings.Join(unmatched, ", "), sample),
			fmt.Sprintf("deploy the secrets layer (%s), which sets the pattern (source aws.secretsmanager, detail-type AWS Service Event via CloudTrail, detail.eventName RotationFailed, every secret of the vault)", v.up("secrets")))
	}
	// GetMetricStatistics
	// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricStatistics.html)
	// of AWS/Events FailedInvocations by RuleName, "invocations that failed
	// permanently" (EventBridge User Guide, monitoring,
	// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-monitoring.html),
	// which "EventBridge only sends ... to CloudWatch if it isn't zero": no
	// datapoints means none failed (metrics are best-effort, the same page
	// says). Period 3600 over 24 hours: 24 datapoints, under the 1,440 a
	// call may return.
	end := v.now().UTC().Truncate(time.Minute)
	ms, err := v.Clients.CloudWatch.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{
		Namespace:  aws.String("AWS/Events"),
		MetricName: aws.String("FailedInvocations"),
		Dimensions: []cwtypes.Dimension{{Name: aws.String("RuleName"), Value: aws.String(rule)}},
		StartTime:  aws.Time(end.Add(-24 * time.Hour)),
		EndTime:    aws.Time(end),
		Period:     aws.Int32(3600),
		Statistics: []cwtypes.Statistic{cwtypes.StatisticSum},
	})
	if err != nil {
		return callFailed(check, "cloudwatch:GetMetricStatistics", "AWS/Events FailedInvocations of "+rule, err, "")
	}
	failed := 0.0
	for _, dp := range ms.Datapoints {
		failed += aws.ToFloat64(dp.Sum)
	}
	if failed > 0 {
		p.add(fmt.Sprintf("%g invocations of rule %s failed in the last 24 h (EventBridge could not publish to %s)", failed, rule, topic),
			"check the topic's policy lets events.amazonaws.com publish and the topic key's policy lets EventBridge use it, then deploy the secrets layer ("+v.up("secrets")+")")
	}
	return p.result(check, fmt.Sprintf("rule %s is %s, targets %s, its pattern matches %s, %d secret(s) (TestEventPattern; a real one cannot be sent: PutEvents refuses sources beginning with aws.), 0 failed invocations in 24 h",
		rule, d.State, topic, sample, len(watched)))
}

// ruleSecrets are the secrets the rotation-failed rule watches: the
// application secrets, then the master secret.
func (v *Verifier) ruleSecrets(r *reader) []string {
	r.strMap("secrets", "appSecretArns")
	r.str("secrets", "masterSecretArn")
	return append(v.appSecrets(), v.masterSecrets()...)
}

// sampleRotationFailed is the event EventBridge receives when a rotation of
// secretARN fails: the CloudTrail service event RotationFailed of source
// aws.secretsmanager, detail-type "AWS Service Event via CloudTrail"
// (Secrets Manager User Guide, "Log AWS Secrets Manager events with AWS
// CloudTrail", and CloudTrail's "AWS service events", eventType
// AwsServiceEvent). The secret is named where the rule's pattern looks,
// additionalEventData.SecretId (ShapePath) and nowhere else, so the sample
// tests the same shape alerts-event-shape checks against a real event.
func sampleRotationFailed(secretARN string, now time.Time) (string, error) {
	region, account, err := arnParts(secretARN)
	if err != nil {
		return "", err
	}
	return envelope(map[string]any{
		"eventVersion":        "1.08",
		"userIdentity":        map[string]any{"accountId": account, "invokedBy": "secretsmanager.amazonaws.com"},
		"eventTime":           now.UTC().Format(time.RFC3339),
		"eventSource":         "secretsmanager.amazonaws.com",
		"eventName":           "RotationFailed",
		"awsRegion":           region,
		"sourceIPAddress":     "secretsmanager.amazonaws.com",
		"userAgent":           "secretsmanager.amazonaws.com",
		"requestParameters":   nil,
		"responseElements":    nil,
		"additionalEventData": map[string]any{"SecretId": secretARN},
		"eventID":             "0e0b4a4c-4a52-4c7d-9d3e-6f3b0f9f2b11",
		"readOnly":            false,
		"eventType":           "AwsServiceEvent",
		"managementEvent":     true,
		"recipientAccountId":  account,
		"eventCategory":       "Management",
	}, secretARN, now)
}

// realRotationFailed is the event EventBridge would receive had the real
// rotation event record (a CloudTrailEvent) failed: its detail is the
// record as CloudTrail logged it, with eventName RotationFailed.
func realRotationFailed(record map[string]any, secretARN string, now time.Time) (string, error) {
	detail := make(map[string]any, len(record))
	for k, x := range record {
		detail[k] = x
	}
	detail["eventName"] = "RotationFailed"
	return envelope(detail, secretARN, now)
}

// envelope wraps a CloudTrail record as EventBridge delivers a service
// event: source aws.secretsmanager, detail-type "AWS Service Event via
// CloudTrail", the record as detail.
func envelope(detail map[string]any, secretARN string, now time.Time) (string, error) {
	region, account, err := arnParts(secretARN)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(map[string]any{
		"version":     "0",
		"id":          "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
		"detail-type": "AWS Service Event via CloudTrail",
		"source":      "aws.secretsmanager",
		"account":     account,
		"time":        now.UTC().Format(time.RFC3339),
		"region":      region,
		"resources":   []string{},
		"detail":      detail,
	})
	return string(b), err
}

// arnParts are a Secrets Manager ARN's region and account.
func arnParts(secretARN string) (region, account string, err error) {
	parts := strings.SplitN(secretARN, ":", 7)
	if len(parts) < 7 || parts[0] != "arn" || parts[2] != "secretsmanager" {
		return "", "", fmt.Errorf("%q is not a Secrets Manager ARN", secretARN)
	}
	return parts[3], parts[4], nil
}

// rotator: the rotation function is ready and in the vault's subnets.
//
// GetFunctionConfiguration
// (https://docs.aws.amazon.com/lambda/latest/api/API_GetFunctionConfiguration.html):
// State (Pending | Active | Inactive | Failed | ...; "When the state is
// Inactive, you can reactivate the function by invoking it"), StateReason,
// LastUpdateStatus (Successful | Failed | InProgress; "first set to
// Successful after function creation completes"), LastUpdateStatusReason,
// VpcConfig.SubnetIds (VpcConfigResponse).
func (v *Verifier) rotator(ctx context.Context) Result {
	const check = "rotator"
	r := v.need(check)
	fn := r.str("secrets", "rotatorFunctionName")
	subnets := r.list("network", "privateSubnetIds")
	apps := r.strMap("secrets", "appSecretArns")
	code := r.str("secrets", "rotatorCodeSha256")
	if r.bad {
		return r.out
	}
	c, err := v.Clients.Lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(fn)})
	if err != nil {
		return callFailed(check, "lambda:GetFunctionConfiguration", fn, err, "")
	}
	var p problems
	switch c.State {
	case lambdatypes.StateActive:
	case lambdatypes.StatePending:
		p.add(fmt.Sprintf("function %s is Pending (%s)", fn, orNone(aws.ToString(c.StateReason))), "wait a minute (Lambda is creating its network interfaces) and run verify again")
	case lambdatypes.StateInactive:
		p.add(fmt.Sprintf("function %s is Inactive (%s)", fn, orNone(aws.ToString(c.StateReason))), fmt.Sprintf("invoke it to reactivate it: ENV=%s go run mage.go rotate, then run verify again", v.env()))
	default:
		p.add(strings.TrimSuffix(fmt.Sprintf("function %s is %s: %s (%s)", fn, orNone(string(c.State)), orNone(aws.ToString(c.StateReason)), c.StateReasonCode), " ()"),
			fmt.Sprintf("fix the cause the reason names (often the subnets or the role's ec2 permissions), then deploy the secrets layer (%s)", v.up("secrets")))
	}
	if c.LastUpdateStatus != lambdatypes.LastUpdateStatusSuccessful {
		p.add(fmt.Sprintf("its last update is %s: %s", orNone(string(c.LastUpdateStatus)), orNone(aws.ToString(c.LastUpdateStatusReason))),
			fmt.Sprintf("wait for an update in progress, or fix the reason and deploy the secrets layer (%s)", v.up("secrets")))
	}
	// The code the function runs is the package the layer deployed
	// (CodeSha256, base64 SHA-256 as the layer's rotatorCodeSha256): code
	// changed outside Pulumi is neither seen by a refresh nor put back by a
	// deploy (https://github.com/pulumi/pulumi-aws/issues/906).
	if got := aws.ToString(c.CodeSha256); got != code {
		p.add(fmt.Sprintf("its code (CodeSha256 %s) is not the package the secrets layer deployed (rotatorCodeSha256 %s)", orNone(got), code),
			"treat it as an incident (docs/runbooks.md, an alert on the rotator's changes): put the package back with aws lambda update-function-code --function-name "+fn+" --zip-file fileb://functions/rotator/dist/rotator.zip once that zip is the one the layer deployed (openssl dgst -sha256 -binary functions/rotator/dist/rotator.zip | base64 prints "+code+"; a refresh and a deploy do not put it back), then rotate every secret twice")
	}
	var got []string
	if c.VpcConfig != nil {
		got = c.VpcConfig.SubnetIds
	}
	if !sameSet(got, subnets) {
		p.add(fmt.Sprintf("its subnets [%s] are not the network's privateSubnetIds [%s]", strings.Join(got, ", "), strings.Join(subnets, ", ")),
			fmt.Sprintf("deploy the secrets layer (%s), which places it in the network layer's private subnets", v.up("secrets")))
	}
	if res, ok := v.rotatorInvokers(ctx, fn, aws.ToString(c.FunctionArn), apps, &p); !ok {
		return res
	}
	return p.result(check, fmt.Sprintf("function %s is Active, last update Successful, runs the package the secrets layer deployed (CodeSha256 %s), in the private subnets %s, invoked by Secrets Manager for each of the %d application secrets", fn, code, strings.Join(subnets, ", "), len(apps)))
}

// rotatorInvokers adds to p each application secret for which the
// function's resource-based policy does not let this account's Secrets
// Manager invoke it, judged as AWS judges a resource-based policy
// (ops/access). Secrets Manager invokes the rotator as
// secretsmanager.amazonaws.com with the secret as aws:SourceArn and its
// account as aws:SourceAccount
// (https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotating-secrets-required-permissions-function.html).
// The layer names each secret, or past ExactSecretsLimit secrets one
// pattern, in SourceArn (stacks/secrets, invokePermissions): this line
// shows that the stored policy, as ops/access models AWS's evaluation,
// admits every secret; a rotation that succeeds (secrets/<user>) shows
// that Secrets Manager's own invocation does. A statement ops/access
// cannot evaluate makes the line fail as inconclusive, naming the error.
// A failed GetPolicy is the check's result (ok false).
//
// GetPolicy (https://docs.aws.amazon.com/lambda/latest/api/API_GetPolicy.html):
// Policy, "The resource-based policy", as JSON text.
func (v *Verifier) rotatorInvokers(ctx context.Context, fn, fnArn string, apps map[string]string, p *problems) (Result, bool) {
	const check = "rotator"
	out, err := v.Clients.Lambda.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(fn)})
	var none *lambdatypes.ResourceNotFoundException
	switch {
	case errors.As(err, &none):
		// The function exists (GetFunctionConfiguration answered): what
		// is not found is its policy, which Lambda drops with the last
		// permission.
		p.add("it has no resource-based policy, so Secrets Manager may not invoke it and every rotation fails",
			fmt.Sprintf("deploy the secrets layer (%s), which grants each secret's invocation", v.up("secrets")))
		return Result{}, true
	case err != nil:
		return callFailed(check, "lambda:GetPolicy", fn, err, ""), false
	}
	policy, err := access.Parse("the function's policy", aws.ToString(out.Policy))
	if err != nil {
		p.add(fmt.Sprintf("its resource-based policy cannot be read: %v", err), fmt.Sprintf("deploy the secrets layer (%s)", v.up("secrets")))
		return Result{}, true
	}
	var refused, unknown []string
	for _, user := range sortedKeys(apps) {
		_, account := arnRegionAccount(apps[user])
		d, err := access.Evaluate(access.Request{
			Principal: access.Principal{Service: "secretsmanager.amazonaws.com"},
			Action:    "lambda:InvokeFunction",
			Resource:  fnArn,
			Context:   access.Context{"aws:SourceArn": {apps[user]}, "aws:SourceAccount": {account}},
		}, access.Target{Resource: &policy, Account: account})
		switch {
		case err != nil:
			unknown = append(unknown, fmt.Sprintf("%s (%v)", user, err))
		case !d.Allowed:
			refused = append(refused, user)
		}
	}
	if len(unknown) > 0 {
		p.add(fmt.Sprintf("inconclusive: its resource-based policy cannot be evaluated for the secrets of %s", strings.Join(unknown, ", ")),
			"read the policy (aws lambda get-policy) and remove what verify cannot evaluate, or deploy the secrets layer ("+v.up("secrets")+")")
	}
	if len(refused) > 0 {
		p.add(fmt.Sprintf("its resource-based policy does not let Secrets Manager invoke it for the secrets of %s, so their rotation fails", strings.Join(refused, ", ")),
			fmt.Sprintf("deploy the secrets layer (%s), which grants each secret's invocation", v.up("secrets")))
	}
	return Result{}, true
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// MaxRotationDays is the longest rotation schedule verify accepts (the
// vault rotates at least every 30 days).
const MaxRotationDays = 30

// secrets: one line per application secret (secrets/<user>) and one for
// the master secret (secrets/master).
func (v *Verifier) secrets(ctx context.Context) []Result {
	r := v.need("secrets")
	apps := r.strMap("secrets", "appSecretArns")
	var out []Result
	if r.bad {
		out = append(out, r.out)
	}
	for _, user := range sortedKeys(apps) {
		out = append(out, v.appSecret(ctx, user, apps[user]))
	}
	return append(out, v.masterSecret(ctx))
}

// described is what DescribeSecret tells of a secret (its resource policy
// is app-secret-policies' and master-secret-policy's).
//
// DescribeSecret
// (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DescribeSecret.html):
// RotationEnabled, RotationRules.AutomaticallyAfterDays, LastRotatedDate
// ("If the secret isn't configured for rotation or rotation has been
// disabled, Secrets Manager returns null"), RotationLambdaARN,
// VersionIdsToStages (read by ops/status for the unfinished rotation).
type described struct {
	state status.State
	days  *int64
	// kmsKeyID is DescribeSecret's KmsKeyId: "The key ID or alias ARN of
	// the KMS key that Secrets Manager uses to encrypt the secret value. If
	// the secret is encrypted with the Amazon Web Services managed key
	// aws/secretsmanager, this field is omitted."
	kmsKeyID string
	// tags are the secret's tags (DescribeSecret's Tags).
	tags map[string]string
}

func (v *Verifier) describe(ctx context.Context, arn string) (described, error) {
	var d described
	s, err := status.Describe(ctx, readOnlySM{v.Clients.SecretsManager}, arn)
	if err != nil {
		return d, err
	}
	d.state = s
	ds, err := v.Clients.SecretsManager.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(arn)})
	if err != nil {
		return d, fmt.Errorf("DescribeSecret %s: %w", arn, err)
	}
	if ds.RotationRules != nil {
		d.days = ds.RotationRules.AutomaticallyAfterDays
	}
	d.kmsKeyID = aws.ToString(ds.KmsKeyId)
	d.tags = map[string]string{}
	for _, t := range ds.Tags {
		d.tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return d, nil
}

// common adds the problems every secret of the vault may have, and returns
// the detail of a healthy one. schedule says how the rotation settings are
// set ("deploy the secrets layer (...)"), rotate is the command that
// rotates the secret now.
func (v *Verifier) common(p *problems, d described, schedule, rotate string) string {
	s := d.state
	if !s.RotationEnabled {
		p.add("rotation is off", "turn it on: "+schedule)
	}
	days := int64(0)
	switch {
	case d.days == nil:
		p.add(fmt.Sprintf("the schedule is %q, not every N days (AutomaticallyAfterDays)", s.Schedule), "set a schedule of every N days: "+schedule)
	case *d.days > MaxRotationDays:
		p.add(fmt.Sprintf("rotation every %d days, more than %d", *d.days, MaxRotationDays), fmt.Sprintf("set the schedule to at most %d days: %s", MaxRotationDays, schedule))
		days = *d.days
	default:
		days = *d.days
	}
	if s.LastRotated == nil {
		p.add("it has never been rotated (no LastRotatedDate)", fmt.Sprintf("rotate it once (%s) and read its status if that fails", rotate))
	}
	if _, ok := s.Holder(status.Current); !ok {
		p.add("no version holds AWSCURRENT", "see docs/runbooks.md#rolling-back-to-awsprevious")
	}
	if u := s.Unfinished; u != nil {
		p.add(fmt.Sprintf("unfinished rotation: version %s holds AWSPENDING", u.ID), status.PendingFix(s, *u))
	}
	// A rotation that never started leaves no AWSPENDING: only its date,
	// a day past, shows it.
	if due, ok := s.Overdue(); ok {
		unconfirmed := ""
		if rdsManaged(s.ARN) {
			unconfirmed = " (for a secret RDS manages, unconfirmed offline: that its NextRotationDate is kept as a Lambda rotation's is)"
		}
		p.add(fmt.Sprintf("the rotation due %s has not happened: a scheduled rotation failed or did not start%s", due.UTC().Format(time.RFC3339), unconfirmed), "see "+status.RunbookFailedRotation)
	}
	return fmt.Sprintf("rotation on every %d days, last rotated %s, next due %s, no unfinished rotation", days, when(s.LastRotated), when(s.NextRotation))
}

// sameKey reports whether DescribeSecret's KmsKeyId (a key ID, a key ARN
// or an alias ARN) names the key whose ARN is keyArn. An alias is not
// resolved: the secrets layer sets the key's ARN, so an alias is a change
// made outside it.
func sameKey(kmsKeyID, keyArn string) bool {
	if kmsKeyID == "" {
		return false
	}
	return kmsKeyID == keyArn || "key/"+kmsKeyID == keyArn[strings.LastIndex(keyArn, ":")+1:]
}

func (v *Verifier) appSecret(ctx context.Context, user, arn string) Result {
	check := "secrets/" + user
	r := v.need(check)
	want := r.num("secrets", "rotationDays")
	rotator := r.str("secrets", "rotatorFunctionArn")
	key := r.str("kms", "secretsKeyArn")
	if r.bad {
		return r.out
	}
	d, err := v.describe(ctx, arn)
	if err != nil {
		return fail(check, err.Error(), apiFix("secretsmanager:DescribeSecret and ListSecretVersionIds")+v.ifMissing("the secret", "secrets"))
	}
	var p problems
	ok := v.common(&p, d, fmt.Sprintf("deploy the secrets layer (%s)", v.up("secrets")), fmt.Sprintf("ENV=%s APP_USER=%s go run mage.go rotate", v.env(), user))
	if d.days != nil && *d.days <= MaxRotationDays && *d.days != want {
		p.add(fmt.Sprintf("rotation every %d days, not the stack's rotationDays %d", *d.days, want), fmt.Sprintf("deploy the secrets layer (%s)", v.up("secrets")))
	}
	switch {
	case d.state.RotatorARN == "":
		p.add("no rotation function is set", fmt.Sprintf("deploy the secrets layer (%s)", v.up("secrets")))
	case d.state.RotatorARN != rotator:
		// Another function rotating the secret gets its passwords; the
		// rotator line would then judge a permission no one uses. An alias
		// or version of the rotator counts as another: it runs its own
		// code and configuration, which that line (reading the function
		// itself) does not see.
		p.add(fmt.Sprintf("it is rotated by %s, not the vault's rotator %s", d.state.RotatorARN, rotator),
			fmt.Sprintf("find out who changed it (CloudTrail: RotateSecret on this secret; docs/runbooks.md, rotator-changes), then deploy the secrets layer (%s)", v.up("secrets")))
	}
	if !sameKey(d.kmsKeyID, key) {
		// Another key's policy does not hold the vault's Denies: the
		// secrets-key-direct-use line tests the key, not the secret.
		used := d.kmsKeyID
		if used == "" {
			used = "the AWS managed key aws/secretsmanager"
		}
		p.add(fmt.Sprintf("it is encrypted with %s, not the vault's secrets key %s", used, key),
			fmt.Sprintf("find out who changed it (CloudTrail: UpdateSecret on this secret), then deploy the secrets layer (%s)", v.up("secrets")))
	}
	// The compliance tags reach a resource only through the stack's
	// provider's defaultTags (kit.NewProvider); that AWS holds them after
	// the provider's merge is read here on a resource that sets none of
	// them itself.
	for _, k := range kit.TagKeys {
		if strings.TrimSpace(d.tags[k]) == "" {
			p.add(fmt.Sprintf("it has no %s tag (the secrets layer's provider puts it there as a default tag)", k), fmt.Sprintf("deploy the secrets layer (%s); if the tag is still missing, the provider's defaultTags did not apply", v.up("secrets")))
		}
	}
	return p.result(check, fmt.Sprintf("%s: %s; the schedule is the stack's rotationDays; rotated by %s; tagged %s", arn, ok, d.state.RotatorARN, tagList(d.tags)))
}

// masterSecret: the master secret. RDS's managed one (rdsManaged): that
// RDS rotates it with no Lambda function (RotationLambdaARN absent) and
// keeps RotationEnabled and the schedule there is how DescribeSecret is
// expected to show a secret RDS manages; unconfirmed offline, so the line
// says what it confirms. On a team's existing cluster the schedule is the
// team's, and so are the fixes. A team's own secret of the master
// credentials (existingMasterSecretArn, when RDS does not manage the master
// password) is rotated however the team chose: operatorMasterSecret.
func (v *Verifier) masterSecret(ctx context.Context) Result {
	const check = "secrets/master"
	r := v.need(check)
	arn := r.str("secrets", "masterSecretArn")
	existing := r.existingCluster()
	if r.bad {
		return r.out
	}
	d, err := v.describe(ctx, arn)
	if err != nil {
		gone := v.ifMissing("the secret", "database")
		if existing {
			gone = "; if the secret no longer exists, deploy the database layer (" + v.up("database") + "), which reads the team's cluster's master secret again, then the secrets layer (" + v.up("secrets") + ")"
		}
		return fail(check, err.Error(), apiFix("secretsmanager:DescribeSecret and ListSecretVersionIds")+gone)
	}
	if existing && !rdsManaged(arn) {
		return operatorMasterSecret(check, arn, d)
	}
	var p problems
	schedule := fmt.Sprintf("deploy the database layer (%s)", v.up("database"))
	lambdaFix := fmt.Sprintf("let RDS rotate it: deploy the database layer (%s), whose rotation has no function; a function must not rotate RDS's managed master password", v.up("database"))
	keeps := "RDS keeps the schedule the database layer set"
	if existing {
		// The database layer reads an existing cluster and changes none of
		// its settings (stacks/database/existing.go): the team sets the
		// managed secret's schedule, in Secrets Manager
		// (https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_managed.html).
		schedule = fmt.Sprintf("the team that runs the cluster sets it (aws secretsmanager rotate-secret --secret-id %s --rotation-rules AutomaticallyAfterDays=<1 to %d> --no-rotate-immediately); the database layer leaves an existing cluster's master secret as the team set it", arn, MaxRotationDays)
		lambdaFix = "a function must not rotate RDS's managed master password: the team that runs the cluster sets the secret's rotation without one, so that RDS rotates it (the database layer leaves an existing cluster's master secret as the team set it)"
		keeps = "RDS keeps the team's schedule"
	}
	ok := v.common(&p, d, schedule, "aws secretsmanager rotate-secret --secret-id "+arn+", which RDS carries out")
	if fn := d.state.RotatorARN; fn != "" {
		p.add(fmt.Sprintf("it is rotated by the Lambda function %s, not by RDS", fn), lambdaFix)
	}
	return p.result(check, fmt.Sprintf("%s: %s; no RotationLambdaARN — confirms: RDS rotates it itself; rotation on and at most %d days with no function — confirms: %s (both as DescribeSecret is expected to show an RDS-managed secret: unconfirmed offline)",
		arn, ok, MaxRotationDays, keeps))
}

// rdsManaged reports whether arn names a secret that RDS manages: a managed
// secret's name starts with the managing service's ID and "!"
// (https://docs.aws.amazon.com/secretsmanager/latest/userguide/service-linked-secrets.html),
// rds!cluster-... for a cluster's master password.
func rdsManaged(arn string) bool { return strings.Contains(arn, ":secret:rds!") }

// operatorMasterSecret: the team's own secret of an existing cluster's
// master credentials. Whether and how it rotates (off, any schedule, a
// Lambda function of the team's) is the team's choice, which the vault
// neither sets nor promises: the line reports it. It fails only where the
// rotator, which reads the AWSCURRENT version to manage the application
// users, could not rely on it: no version is AWSCURRENT, or a rotation left
// AWSPENDING behind (the master password may already be the pending one).
func operatorMasterSecret(check, arn string, d described) Result {
	s := d.state
	var p problems
	if _, ok := s.Holder(status.Current); !ok {
		p.add(fmt.Sprintf("no version of the team's master secret %s holds AWSCURRENT: the rotator cannot read the master credentials", arn),
			"the team that owns the secret labels the version with the master user's current password AWSCURRENT (aws secretsmanager update-secret-version-stage)")
	}
	if u := s.Unfinished; u != nil {
		p.add(fmt.Sprintf("unfinished rotation of the team's master secret %s: version %s holds AWSPENDING, so the master password may already be that version's", arn, u.ID),
			"the team that owns the secret finishes or undoes its rotation (its rotation function's log says where it stopped); until then the rotator may be refused by the cluster")
	}
	var state string
	switch {
	case !s.RotationEnabled:
		state = "rotation off"
	case d.days != nil:
		state = fmt.Sprintf("rotation on every %d days", *d.days)
	default:
		state = fmt.Sprintf("rotation on, schedule %s", orNone(s.Schedule))
	}
	if s.RotatorARN != "" {
		state += " by the Lambda function " + s.RotatorARN
	}
	return p.result(check, fmt.Sprintf("%s is the team's secret of the master credentials (RDS does not manage this cluster's master password): %s, last rotated %s, a version holds AWSCURRENT, no unfinished rotation; its rotation is the team's, which the vault neither sets nor checks",
		arn, state, when(s.LastRotated)))
}

// database: the cluster is available, uses RDS's master secret and
// requires TLS. On a team's existing cluster the master secret may be the
// team's own (when RDS does not manage the master password), and
// require_secure_transport is the team's setting: reported, not failed.
func (v *Verifier) database(ctx context.Context) Result {
	const check = "database"
	r := v.need(check)
	id := r.str("database", "clusterIdentifier")
	master := r.str("database", "masterSecretArn")
	existing := r.existingCluster()
	secretsKey := ""
	if !existing {
		secretsKey = r.str("kms", "secretsKeyArn")
	}
	if r.bad {
		return r.out
	}
	gone := v.ifMissing("the cluster", "database")
	if existing {
		gone = "; if the team's cluster no longer exists, set existingClusterIdentifier in stacks/database to the cluster to serve and deploy the database layer (" + v.up("database") + ")"
	}
	c, failed := v.cluster(ctx, check, id, gone)
	if failed != nil {
		return *failed
	}
	var p problems
	if st := aws.ToString(c.Status); st != "available" {
		p.add(fmt.Sprintf("cluster %s is %s, not available", id, orNone(st)), "wait for the operation in progress to end (aws rds describe-events --source-type db-cluster), then run verify again")
	}
	secret := fmt.Sprintf("its master secret %s is active", master)
	switch ms := c.MasterUserSecret; {
	case ms == nil && existing && !rdsManaged(master):
		// The team's own secret (existingMasterSecretArn): the database
		// layer accepts it only when RDS does not manage the password
		// (stacks/database/existing.go, LookupExistingCluster).
		secret = fmt.Sprintf("RDS does not manage its master password, whose secret is the team's %s (secrets/master reads it)", master)
	case ms == nil && existing:
		p.add(fmt.Sprintf("cluster %s has no MasterUserSecret, but the stack's masterSecretArn %s is RDS's managed secret: RDS no longer manages the master password, so that secret no longer holds it", id, master),
			fmt.Sprintf("set existingMasterSecretArn in stacks/database to a secret that holds the master user's {\"username\", \"password\"}, or have the team let RDS manage the password again (aws rds modify-db-cluster --db-cluster-identifier %s --manage-master-user-password --apply-immediately); then deploy the database layer (%s) and the secrets layer (%s)", id, v.up("database"), v.up("secrets")))
	case ms == nil:
		p.add(fmt.Sprintf("cluster %s has no MasterUserSecret: RDS does not manage its master password", id), fmt.Sprintf("deploy the database layer (%s), which sets manage_master_user_password", v.up("database")))
	case aws.ToString(ms.SecretArn) != master:
		fix := fmt.Sprintf("deploy the database layer (%s), then the secrets layer (%s)", v.up("database"), v.up("secrets"))
		if existing {
			fix = fmt.Sprintf("unset existingMasterSecretArn in stacks/database if it is set (RDS's secret is the one that stays current), deploy the database layer (%s), then the secrets layer (%s)", v.up("database"), v.up("secrets"))
		}
		p.add(fmt.Sprintf("the cluster's master secret %s is not the stack's masterSecretArn %s", aws.ToString(ms.SecretArn), master), fix)
	case aws.ToString(ms.SecretStatus) != "active":
		key := "check the key policy of the kms layer and the secret's resource policy"
		if existing {
			key = "the team checks the policy of the secret's key and the secret's resource policy, both the team's"
		}
		p.add(fmt.Sprintf("the master secret's status is %s, not active", orNone(aws.ToString(ms.SecretStatus))),
			"wait if it is creating or rotating; if impaired, RDS cannot use the secret or its KMS key: "+key)
	}
	// The vault's own cluster keeps its master secret under the secrets
	// key (the database layer's master_user_secret_kms_key_id), whose
	// policy denies its use to all but the rotator, the administrators and
	// RDS (MasterUserSecret.KmsKeyId,
	// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_MasterUserSecret.html).
	if ms := c.MasterUserSecret; !existing && ms != nil && !sameKey(aws.ToString(ms.KmsKeyId), secretsKey) {
		p.add(fmt.Sprintf("the master secret is encrypted with %s, not the vault's secrets key %s", orNone(aws.ToString(ms.KmsKeyId)), secretsKey),
			fmt.Sprintf("find out who changed it (CloudTrail: ModifyDBCluster, MasterUserSecretKmsKeyId), then deploy the database layer (%s)", v.up("database")))
	}
	if sm := aws.ToString(v.outputString("secrets", "masterSecretArn")); sm != "" && sm != master {
		p.add(fmt.Sprintf("the secrets stack's masterSecretArn %s is not the database stack's %s", sm, master), fmt.Sprintf("deploy the secrets layer (%s)", v.up("secrets")))
	}
	group := aws.ToString(c.DBClusterParameterGroup)
	tls, err := v.clusterParameter(ctx, group, "require_secure_transport")
	if err != nil {
		return fail(check, err.Error(), apiFix("rds:DescribeDBClusterParameters"))
	}
	var warning string
	switch {
	case isOn(tls):
	case existing:
		// The team's parameter group, which the database layer does not
		// change; the rotator connects with verified TLS whatever it says
		// (functions/rotator/internal/mysqldb, TLSConfig). Result has
		// only PASS and FAIL, and prints Fix on FAIL lines only. A FAIL
		// would make verify exit non-zero on every such cluster for a
		// setting no layer of the vault owns, so the line passes and
		// carries the warning, its fix included, in its detail. ON is
		// dynamic (no reboot):
		// https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraMySQL.Security.html
		warning = fmt.Sprintf("warning: require_secure_transport is %s in the team's cluster parameter group %s, not ON: the cluster accepts connections without TLS from clients other than the rotator, which always connects with verified TLS; to refuse them, set require_secure_transport=ON in the team's cluster parameter group (dynamic, no reboot)",
			orNone(tls), orNone(group))
	default:
		p.add(fmt.Sprintf("require_secure_transport is %s in the cluster parameter group %s (Source user), not ON: connections without TLS are accepted", orNone(tls), orNone(group)),
			fmt.Sprintf("deploy the database layer (%s), which sets it ON (dynamic, no reboot)", v.up("database")))
	}
	cluster := "cluster " + id
	if existing {
		cluster = "the team's cluster " + id
	}
	res := p.result(check, fmt.Sprintf("%s is available, %s, require_secure_transport is %s in %s", cluster, secret, orNone(tls), orNone(group)))
	if warning != "" {
		res.Detail += "; " + warning
	}
	return res
}

// cluster is the one cluster DescribeDBClusters answers for id, or the
// FAIL line of check; gone ends the fix of a call that failed.
//
// DescribeDBClusters
// (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBClusters.html)
// returns DBCluster
// (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DBCluster.html):
// Status ("available" when ready), DBClusterParameterGroup (its name),
// MasterUserSecret
// (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_MasterUserSecret.html):
// SecretArn, SecretStatus creating | active | rotating | impaired.
func (v *Verifier) cluster(ctx context.Context, check, id, gone string) (rdstypes.DBCluster, *Result) {
	out, err := v.Clients.RDS.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String(id)})
	if err != nil {
		res := callFailed(check, "rds:DescribeDBClusters", id, err, gone)
		return rdstypes.DBCluster{}, &res
	}
	if len(out.DBClusters) != 1 {
		res := fail(check, fmt.Sprintf("DescribeDBClusters %s returned %d clusters", id, len(out.DBClusters)), "deploy the database layer ("+v.up("database")+")")
		return rdstypes.DBCluster{}, &res
	}
	return out.DBClusters[0], nil
}

func (v *Verifier) outputString(layer, name string) *string {
	if s, ok := v.Outputs[layer][name].(string); ok {
		return &s
	}
	return nil
}

// clusterParameter is the value that the cluster parameter group sets for
// the parameter name ("" when it does not).
//
// DescribeDBClusterParameters
// (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBClusterParameters.html):
// Source "user" lists the parameters set in the group (not the engine's
// defaults); Parameters[].ParameterName, ParameterValue; paged by Marker.
func (v *Verifier) clusterParameter(ctx context.Context, group, name string) (string, error) {
	if group == "" {
		return "", nil
	}
	var marker *string
	for {
		out, err := v.Clients.RDS.DescribeDBClusterParameters(ctx, &rds.DescribeDBClusterParametersInput{
			DBClusterParameterGroupName: aws.String(group), Source: aws.String("user"), Marker: marker})
		if err != nil {
			return "", fmt.Errorf("DescribeDBClusterParameters %s: %w", group, err)
		}
		for _, prm := range out.Parameters {
			if aws.ToString(prm.ParameterName) == name {
				return aws.ToString(prm.ParameterValue), nil
			}
		}
		if marker = out.Marker; marker == nil || *marker == "" {
			return "", nil
		}
	}
}

// tlsVersions are the protocols the database layer's tls_version allows:
// TLS 1.2 is the floor.
var tlsVersions = []string{"TLSv1.2", "TLSv1.3"}

// tlsVersion: the cluster's instances accept TLS 1.2 and later only.
//
// The database layer sets tls_version=TLSv1.2,TLSv1.3 in the cluster
// parameter group. Which values the aurora-mysql8.0 family accepts could
// not be read offline: a value it refused would fail the layer's `up`
// (ModifyDBClusterParameterGroup), so an environment that verify reaches
// has the group's value; this line shows that it is the vault's and that
// it is in effect. On a team's existing cluster the group is the team's,
// which the layer does not set: the line checks it the same way and says
// whose it is. tls_version is static: it applies when an instance
// restarts. DescribeDBClusters
// (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBClusters.html)
// lists DBClusterMembers
// (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DBClusterMember.html),
// whose DBClusterParameterGroupStatus "Specifies status of the DB cluster
// parameter group for this member of the DB cluster" (in-sync, or
// pending-reboot while a static change waits).
func (v *Verifier) tlsVersion(ctx context.Context) Result {
	const check = "tls-version"
	r := v.need(check)
	id := r.str("database", "clusterIdentifier")
	existing := r.existingCluster()
	if r.bad {
		return r.out
	}
	c, failed := v.cluster(ctx, check, id, "")
	if failed != nil {
		return *failed
	}
	group := aws.ToString(c.DBClusterParameterGroup)
	value, err := v.clusterParameter(ctx, group, "tls_version")
	if err != nil {
		return fail(check, err.Error(), apiFix("rds:DescribeDBClusterParameters"))
	}
	// On a team's existing cluster the parameter group and the instances
	// are the team's: the database layer reads them and changes neither
	// (stacks/database/existing.go), so the line names them as the team's
	// and the fixes are the team's to apply.
	whose, setFix, rebootFix, noInstanceFix := "the cluster parameter group", fmt.Sprintf("deploy the database layer (%s), then reboot each instance (aws rds reboot-db-instance), since tls_version is static", v.up("database")),
		"reboot those instances one at a time (aws rds reboot-db-instance --db-instance-identifier <instance>), readers first", fmt.Sprintf("deploy the database layer (%s)", v.up("database"))
	if existing {
		whose = "the team's cluster parameter group"
		setFix = fmt.Sprintf("the team sets tls_version=%s in its cluster parameter group %s, then reboots each instance (static parameter); the database layer does not change an existing cluster's parameter groups", strings.Join(tlsVersions, ","), orNone(group))
		rebootFix = "the team reboots those instances one at a time (aws rds reboot-db-instance --db-instance-identifier <instance>), readers first"
		noInstanceFix = "the team adds an instance to its cluster; the database layer creates none on an existing cluster"
	}
	var p problems
	var versions []string
	for _, t := range strings.Split(value, ",") {
		if t = strings.TrimSpace(t); t != "" {
			versions = append(versions, t)
		}
	}
	if len(versions) == 0 || slices.ContainsFunc(versions, func(t string) bool {
		return !slices.ContainsFunc(tlsVersions, func(w string) bool { return strings.EqualFold(t, w) })
	}) {
		p.add(fmt.Sprintf("tls_version is %s in %s %s (Source user), not within %s: the engine's default may allow older protocols", orNone(value), whose, orNone(group), strings.Join(tlsVersions, ",")), setFix)
	}
	var pending []string
	for _, m := range c.DBClusterMembers {
		if st := aws.ToString(m.DBClusterParameterGroupStatus); st != "in-sync" {
			pending = append(pending, fmt.Sprintf("%s (%s)", aws.ToString(m.DBInstanceIdentifier), orNone(st)))
		}
	}
	if len(pending) > 0 {
		p.add(fmt.Sprintf("the parameter group is not in effect on %s", strings.Join(pending, ", ")), rebootFix)
	}
	if len(c.DBClusterMembers) == 0 {
		p.add(fmt.Sprintf("cluster %s has no instances", id), noInstanceFix)
	}
	in := group
	if existing {
		in = whose + " " + group
	}
	return p.result(check, fmt.Sprintf("tls_version is %s in %s, in sync on the cluster's %d instances", value, in, len(c.DBClusterMembers)))
}

// flowLog: the VPC's flow log delivers to its log group.
//
// DescribeFlowLogs
// (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeFlowLogs.html)
// returns FlowLog
// (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_FlowLog.html):
// FlowLogStatus (ACTIVE), DeliverLogsStatus "The status of the logs
// delivery (SUCCESS | FAILED)" and DeliverLogsErrorMessage, where "Access
// error indicates that the IAM role associated with the flow log does not
// have sufficient permissions to publish to CloudWatch Logs". It confirms
// that the delivery role's policy (write to the group, list the account's
// groups in the region, no "*") is enough.
func (v *Verifier) flowLog(ctx context.Context) Result {
	const check = "flow-log"
	r := v.need(check)
	id := r.str("database", "flowLogId")
	vpc := r.str("network", "vpcId")
	if r.bad {
		return r.out
	}
	out, err := v.Clients.EC2.DescribeFlowLogs(ctx, &ec2.DescribeFlowLogsInput{FlowLogIds: []string{id}})
	if err != nil {
		return callFailed(check, "ec2:DescribeFlowLogs", id, err, "")
	}
	if len(out.FlowLogs) != 1 {
		return fail(check, fmt.Sprintf("flow log %s not found (%d answered)", id, len(out.FlowLogs)), fmt.Sprintf("deploy the database layer (%s)", v.up("database")))
	}
	fl := out.FlowLogs[0]
	var p problems
	if got := aws.ToString(fl.ResourceId); got != vpc {
		p.add(fmt.Sprintf("flow log %s records %s, not the network's VPC %s", id, orNone(got), vpc), fmt.Sprintf("deploy the database layer (%s)", v.up("database")))
	}
	if st := aws.ToString(fl.FlowLogStatus); st != "ACTIVE" {
		p.add(fmt.Sprintf("flow log %s is %s, not ACTIVE", id, orNone(st)), fmt.Sprintf("deploy the database layer (%s)", v.up("database")))
	}
	if st := aws.ToString(fl.DeliverLogsStatus); st != "SUCCESS" {
		p.add(fmt.Sprintf("delivery to %s is %s: %s", aws.ToString(fl.LogGroupName), orNone(st), orNone(aws.ToString(fl.DeliverLogsErrorMessage))),
			"on \"Access error\", compare the role policy vpc-flow-logs-policy-<env> with https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html and the logs key's policy (kms layer); on \"Rate limited\", wait and run verify again")
	}
	return p.result(check, fmt.Sprintf("flow log %s of %s is ACTIVE and delivers to %s (SUCCESS) — confirms: the delivery role's policy, without Resource \"*\", is enough", id, vpc, aws.ToString(fl.LogGroupName)))
}

// isOn: Aurora MySQL 3 takes ON/OFF; version 2 took 1/0.
func isOn(v string) bool { return strings.EqualFold(v, "ON") || v == "1" }

// endpoints: the interface endpoints of Secrets Manager and KMS are up and
// answer the names the vault's clients call: the services' regional names
// through private DNS (the network stack's secretsManagerEndpointUrl and
// kmsEndpointUrl are those names, or the outputs are missing), or, in an
// existing VPC without private DNS, the endpoint's own name that the output
// gives (https://vpce-...), which must be one of its DnsEntries.
//
// DescribeVpcEndpoints
// (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeVpcEndpoints.html)
// returns VpcEndpoint
// (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_VpcEndpoint.html):
// State, PrivateDnsEnabled, VpcId, DnsEntries. The SDK's enum spells the state
// "Available"; the service is said to answer "available" (as the CLI shows
// it; unconfirmed here), so it is compared without case.
func (v *Verifier) endpoints(ctx context.Context) Result {
	const check = "endpoints"
	r := v.need(check)
	vpc := r.str("network", "vpcId")
	smID, kmsID := r.str("network", "secretsManagerEndpointId"), r.str("network", "kmsEndpointId")
	ids := map[string]string{smID: "Secrets Manager", kmsID: "KMS"}
	// An interface endpoint's ServiceName is com.amazonaws.<region>.<service>
	// (https://docs.aws.amazon.com/vpc/latest/privatelink/aws-services-privatelink-support.html),
	// in the vault's region (Outputs.Region), when known.
	service := map[string]string{smID: "secretsmanager", kmsID: "kms"}
	region := v.Outputs.Region()
	if region == "" {
		region = "<region>"
	}
	if r.bad {
		return r.out
	}
	// The name each endpoint is called by, when it is its own (vpce-...).
	ownName := map[string]string{}
	for id, key := range map[string]string{smID: "secretsManagerEndpointUrl", kmsID: "kmsEndpointUrl"} {
		if u, _ := v.Outputs["network"][key].(string); strings.HasPrefix(u, "https://vpce-") {
			ownName[id] = strings.TrimPrefix(u, "https://")
		}
	}
	keys := sortedKeys(ids)
	out, err := v.Clients.EC2.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{VpcEndpointIds: keys})
	if err != nil {
		return callFailed(check, "ec2:DescribeVpcEndpoints", strings.Join(keys, ", "), err, v.ifMissing("an endpoint", "network"))
	}
	var p problems
	for _, id := range keys {
		name := ids[id]
		var found bool
		for _, e := range out.VpcEndpoints {
			if aws.ToString(e.VpcEndpointId) != id {
				continue
			}
			found = true
			want := network.ServiceName(region, service[id])
			if got := aws.ToString(e.ServiceName); got != want && (region != "<region>" || !strings.HasPrefix(got, "com.amazonaws.") || !strings.HasSuffix(got, "."+service[id])) {
				p.add(fmt.Sprintf("the %s endpoint %s is an endpoint of %s, not of %s", name, id, orNone(got), want),
					"name the endpoint of the right service (existing endpoints: the network layer's config), then deploy the network layer ("+v.up("network")+")")
			}
			if !strings.EqualFold(string(e.State), "available") {
				p.add(fmt.Sprintf("the %s endpoint %s is %s, not available", name, id, orNone(string(e.State))), "wait if it is pending; otherwise deploy the network layer ("+v.up("network")+")")
			}
			if host := ownName[id]; host != "" {
				if regional := regionalName(e.DnsEntries); host != regional {
					p.add(fmt.Sprintf("the vault's clients call the %s endpoint %s by %s (the network stack's output), not by its regional name %s", name, id, host, orNone(regional)), "deploy the network layer ("+v.up("network")+"), which exports the endpoint's regional name")
				}
			} else if !aws.ToBool(e.PrivateDnsEnabled) {
				p.add(fmt.Sprintf("the %s endpoint %s has private DNS off: the rotator would reach the public endpoint, which it cannot", name, id), "deploy the network layer ("+v.up("network")+"), which turns private DNS on")
			}
			if got := aws.ToString(e.VpcId); got != vpc {
				p.add(fmt.Sprintf("the %s endpoint %s is in %s, not the vault's VPC %s", name, id, orNone(got), vpc), "deploy the network layer ("+v.up("network")+")")
			}
		}
		if !found {
			p.add(fmt.Sprintf("the %s endpoint %s was not found", name, id), "deploy the network layer ("+v.up("network")+")")
		}
	}
	how := "with private DNS"
	if len(ownName) > 0 {
		how = "each with the DNS name the vault's clients call"
	}
	return p.result(check, fmt.Sprintf("Secrets Manager and KMS endpoints (%s) are available %s, in %s", strings.Join(keys, ", "), how, vpc))
}

// regionalName is an interface endpoint's own regional DNS name among its
// entries, as the network layer picks it (network.EndpointDNSName).
func regionalName(entries []ec2types.DnsEntry) string {
	names := make([]string, 0, len(entries))
	for _, d := range entries {
		names = append(names, aws.ToString(d.DnsName))
	}
	return network.EndpointDNSName(names)
}

// zones: the private subnets are in the network's zones, at least two.
//
// DescribeSubnets
// (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeSubnets.html)
// returns Subnet
// (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_Subnet.html):
// AvailabilityZoneId (the zone's ID, the same physical zone in every
// account, unlike its name), SubnetId, VpcId.
func (v *Verifier) zones(ctx context.Context) Result {
	const check = "zones"
	r := v.need(check)
	vpc := r.str("network", "vpcId")
	subnets := r.list("network", "privateSubnetIds")
	zones := r.list("network", "availabilityZoneIds")
	if r.bad {
		return r.out
	}
	out, err := v.Clients.EC2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: subnets})
	if err != nil {
		return callFailed(check, "ec2:DescribeSubnets", strings.Join(subnets, ", "), err, v.ifMissing("a subnet", "network"))
	}
	var p problems
	seen := map[string]bool{}
	for _, id := range subnets {
		var found bool
		for _, s := range out.Subnets {
			if aws.ToString(s.SubnetId) != id {
				continue
			}
			found = true
			z := aws.ToString(s.AvailabilityZoneId)
			seen[z] = true
			if !slices.Contains(zones, z) {
				p.add(fmt.Sprintf("subnet %s is in zone %s, not among availabilityZoneIds [%s]", id, orNone(z), strings.Join(zones, ", ")), "deploy the network layer ("+v.up("network")+")")
			}
			if got := aws.ToString(s.VpcId); got != vpc {
				p.add(fmt.Sprintf("subnet %s is in %s, not the vault's VPC %s", id, orNone(got), vpc), "deploy the network layer ("+v.up("network")+")")
			}
		}
		if !found {
			p.add(fmt.Sprintf("subnet %s was not found", id), "deploy the network layer ("+v.up("network")+")")
		}
	}
	spanned := make([]string, 0, len(seen))
	for z := range seen {
		spanned = append(spanned, z)
	}
	slices.Sort(spanned)
	if len(spanned) < 2 {
		p.add(fmt.Sprintf("the private subnets span %d zone (%s): one zone's outage takes the database and the rotator down", len(spanned), strings.Join(spanned, ", ")),
			"give the network layer subnets in at least two zones and deploy it ("+v.up("network")+")")
	}
	return p.result(check, fmt.Sprintf("private subnets %s span zones %s, all among availabilityZoneIds, in %s", strings.Join(subnets, ", "), strings.Join(spanned, ", "), vpc))
}

// tagList shows the compliance tags of tags as k=v, in TagKeys order.
func tagList(tags map[string]string) string {
	out := make([]string, 0, len(kit.TagKeys))
	for _, k := range kit.TagKeys {
		out = append(out, k+"="+tags[k])
	}
	return strings.Join(out, " ")
}
