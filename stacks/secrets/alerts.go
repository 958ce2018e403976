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

// alerts creates the encrypted topic, the EventBridge rule on failed
// rotations, the alarm on the rotator's errors and the optional e-mail
// subscription.
func alerts(ctx *pulumi.Context, args *Args, arn func(string, string) string, fn *lambda.Function, parent pulumi.ResourceOption) (*sns.Topic, error) {
	topicName := kit.Name("vault-alerts", args.Suffix)
	ruleName := kit.Name("rotation-failed", args.Suffix)
	alarmName := kit.Name("rotator-errors", args.Suffix)
	topic, err := sns.NewTopic(ctx, "alerts", &sns.TopicArgs{
		Name:           pulumi.String(topicName),
		KmsMasterKeyId: args.AlertsKeyArn,
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("alerts topic: %w", err)
	}
	ruleArn := arn("events", "rule/"+ruleName)
	alarmArn := arn("cloudwatch", "alarm:"+alarmName)
	_, err = sns.NewTopicPolicy(ctx, "alerts-policy", &sns.TopicPolicyArgs{
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
		return nil, fmt.Errorf("alerts topic policy: %w", err)
	}

	pattern, err := json.Marshal(map[string]any{
		"source":      []string{"aws.secretsmanager"},
		"detail-type": []string{"AWS Service Event via CloudTrail"},
		"detail":      map[string]any{"eventName": []string{"RotationFailed"}},
	})
	if err != nil {
		return nil, err
	}
	rule, err := cloudwatch.NewEventRule(ctx, "rotation-failed", &cloudwatch.EventRuleArgs{
		Name:         pulumi.String(ruleName),
		Description:  pulumi.String("Secrets Manager reports a failed rotation"),
		EventPattern: pulumi.String(string(pattern)),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("rotation-failed rule: %w", err)
	}
	_, err = cloudwatch.NewEventTarget(ctx, "rotation-failed-alert", &cloudwatch.EventTargetArgs{
		Rule:     rule.Name,
		TargetId: pulumi.String("vault-alerts"),
		Arn:      topic.Arn,
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("rotation-failed target: %w", err)
	}

	_, err = cloudwatch.NewMetricAlarm(ctx, "rotator-errors", &cloudwatch.MetricAlarmArgs{
		Name:               pulumi.String(alarmName),
		AlarmDescription:   pulumi.String("The rotator " + RotatorName(args.Suffix) + " returned an error: a rotation step failed"),
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
		return nil, fmt.Errorf("rotator errors alarm: %w", err)
	}

	if args.AlertEmail != "" {
		// The address must confirm the subscription; until then nothing is
		// delivered. Pulumi deletes a pending subscription on destroy.
		_, err = sns.NewTopicSubscription(ctx, "alerts-email", &sns.TopicSubscriptionArgs{
			Topic:    topic.Arn,
			Protocol: pulumi.String("email"),
			Endpoint: pulumi.String(args.AlertEmail),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("alerts e-mail subscription: %w", err)
		}
	}
	return topic, nil
}
