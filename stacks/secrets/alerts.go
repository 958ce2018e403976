package secrets

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dbvault/dbvault/stacks/kit"
)

// alerting is what the alerts created: the topic, and the rule's target,
// which every rotation waits for so that its first, immediate run is
// already watched.
type alerting struct {
	topic    *sns.Topic
	ruleName pulumi.StringOutput
	target   pulumi.Resource
}

// RotationFailedRuleName is the EventBridge rule on failed rotations.
func RotationFailedRuleName(names kit.Names) string { return names.Name("rotation-failed") }

// FailureEvents are the Secrets Manager service events the rule matches: a
// rotation that failed, and one abandoned (its AWSPENDING removed because a
// version was put by hand), which leaves the old credentials in place.
// https://docs.aws.amazon.com/secretsmanager/latest/userguide/monitoring-cloudtrail.html
// ("RotationAbandoned", "RotationFailed" among the non-API events).
var FailureEvents = []string{"RotationFailed", "RotationAbandoned"}

// FailurePattern is the rule's event pattern: those events, for these
// secrets only, not for every secret of the account and region. The event's
// detail carries the secret as additionalEventData.SecretId (its ARN), which
// is unconfirmed from AWS's documentation offline; `go run mage.go verify`
// checks it against a real RotationSucceeded event of the same shape.
// https://docs.aws.amazon.com/secretsmanager/latest/userguide/monitoring-eventbridge.html
func FailurePattern(secretArns []string) (string, error) {
	b, err := json.Marshal(map[string]any{
		"source":      []string{"aws.secretsmanager"},
		"detail-type": []string{"AWS Service Event via CloudTrail"},
		"detail": map[string]any{
			"eventName":           FailureEvents,
			"additionalEventData": map[string]any{"SecretId": secretArns},
		},
	})
	return string(b), err
}

// alerts creates the encrypted topic, the EventBridge rule on failed
// rotations of secrets, the alarm on the rotator's errors and the optional
// e-mail subscription.
func alerts(ctx *pulumi.Context, args *Args, arn func(string, string) string, fn *lambda.Function, secrets pulumi.StringArrayOutput, parent pulumi.ResourceOption) (alerting, error) {
	names, l := args.names, args.names.Logical
	topicName := names.AlertsTopicName()
	ruleName := RotationFailedRuleName(names)
	alarmName := names.Name("rotator-errors")
	topic, err := sns.NewTopic(ctx, l("alerts"), &sns.TopicArgs{
		Name:           pulumi.String(topicName),
		KmsMasterKeyId: args.AlertsKeyArn,
	}, parent)
	if err != nil {
		return alerting{}, fmt.Errorf("alerts topic: %w", err)
	}
	ruleArn := arn("events", "rule/"+ruleName)
	alarmArn := arn("cloudwatch", "alarm:"+alarmName)
	_, err = sns.NewTopicPolicy(ctx, l("alerts-policy"), &sns.TopicPolicyArgs{
		Arn: topic.Arn,
		Policy: topic.Arn.ApplyT(func(t string) (string, error) {
			return kit.NewPolicy(
				kit.Statement{
					Sid:       "EventBridgeRuleOfThisVault",
					Effect:    "Allow",
					Principal: map[string]any{"Service": "events.amazonaws.com"},
					Action:    "sns:Publish",
					Resource:  t,
					Condition: map[string]map[string]any{
						"StringEquals": {"aws:SourceAccount": args.Account},
						"ArnEquals":    {"aws:SourceArn": ruleArn},
					},
				},
				kit.Statement{
					Sid:       "CloudWatchAlarmOfThisVault",
					Effect:    "Allow",
					Principal: map[string]any{"Service": "cloudwatch.amazonaws.com"},
					Action:    "sns:Publish",
					Resource:  t,
					Condition: map[string]map[string]any{
						"StringEquals": {"aws:SourceAccount": args.Account},
						"ArnEquals":    {"aws:SourceArn": alarmArn},
					},
				},
			).JSON()
		}).(pulumi.StringOutput),
	}, parent)
	if err != nil {
		return alerting{}, fmt.Errorf("alerts topic policy: %w", err)
	}

	rule, err := cloudwatch.NewEventRule(ctx, l("rotation-failed"), &cloudwatch.EventRuleArgs{
		Name:         pulumi.String(ruleName),
		Description:  pulumi.String("Secrets Manager reports a failed or abandoned rotation of a secret of vault " + args.Suffix),
		EventPattern: secrets.ApplyT(FailurePattern).(pulumi.StringOutput),
	}, parent)
	if err != nil {
		return alerting{}, fmt.Errorf("rotation-failed rule: %w", err)
	}
	target, err := cloudwatch.NewEventTarget(ctx, l("rotation-failed-alert"), &cloudwatch.EventTargetArgs{
		Rule:     rule.Name,
		TargetId: pulumi.String("vault-alerts"),
		Arn:      topic.Arn,
	}, parent)
	if err != nil {
		return alerting{}, fmt.Errorf("rotation-failed target: %w", err)
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
	return alerting{topic: topic, ruleName: rule.Name, target: target}, nil
}
