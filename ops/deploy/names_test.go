package deploy

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"
)

// fakeNames answers as EventBridge and CloudWatch do for the names in
// rules, alarms and composites; every call is recorded with its region.
type fakeNames struct {
	rules, alarms, composites []string
	refuse                    error
	calls                     []string // "region name"
}

func (f *fakeNames) region(opts []func(*eventbridge.Options)) string {
	var o eventbridge.Options
	for _, fn := range opts {
		fn(&o)
	}
	return o.Region
}

func (f *fakeNames) DescribeRule(_ context.Context, in *eventbridge.DescribeRuleInput, opts ...func(*eventbridge.Options)) (*eventbridge.DescribeRuleOutput, error) {
	f.calls = append(f.calls, f.region(opts)+" "+aws.ToString(in.Name))
	if f.refuse != nil {
		return nil, f.refuse
	}
	if in.EventBusName != nil || !slices.Contains(f.rules, aws.ToString(in.Name)) {
		return nil, &ebtypes.ResourceNotFoundException{Message: aws.String("Rule does not exist.")}
	}
	return &eventbridge.DescribeRuleOutput{Name: in.Name}, nil
}

// DescribeAlarms returns composite alarms only when asked for them, as
// CloudWatch does ("If you omit this parameter, only metric alarms are
// returned").
func (f *fakeNames) DescribeAlarms(_ context.Context, in *cloudwatch.DescribeAlarmsInput, opts ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	var o cloudwatch.Options
	for _, fn := range opts {
		fn(&o)
	}
	out := &cloudwatch.DescribeAlarmsOutput{}
	for _, name := range in.AlarmNames {
		f.calls = append(f.calls, o.Region+" "+name)
		if slices.Contains(f.alarms, name) && (len(in.AlarmTypes) == 0 || slices.Contains(in.AlarmTypes, cwtypes.AlarmTypeMetricAlarm)) {
			out.MetricAlarms = append(out.MetricAlarms, cwtypes.MetricAlarm{AlarmName: aws.String(name)})
		}
		if slices.Contains(f.composites, name) && slices.Contains(in.AlarmTypes, cwtypes.AlarmTypeCompositeAlarm) {
			out.CompositeAlarms = append(out.CompositeAlarms, cwtypes.CompositeAlarm{AlarmName: aws.String(name)})
		}
	}
	return out, nil
}

func secretsStep(typ, logical, op, named string) Step {
	return Step{URN: "urn:pulumi:dev::vault-secrets::" + typ + "::" + logical, Type: typ, Op: op, Named: named}
}

const (
	ruleType  = "aws:cloudwatch/eventRule:EventRule"
	alarmType = "aws:cloudwatch/metricAlarm:MetricAlarm"
)

// A plan that creates a rule or an alarm under a name the account uses
// already is refused, by preview too, before the question and before any
// up; the refusal names each one. Updates, other types and free names are not refused.
func TestCreatingOverANamesakeIsRefused(t *testing.T) {
	// An environment deployed in eu-west-1: its stacks' region is where the
	// names are looked up.
	f := newFake()
	o := newOrch(f, &bytes.Buffer{})
	o.Env.Region = "eu-west-1"
	if _, err := o.DeployAll(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	o.Env.Region = "us-east-1"
	f.calls = nil
	var asked []string
	o.Confirm = func(_ context.Context, prompt string) (bool, error) {
		asked = append(asked, prompt)
		return true, nil
	}
	names := &fakeNames{rules: []string{"secret-changes-dev", "rotation-failed-dev"}, alarms: []string{"rotator-errors-dev"}, composites: []string{"vault-health-dev"}}
	o.Names = &NameLookup{Rules: names, Alarms: names}
	f.steps["secrets"] = []Step{
		secretsStep(ruleType, "secret-changes", "create", "secret-changes-dev"),
		secretsStep(ruleType, "rotation-failed", "update", "rotation-failed-dev"), // the layer's own rule
		secretsStep(ruleType, "rotator-changes", "create", "rotator-changes-dev"), // free
		secretsStep(alarmType, "rotator-errors", "create", "rotator-errors-dev"),
		secretsStep(alarmType, "health", "create", "vault-health-dev"), // a composite's name
		secretsStep("aws:cloudwatch/logGroup:LogGroup", "rotator-logs", "create", ""),
	}
	for name, run := range plans(o, "secrets") {
		names.calls = nil
		err := run()
		var taken *NameTakenError
		if !errors.As(err, &taken) || taken.Layer != "secrets" {
			t.Fatalf("%s: err = %v, want the namesakes refused", name, err)
		}
		var got []string
		for _, s := range taken.Steps {
			got = append(got, s.Named)
		}
		if want := []string{"rotator-errors-dev", "secret-changes-dev", "vault-health-dev"}; !slices.Equal(got, want) {
			t.Errorf("%s: refused %v, want %v", name, got, want)
		}
		for _, want := range []string{`"secret-changes-dev" exists already`, "ENV", "destroying the layer would delete it"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error lacks %q: %v", name, want, err)
			}
		}
		if want := []string{"eu-west-1 secret-changes-dev", "eu-west-1 rotator-changes-dev", "eu-west-1 rotator-errors-dev", "eu-west-1 vault-health-dev"}; !slices.Equal(names.calls, want) {
			t.Errorf("%s: looked up %v, want %v (creates only, in the stacks' region)", name, names.calls, want)
		}
		if ups := f.ops("up"); len(ups) != 0 {
			t.Fatalf("%s: up ran for %v", name, ups)
		}
		if len(asked) != 0 {
			t.Fatalf("%s: asked %q before refusing", name, asked)
		}
	}

	// Once the names are free, the same plan goes ahead.
	names.rules, names.alarms, names.composites = nil, nil, nil
	if _, err := o.Up(context.Background(), "secrets"); err != nil {
		t.Fatal(err)
	}
	if got := f.ops("up"); !slices.Equal(got, []string{"secrets"}) {
		t.Fatalf("up calls %v", got)
	}
}

// A lookup AWS refuses stops the deploy, naming the permissions to grant;
// nothing is deployed on a guess.
func TestNameLookupRefusedStopsTheDeploy(t *testing.T) {
	f, o, _, _ := deployed(t)
	names := &fakeNames{refuse: &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized to perform: events:DescribeRule"}}
	o.Names = &NameLookup{Rules: names, Alarms: names}
	f.steps["secrets"] = []Step{secretsStep(ruleType, "secret-changes", "create", "secret-changes-dev")}
	_, err := o.Up(context.Background(), "secrets")
	if err == nil || !strings.Contains(err.Error(), "events:DescribeRule, cloudwatch:DescribeAlarms") || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("err = %v, want the refusal with the permissions to grant", err)
	}
	if ups := f.ops("up"); len(ups) != 0 {
		t.Fatalf("up ran for %v", ups)
	}
}
