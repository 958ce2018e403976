package deploy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
)

// Some of AWS's create calls replace a namesake instead of failing:
// EventBridge's PutRule "Creates or updates the specified rule ... If you
// are updating an existing rule, the rule is replaced with what you specify
// in this PutRule command"
// (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html),
// and CloudWatch's PutMetricAlarm "Creates or updates an alarm ... the
// update completely overwrites the previous configuration of the alarm"
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html).
// The Terraform AWS provider behind pulumi-aws calls them without looking
// first (hashicorp/terraform-provider-aws, internal/service/events/rule.go,
// resourceRuleCreate; internal/service/cloudwatch/metric_alarm.go,
// resourceMetricAlarmCreate; reported upstream as issues #25598 and #44146).
// So a layer that creates a rule or an alarm under a name the account
// already uses takes the other one over: its pattern, targets or threshold
// become the vault's, and destroying the layer deletes it. Before a layer
// is deployed, every such create in its plan is looked up by name, and a
// name in use stops the deploy with nothing changed.
//
// The other named resources fail on a namesake, in AWS (CreateLogGroup,
// CreateRole, CreateTrail, CreateAlias, CreateDBClusterParameterGroup,
// CreateFunction: each documents an already-exists error) or in the
// provider: SNS's CreateTopic is idempotent, but pulumi-aws v6 refuses an
// existing topic (pulumi/pulumi-aws, patches/0017-non-idempotent-sns-topic-creation.patch),
// and in us-east-1, where S3's CreateBucket answers 200 for a bucket the
// account owns, the provider looks first (internal/service/s3/bucket.go,
// resourceBucketCreate). Unconfirmed offline: that the pinned pulumi-aws
// (v6.83.4) still carries the topic's patch and the bucket's check.

// NameInputs are the resource types whose create replaces a namesake, with
// the input that holds the name.
var NameInputs = map[string]string{
	"aws:cloudwatch/eventRule:EventRule":     "name",
	"aws:cloudwatch/metricAlarm:MetricAlarm": "name",
}

// NamePermissions are the read calls of the lookup.
var NamePermissions = []string{"events:DescribeRule", "cloudwatch:DescribeAlarms"}

// EventRulesAPI is the part of the EventBridge client the lookup calls
// (*eventbridge.Client has it); tests answer with a fake.
type EventRulesAPI interface {
	DescribeRule(ctx context.Context, in *eventbridge.DescribeRuleInput, optFns ...func(*eventbridge.Options)) (*eventbridge.DescribeRuleOutput, error)
}

// AlarmsAPI is the part of the CloudWatch client the lookup calls
// (*cloudwatch.Client has it); tests answer with a fake.
type AlarmsAPI interface {
	DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
}

// NameLookup finds whether a name a plan creates is in use already.
type NameLookup struct {
	Rules  EventRulesAPI
	Alarms AlarmsAPI
}

// NameTakenError is a plan that would create a resource under a name the
// account already uses in the region.
type NameTakenError struct {
	// Layer is the layer whose plan it is.
	Layer string
	// Steps are the creates whose names are taken.
	Steps []Step
}

func (e *NameTakenError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "refused: the plan of layer %s would take over resources of this account (nothing was changed):", e.Layer)
	for _, s := range e.Steps {
		fmt.Fprintf(&b, "\n  - %s %q exists already (%s)", s.Type, s.Named, s.Name())
	}
	b.WriteString("\nAWS creates these by overwriting a namesake, and destroying the layer would delete it. " +
		"If it is left over from an earlier environment of this name, delete it; otherwise deploy under another environment name (ENV), or give the vault its own prefix")
	return b.String()
}

// inUse reports whether a resource of type typ named name exists in region.
func (n NameLookup) inUse(ctx context.Context, region, typ, name string) (bool, error) {
	switch typ {
	case "aws:cloudwatch/eventRule:EventRule":
		// The vault's rules are on the default event bus.
		_, err := n.Rules.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(name)}, func(o *eventbridge.Options) { o.Region = region })
		var missing *ebtypes.ResourceNotFoundException
		switch {
		case errors.As(err, &missing):
			return false, nil
		case err != nil:
			return false, fmt.Errorf("events:DescribeRule %s: %w", name, err)
		}
		return true, nil
	case "aws:cloudwatch/metricAlarm:MetricAlarm":
		// Without AlarmTypes only metric alarms are returned (API_DescribeAlarms).
		// What PutMetricAlarm does with a composite alarm's name is not
		// documented: such a name counts as taken too.
		out, err := n.Alarms.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{
			AlarmNames: []string{name},
			AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm, cwtypes.AlarmTypeCompositeAlarm},
		}, func(o *cloudwatch.Options) { o.Region = region })
		if err != nil {
			return false, fmt.Errorf("cloudwatch:DescribeAlarms %s: %w", name, err)
		}
		return len(out.MetricAlarms)+len(out.CompositeAlarms) > 0, nil
	}
	return false, nil
}

// takenNames returns the creates in steps whose names are in use already
// (none without a lookup: tests, the rehearsal by default).
func (o *Orchestrator) takenNames(ctx context.Context, steps []Step) ([]Step, error) {
	if o.Names == nil {
		return nil, nil
	}
	var taken []Step
	for _, s := range steps {
		if s.Op != "create" || s.Named == "" {
			continue
		}
		if _, ok := NameInputs[s.Type]; !ok {
			continue
		}
		used, err := o.Names.inUse(ctx, o.Env.Region, s.Type, s.Named)
		if err != nil {
			return nil, fmt.Errorf("looking up whether %s is in use (grant %s, which the deploy reads): %w", s.Named, strings.Join(NamePermissions, ", "), err)
		}
		if used {
			taken = append(taken, s)
		}
	}
	slices.SortStableFunc(taken, func(a, b Step) int { return strings.Compare(a.Named, b.Named) })
	return taken, nil
}
