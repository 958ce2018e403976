package secrets

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dbvault/dbvault/stacks/kit"
)

// alerting is what the alerts created: the topic, the rules' names, and
// the failed-rotation rule's target, which every rotation waits for so that
// its first, immediate run is already watched.
type alerting struct {
	topic             *sns.Topic
	ruleName          pulumi.StringOutput
	changesRuleName   pulumi.StringOutput
	rotatorRuleName   pulumi.StringOutput
	silencingRuleName pulumi.StringOutput
	target            pulumi.Resource
}

// RotationFailedRuleName is the EventBridge rule on failed rotations.
func RotationFailedRuleName(names kit.Names) string { return names.Name("rotation-failed") }

// SecretChangesRuleName is the EventBridge rule on API calls that change a
// secret's policy, rotation, replication, tags or existence.
func SecretChangesRuleName(names kit.Names) string { return names.Name("secret-changes") }

// FailureEvents are the Secrets Manager service events the rule matches: a
// rotation that failed, and one abandoned (its AWSPENDING removed because a
// version was put by hand), which leaves the old credentials in place.
// https://docs.aws.amazon.com/secretsmanager/latest/userguide/monitoring-cloudtrail.html
// ("RotationAbandoned", "RotationFailed" among the non-API events).
var FailureEvents = []string{"RotationFailed", "RotationAbandoned"}

// ChangeEvents are the Secrets Manager API calls the secret-changes rule
// matches: what someone with broad IAM could do to a vault secret without
// reading it, each logged by CloudTrail under the operation's name
// (https://docs.aws.amazon.com/secretsmanager/latest/userguide/cloudtrail_log_entries.html):
//   - CancelRotateSecret turns rotation off: the password stops changing;
//   - DeleteSecret schedules the secret's deletion (or deletes it at once);
//     RestoreSecret undoes that, so the responder sees the secret is back;
//   - PutResourcePolicy and DeleteResourcePolicy replace or remove the
//     policy that keeps every other principal from reading the secret;
//   - UpdateSecret changes its KMS key, description or value;
//   - ReplicateSecretToRegions copies it to a region the vault does not
//     watch; RemoveRegionsFromReplication and StopReplicationToReplica
//     (the latter is called in the replica's region, so this rule sees it
//     only for a replica in the vault's own region) change that copy;
//   - TagResource and UntagResource change the tags, which IAM policies
//     may grant access by (aws:ResourceTag conditions) and which carry the
//     compliance tags.
//
// RotateSecret is left out: every rotation started by hand or by a deploy
// calls it; a rotation function of someone else's could neither read nor
// write the secret (its resource policy), and changing that policy alerts.
var ChangeEvents = []string{
	"CancelRotateSecret", "DeleteSecret", "RestoreSecret",
	"PutResourcePolicy", "DeleteResourcePolicy", "UpdateSecret",
	"ReplicateSecretToRegions", "RemoveRegionsFromReplication", "StopReplicationToReplica",
	"TagResource", "UntagResource",
}

// secretIDs are the values a secret id may take in an event for these
// secrets: each one's ARN, its partial ARN (without the six random
// characters and their hyphen that Secrets Manager appends) and its name,
// the three forms every SecretId parameter accepts: "either the Amazon
// Resource Name (ARN) or the friendly name of the secret", or "a partial
// ARN too—for example, if you don't include the final hyphen and six
// random characters" (Secrets Manager API reference, SecretId of
// CancelRotateSecret, UntagResource and the others:
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CancelRotateSecret.html).
//
// Exact values, not EventBridge's prefix matching on "arn:...:secret:<name>-":
// that prefix also matches the ARN of a secret whose name extends this one,
// such as the same user's secret of environment dev-eu
// (db-credentials-app-dev-eu-AbCdEf) for environment dev. A secret deleted
// and created again under the same name has a new ARN; its calls by name or
// partial ARN still match, and DeleteSecret already alerted.
func secretIDs(secretArns []string) ([]string, error) {
	var out []string
	for _, a := range secretArns {
		partial, name, err := secretNameOf(a)
		if err != nil {
			return nil, err
		}
		out = append(out, a, partial, name)
	}
	return out, nil
}

// secretNameOf splits a secret's ARN into its partial ARN and its name:
// "arn:aws:secretsmanager:r:a:secret:NAME-AbCdEf" is
// "arn:aws:secretsmanager:r:a:secret:NAME" and "NAME".
func secretNameOf(arn string) (partial, name string, err error) {
	head, rest, ok := strings.Cut(arn, ":secret:")
	if !ok || !strings.HasPrefix(head, "arn:") || len(rest) < 8 || rest[len(rest)-7] != '-' {
		return "", "", fmt.Errorf("%q is not the ARN of a Secrets Manager secret (arn:...:secret:NAME-XXXXXX)", arn)
	}
	name = rest[:len(rest)-7]
	return head + ":secret:" + name, name, nil
}

// FailurePattern is the rotation-failed rule's event pattern: those
// events, for these secrets only, not for every secret of the account and
// region. The event's detail carries the secret as
// additionalEventData.SecretId, which AWS's documentation does not show
// offline; `go run mage.go verify` (alerts-event-shape) checks it against
// real RotationSucceeded events of an application secret and of RDS's
// master secret, whose rotation RDS manages without a Lambda function. The
// id is matched in every form (secretIDs), since how a managed rotation
// names the master secret is unconfirmed.
// https://docs.aws.amazon.com/secretsmanager/latest/userguide/monitoring-eventbridge.html
func FailurePattern(secretArns []string) (string, error) {
	return FailurePatternFor(Watched{ARNs: secretArns})
}

// FailurePatternFor is FailurePattern for w: the application secrets by
// name pattern when their exact ids do not fit (Watched).
func FailurePatternFor(w Watched) (string, error) {
	p, err := fit(w, func(ids, _ []any) map[string]any {
		return map[string]any{
			"source":      []string{"aws.secretsmanager"},
			"detail-type": []string{"AWS Service Event via CloudTrail"},
			"detail": map[string]any{
				"eventName":           FailureEvents,
				"additionalEventData": map[string]any{"SecretId": ids},
			},
		}
	})
	if err != nil {
		return "", fmt.Errorf("rotation-failed pattern: %w", err)
	}
	return p, nil
}

// ChangesPattern is the secret-changes rule's event pattern: ChangeEvents
// on these secrets. A call reaches EventBridge as detail-type "AWS API Call
// via CloudTrail", source aws.secretsmanager, with the CloudTrail record as
// detail (eventSource secretsmanager.amazonaws.com)
// (https://docs.aws.amazon.com/secretsmanager/latest/userguide/cloudtrail_log_entries.html;
// https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-secretsmanager.html).
// The record names the secret two ways, either of which matches ("$or",
// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html):
//   - requestParameters.secretId, as the caller wrote it (secretIDs: ARN,
//     partial ARN or name), present even when the call was refused, and
//     the only one for TagResource and UntagResource, which answer nothing.
//     That CloudTrail spells the parameter secretId is unconfirmed from
//     AWS's documentation offline;
//   - responseElements.arn, the secret's ARN in the answer, which is what
//     AWS's own example pattern matches; "some Secrets Manager events" spelt
//     it aRN before February 2024, so both keys are listed
//     (https://docs.aws.amazon.com/secretsmanager/latest/userguide/monitoring-eventbridge.html,
//     "Match all changes to a specified secret").
//
// EventBridge receives these API events only while a trail records the
// region's management events: "To record events with a detail-type value
// of AWS API Call via CloudTrail, a CloudTrail trail with logging enabled
// is required" (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event.html).
// The vault always has one: its own, or the account's existingTrailName.
func ChangesPattern(secretArns []string) (string, error) {
	return ChangesPatternFor(Watched{ARNs: secretArns})
}

// ChangesPatternFor is ChangesPattern for w (Watched).
func ChangesPatternFor(w Watched) (string, error) {
	p, err := fit(w, func(ids, arns []any) map[string]any {
		return map[string]any{
			"source":      []string{"aws.secretsmanager"},
			"detail-type": []string{"AWS API Call via CloudTrail"},
			"detail": map[string]any{
				"eventSource": []string{"secretsmanager.amazonaws.com"},
				"eventName":   ChangeEvents,
				"$or": []any{
					map[string]any{"requestParameters": map[string]any{"secretId": ids}},
					map[string]any{"responseElements": map[string]any{"arn": arns}},
					map[string]any{"responseElements": map[string]any{"aRN": arns}},
				},
			},
		}
	})
	if err != nil {
		return "", fmt.Errorf("secret-changes pattern: %w", err)
	}
	return p, nil
}

// MaxEventPatternSize is EventBridge's default limit on an event pattern,
// in characters ("Event pattern size: 2,048", adjustable;
// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html).
const MaxEventPatternSize = 2048

// EventBridgeSource is the source under which EventBridge delivers the API
// calls CloudTrail records from eventSource: aws.<service> for
// <service>.amazonaws.com (aws.lambda, aws.iam, aws.events,
// aws.monitoring, aws.sns, aws.cloudtrail, as each service's page of the
// EventBridge events reference names it,
// https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-lambda.html).
func EventBridgeSource(eventSource string) string {
	return "aws." + strings.TrimSuffix(eventSource, ".amazonaws.com")
}

// apiCallMatch is one alternative of an API-call pattern: eventSource's
// calls named by events (names, or operators such as prefix), with the
// resource among values at requestParameters.param.
type apiCallMatch struct {
	eventSource string
	events      any
	param       string
	values      any
}

// apiCallPattern is rule's pattern on the API calls any of matches
// describes, as EventBridge receives them: detail-type "AWS API Call via
// CloudTrail", each service's source (EventBridgeSource), the CloudTrail
// record as detail. A pattern over MaxEventPatternSize is an error.
func apiCallPattern(rule string, matches ...apiCallMatch) (string, error) {
	var sources []string
	var alts []any
	for _, m := range matches {
		if src := EventBridgeSource(m.eventSource); !slices.Contains(sources, src) {
			sources = append(sources, src)
		}
		alts = append(alts, map[string]any{
			"eventSource":       []string{m.eventSource},
			"eventName":         m.events,
			"requestParameters": map[string]any{m.param: m.values},
		})
	}
	b, err := json.Marshal(map[string]any{
		"source":      sources,
		"detail-type": []string{"AWS API Call via CloudTrail"},
		"detail":      map[string]any{"$or": alts},
	})
	if err != nil {
		return "", fmt.Errorf("%s pattern: %w", rule, err)
	}
	if len(b) > MaxEventPatternSize {
		return "", fmt.Errorf("%s pattern: %d characters, over EventBridge's %d (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html)", rule, len(b), MaxEventPatternSize)
	}
	return string(b), nil
}

// Watched are the secrets an alert rule matches.
//
// ARNs are every secret's ARN. Matched exactly (secretIDs: three forms of
// each), a secret costs about 400 characters of the secret-changes
// pattern, so three application secrets and the master already pass
// EventBridge's 2,048. When the exact pattern does not fit, the application
// secrets, those named AppPattern (kit.Names.AppSecretPattern,
// db-credentials-*-<suffix>), are matched with EventBridge's wildcard
// operator instead, in each form, and the other secrets (the master) still
// exactly; the pattern then has the same size for any number of users
// (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html,
// "Wildcard matching"). What that costs: a wildcard cannot say "six random
// characters", so the full-ARN form also matches the secrets of an
// environment whose name extends this one's after a hyphen (dev-eu for
// dev), and the name forms those of an environment that ends in this one's
// (x-dev for dev): such a vault's changes alert here too, never fewer of
// this vault's. And EventBridge counts rules with wildcards: 30 per event
// bus, not adjustable (same quota page), two per vault of this size.
type Watched struct {
	ARNs       []string
	AppPattern string
}

// matchers are the values the pattern matches a secret id against, and
// those it matches an ARN against: every secret exactly, or, with
// wildcard, the application secrets (AppPattern) by wildcard in each form
// and the others exactly.
func (w Watched) matchers(wildcard bool) (ids, arns []any, err error) {
	prefix := ""
	var exact []string
	for _, a := range w.ARNs {
		partial, name, err := secretNameOf(a)
		if err != nil {
			return nil, nil, err
		}
		prefix = strings.TrimSuffix(partial, name)
		if wildcard && kit.WildcardMatch(w.AppPattern, name) {
			continue
		}
		exact = append(exact, a)
		arns = append(arns, a)
	}
	forms, err := secretIDs(exact)
	if err != nil {
		return nil, nil, err
	}
	for _, id := range forms {
		ids = append(ids, id)
	}
	if wildcard {
		wild := func(p string) map[string]any { return map[string]any{"wildcard": p} }
		ids = append(ids, wild(w.AppPattern), wild(prefix+w.AppPattern), wild(prefix+w.AppPattern+"-*"))
		arns = append(arns, wild(prefix+w.AppPattern+"-*"))
	}
	return ids, arns, nil
}

// fit builds the pattern with every secret exact and returns it when it
// fits MaxEventPatternSize; otherwise, given an AppPattern, with the
// application secrets by wildcard. A pattern that fits neither way is an
// error.
func fit(w Watched, build func(ids, arns []any) map[string]any) (string, error) {
	size := 0
	for _, wildcard := range []bool{false, true} {
		if wildcard && w.AppPattern == "" {
			break
		}
		ids, arns, err := w.matchers(wildcard)
		if err != nil {
			return "", err
		}
		b, err := json.Marshal(build(ids, arns))
		if err != nil {
			return "", err
		}
		if len(b) <= MaxEventPatternSize {
			return string(b), nil
		}
		size = len(b)
	}
	return "", fmt.Errorf("it would be %d characters, over EventBridge's %d (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html)", size, MaxEventPatternSize)
}

// alerts creates the encrypted topic, the EventBridge rules on failed
// rotations, on changes of secrets, on changes of the rotator and on
// changes that would silence the alerts, the alarm on the rotator's errors
// and the optional e-mail subscription.
func alerts(ctx *pulumi.Context, args *Args, arn func(string, string) string, fn *lambda.Function, secrets pulumi.StringArrayOutput, parent pulumi.ResourceOption) (alerting, error) {
	names, l := args.names, args.names.Logical
	topicName := names.AlertsTopicName()
	ruleName := RotationFailedRuleName(names)
	changesName := SecretChangesRuleName(names)
	rotatorName := RotatorChangesRuleName(names)
	silencingName := AlertChangesRuleName(names)
	alarmName := names.Name("rotator-errors")
	topic, err := sns.NewTopic(ctx, l("alerts"), &sns.TopicArgs{
		Name:           pulumi.String(topicName),
		KmsMasterKeyId: args.AlertsKeyArn,
	}, parent)
	if err != nil {
		return alerting{}, fmt.Errorf("alerts topic: %w", err)
	}
	// Each rule of this vault, by its ARN, and nothing else of EventBridge.
	ruleArns := []string{arn("events", "rule/"+ruleName), arn("events", "rule/"+changesName), arn("events", "rule/"+rotatorName), arn("events", "rule/"+silencingName)}
	alarmArn := arn("cloudwatch", "alarm:"+alarmName)
	_, err = sns.NewTopicPolicy(ctx, l("alerts-policy"), &sns.TopicPolicyArgs{
		Arn: topic.Arn,
		Policy: topic.Arn.ApplyT(func(t string) (string, error) {
			return kit.NewPolicy(
				kit.Statement{
					Sid:       "EventBridgeRulesOfThisVault",
					Effect:    "Allow",
					Principal: map[string]any{"Service": "events.amazonaws.com"},
					Action:    "sns:Publish",
					Resource:  t,
					Condition: map[string]map[string]any{
						"StringEquals": {"aws:SourceAccount": args.AccountID},
						"ArnEquals":    {"aws:SourceArn": ruleArns},
					},
				},
				kit.Statement{
					Sid:       "CloudWatchAlarmOfThisVault",
					Effect:    "Allow",
					Principal: map[string]any{"Service": "cloudwatch.amazonaws.com"},
					Action:    "sns:Publish",
					Resource:  t,
					Condition: map[string]map[string]any{
						"StringEquals": {"aws:SourceAccount": args.AccountID},
						"ArnEquals":    {"aws:SourceArn": alarmArn},
					},
				},
			).JSON()
		}).(pulumi.StringOutput),
	}, parent)
	if err != nil {
		return alerting{}, fmt.Errorf("alerts topic policy: %w", err)
	}

	// The secrets' rules match the vault's secrets, known once created.
	watching := func(pattern func(Watched) (string, error)) pulumi.StringOutput {
		return secrets.ApplyT(func(arns []string) (string, error) {
			return pattern(Watched{ARNs: arns, AppPattern: names.AppSecretPattern()})
		}).(pulumi.StringOutput)
	}
	rule, target, err := alertRule(ctx, args, "rotation-failed", ruleName,
		"Secrets Manager reports a failed or abandoned rotation of a secret of vault "+args.Suffix, watching(FailurePatternFor), topic, parent)
	if err != nil {
		return alerting{}, err
	}
	changes, _, err := alertRule(ctx, args, "secret-changes", changesName,
		"Someone changed the policy, rotation, replication, tags or existence of a secret of vault "+args.Suffix, watching(ChangesPatternFor), topic, parent)
	if err != nil {
		return alerting{}, err
	}
	rotatorPattern, err := RotatorChangesPattern(args.Partition, args.Region, args.AccountID, names.RotatorName(), names.RotatorRoleName(args.Region))
	if err != nil {
		return alerting{}, err
	}
	rotatorRule, _, err := alertRule(ctx, args, "rotator-changes", rotatorName,
		"Someone changed the code, configuration, invokers or role of the rotator of vault "+args.Suffix+", which reads every secret of the vault", pulumi.String(rotatorPattern), topic, parent)
	if err != nil {
		return alerting{}, err
	}
	trailNames := []string{names.TrailName(), arn("cloudtrail", "trail/"+names.TrailName())}
	if args.ExistingTrailName != "" {
		a := existingTrailArn(args)
		trailNames = []string{a[strings.LastIndex(a, "/")+1:], a}
	}
	silencingPattern := topic.Arn.ApplyT(func(t string) (string, error) {
		return AlertChangesPattern(Silencing{Rules: []string{ruleName, changesName, rotatorName, silencingName}, Alarm: alarmName, TopicArn: t, TrailNames: trailNames})
	}).(pulumi.StringOutput)
	silencingRule, _, err := alertRule(ctx, args, "alert-changes", silencingName,
		"Someone disabled, rewrote or deleted an alert rule, the alarm, the alerts topic or the trail of vault "+args.Suffix+": the alerts may be silenced", silencingPattern, topic, parent)
	if err != nil {
		return alerting{}, err
	}

	_, err = cloudwatch.NewMetricAlarm(ctx, l("rotator-errors"), &cloudwatch.MetricAlarmArgs{
		Name:               pulumi.String(alarmName),
		AlarmDescription:   pulumi.String("The rotator " + names.RotatorName() + " returned an error: a rotation step failed"),
		Namespace:          pulumi.String("AWS/Lambda"),
		MetricName:         pulumi.String("Errors"),
		Dimensions:         pulumi.StringMap{"FunctionName": fn.Name},
		Statistic:          pulumi.String("Sum"),
		Period:             pulumi.Int(300),
		EvaluationPeriods:  pulumi.Int(1),
		Threshold:          pulumi.Float64(0),
		ComparisonOperator: pulumi.String("GreaterThanThreshold"),
		// No invocation is not an error (the rotator runs once a month).
		TreatMissingData: pulumi.String("notBreaching"),
		AlarmActions:     pulumi.Array{topic.Arn},
		OkActions:        pulumi.Array{topic.Arn},
	}, parent)
	if err != nil {
		return alerting{}, fmt.Errorf("rotator errors alarm: %w", err)
	}

	if args.AlertEmail != "" {
		// The address must confirm the subscription; until then nothing is
		// delivered. Pulumi deletes a pending subscription on destroy.
		_, err = sns.NewTopicSubscription(ctx, l("alerts-email"), &sns.TopicSubscriptionArgs{
			Topic:    topic.Arn,
			Protocol: pulumi.String("email"),
			Endpoint: pulumi.String(args.AlertEmail),
		}, parent)
		if err != nil {
			return alerting{}, fmt.Errorf("alerts e-mail subscription: %w", err)
		}
	}
	return alerting{topic: topic, ruleName: rule.Name, changesRuleName: changes.Name, rotatorRuleName: rotatorRule.Name, silencingRuleName: silencingRule.Name, target: target}, nil
}

// alertRule creates the EventBridge rule called logical (physical name
// name) on the events pattern matches, and its target, the alerts topic.
func alertRule(ctx *pulumi.Context, args *Args, logical, name, description string, pattern pulumi.StringInput, topic *sns.Topic, parent pulumi.ResourceOption) (*cloudwatch.EventRule, *cloudwatch.EventTarget, error) {
	names := args.names
	rule, err := cloudwatch.NewEventRule(ctx, names.Logical(logical), &cloudwatch.EventRuleArgs{
		Name:         pulumi.String(name),
		Description:  pulumi.String(description),
		EventPattern: pattern,
	}, parent)
	if err != nil {
		return nil, nil, fmt.Errorf("%s rule: %w", logical, err)
	}
	target, err := cloudwatch.NewEventTarget(ctx, names.Logical(logical+"-alert"), &cloudwatch.EventTargetArgs{
		Rule:     rule.Name,
		TargetId: pulumi.String("vault-alerts"),
		Arn:      topic.Arn,
	}, parent)
	if err != nil {
		return nil, nil, fmt.Errorf("%s target: %w", logical, err)
	}
	return rule, target, nil
}
