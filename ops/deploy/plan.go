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
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/sig"

	"github.com/dbvault/dbvault/stacks/kit"
)

// Step is one resource operation of a preview.
type Step struct {
	// URN is the resource's URN; its last part is the logical name.
	URN string
	// Type is the resource type token (aws:rds/cluster:Cluster).
	Type string
	// Op is Pulumi's operation: same, create, update, replace,
	// create-replacement, delete-replaced, delete, read, ...
	Op string
	// Named is the name that a create, or a replacement under another
	// name, gives a resource of NameInputs' types, as AWS knows it ("" for
	// other steps and types).
	Named string
	// Bus is the event bus of such a step's EventBridge rule ("": the
	// account's default bus).
	Bus string
	// NameUnknown marks such a step whose name (or bus) the plan does not
	// show (unknown until the deploy, or secret): it cannot be looked up.
	NameUnknown bool
}

// ruleBusInput is the input that puts an EventBridge rule on a bus other
// than the default one; a rule's name is unique only on its bus.
const ruleBusInput = "eventBusName"

// stepOf is the step of a preview's event. A replacement takes a new name
// only when its name input changes (the name forces the replacement, and
// with an explicit name the provider deletes the old resource first).
func stepOf(m apitype.StepEventMetadata) Step {
	s := Step{URN: m.URN, Type: m.Type, Op: string(m.Op)}
	key, ok := NameInputs[m.Type]
	if !ok || m.New == nil || (s.Op != "create" && s.Op != "create-replacement") {
		return s
	}
	// The engine shows an unknown input as Pulumi's unknown placeholder
	// and a secret as "[secret]" or as a blinded object, never the value.
	shown := func(v any) (string, bool) {
		str, ok := v.(string)
		return str, ok && str != sig.UnknownStringValue && str != "[secret]"
	}
	name, known := shown(m.New.Inputs[key])
	bus := ""
	if v, set := m.New.Inputs[ruleBusInput]; set && m.Type == ruleType {
		var busKnown bool
		bus, busKnown = shown(v)
		known = known && busKnown
	}
	bus = normalBus(bus)
	if !known || name == "" {
		s.NameUnknown = true
		return s
	}
	if s.Op == "create-replacement" && m.Old != nil {
		oldBus, _ := m.Old.Inputs[ruleBusInput].(string)
		if old, _ := m.Old.Inputs[key].(string); old == name && normalBus(oldBus) == bus {
			return s
		}
	}
	s.Named, s.Bus = name, bus
	return s
}

// normalBus is a rule's bus as Step.Bus holds it: "" for the default one.
func normalBus(bus string) string {
	if bus == "default" {
		return ""
	}
	return bus
}

// Name is the resource's logical name (the URN's last part).
func (s Step) Name() string {
	if i := strings.LastIndex(s.URN, "::"); i >= 0 {
		return s.URN[i+2:]
	}
	return s.URN
}

// StatefulTypes hold data that a replacement or deletion loses: the
// cluster and its instances, the keys, the secrets, the trail's bucket.
var StatefulTypes = []string{
	"aws:rds/cluster:Cluster",
	"aws:rds/clusterInstance:ClusterInstance",
	"aws:kms/key:Key",
	"aws:secretsmanager/secret:Secret",
	"aws:s3/bucketV2:BucketV2",
}

// destructive reports whether op loses the resource it acts on.
func destructive(op string) bool {
	switch op {
	case "replace", "create-replacement", "delete-replaced", "delete", "discard", "remove-pending-replace":
		return true
	}
	return false
}

// refused lists the destructive steps on stateful resources that allow
// (URNs or logical names) does not name.
func refused(steps []Step, allow []string) []Step {
	var out []Step
	seen := map[string]bool{}
	for _, s := range steps {
		if !destructive(s.Op) || !slices.Contains(StatefulTypes, s.Type) || seen[s.URN] {
			continue
		}
		if slices.Contains(allow, s.URN) || slices.Contains(allow, s.Name()) {
			continue
		}
		seen[s.URN] = true
		out = append(out, s)
	}
	return out
}

// ReplaceRefusedError is a plan that would replace or delete a stateful
// resource that ALLOW_REPLACE does not name.
type ReplaceRefusedError struct {
	// Layer is the layer whose plan it is.
	Layer string
	// Steps are the refused operations.
	Steps []Step
}

func (e *ReplaceRefusedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "refused: the plan of layer %s would destroy data (nothing was changed):", e.Layer)
	names := make([]string, 0, len(e.Steps))
	for _, s := range e.Steps {
		fmt.Fprintf(&b, "\n  - %s %s (%s)", s.Op, s.Name(), s.URN)
		names = append(names, s.Name())
	}
	fmt.Fprintf(&b, "\nif that is intended, name each one: ALLOW_REPLACE=%s (URNs or logical names, comma-separated; also in CI)", strings.Join(names, ","))
	return b.String()
}

// ParseAllowReplace splits ALLOW_REPLACE (comma-separated URNs or names).
func ParseAllowReplace(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// printPlan writes a layer's plan (its counts are already printed): every
// step that is not "same" or "read", and the plan as Markdown to PlanOut.
func (o *Orchestrator) printPlan(res Result) {
	w := o.out()
	for _, s := range res.Steps {
		if s.Op == "same" || s.Op == "read" {
			continue
		}
		fmt.Fprintf(w, "      %-18s %s (%s)\n", s.Op, s.Name(), s.Type)
	}
	if o.PlanOut != nil {
		fmt.Fprintf(o.PlanOut, "### Plan of %s (stack `%s`)\n\n%s\n\n", res.Layer, o.StackName(o.Layers[o.mustIndex(res.Layer)]), changeText(res.Changes))
		if steps := slices.DeleteFunc(slices.Clone(res.Steps), func(s Step) bool { return s.Op == "same" || s.Op == "read" }); len(steps) > 0 {
			fmt.Fprintln(o.PlanOut, "| operation | resource | type |\n| --- | --- | --- |")
			for _, s := range steps {
				fmt.Fprintf(o.PlanOut, "| %s | `%s` | `%s` |\n", s.Op, s.Name(), s.Type)
			}
			fmt.Fprintln(o.PlanOut)
		}
	}
}

func (o *Orchestrator) mustIndex(name string) int {
	i, _ := o.index(name)
	return max(i, 0)
}

// plan previews layer i, prints its plan and refuses destructive steps on
// stateful resources that AllowReplace does not name (preview has refused
// creates that would take over a resource of the account).
func (o *Orchestrator) plan(ctx context.Context, i int) (Result, error) {
	res, err := o.preview(ctx, i)
	if err != nil {
		return res, err
	}
	if bad := refused(res.Steps, o.AllowReplace); len(bad) > 0 {
		return res, &ReplaceRefusedError{Layer: res.Layer, Steps: bad}
	}
	return res, nil
}

// approve asks once whether to apply the plans shown (nothing to ask when
// none changes anything and every plan could be computed).
func (o *Orchestrator) approve(ctx context.Context, plans []Result, pending []string) error {
	changed := len(pending) > 0
	for _, p := range plans {
		changed = changed || p.Changed() > 0
	}
	if !changed {
		return nil
	}
	if o.Confirm == nil {
		return errors.New("deploying needs confirmation: run it on a terminal, or set CONFIRM=yes (or CI=true) after reading the plan above")
	}
	prompt := fmt.Sprintf("Apply the plan above to environment %q (region %s)?", o.Env.Name, o.Env.Region)
	if len(pending) > 0 {
		prompt += fmt.Sprintf(" The plans of %s are computed once the layers before them are up; each is shown, and refused if it would destroy data, before it runs.", strings.Join(pending, ", "))
	}
	ok, err := o.Confirm(ctx, prompt)
	if err != nil {
		return fmt.Errorf("confirmation: %w", err)
	}
	if !ok {
		return errors.New("deploy cancelled: nothing was changed")
	}
	return nil
}

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
// resourceMetricAlarmCreate; reported upstream as issues #25598 and #44146,
// with a look for alarms only proposed, in the open pull request #44169).
// So a layer that creates a rule or an alarm under a name the account
// already uses takes the other one over: its pattern, targets or threshold
// become the vault's, and destroying the layer deletes it. Before a layer
// is deployed, every such create or rename in its plan is looked up by
// name, and a name in use stops it before anything of the layer changes.
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
	ruleType:  "name",
	alarmType: "name",
}

// The Pulumi types of NameInputs.
const (
	ruleType  = "aws:cloudwatch/eventRule:EventRule"
	alarmType = "aws:cloudwatch/metricAlarm:MetricAlarm"
)

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
// account already uses in the region, or under a name it does not show.
type NameTakenError struct {
	// Layer is the layer whose plan it is.
	Layer string
	// Steps are the creates whose names are taken.
	Steps []Step
	// Unknown are the creates whose names the plan does not show.
	Unknown []Step
}

func (e *NameTakenError) Error() string {
	var b strings.Builder
	what := "would take over resources of this account"
	if len(e.Steps) == 0 {
		what = "creates resources whose names it does not show"
	}
	fmt.Fprintf(&b, "refused: the plan of layer %s %s (nothing in layer %s was changed):", e.Layer, what, e.Layer)
	for _, s := range e.Steps {
		fmt.Fprintf(&b, "\n  - %s %q exists already (%s)", s.Type, s.Named, s.Name())
	}
	for _, s := range e.Unknown {
		fmt.Fprintf(&b, "\n  - %s %s: its name is not known before the deploy, so whether it is in use cannot be checked; give it a name known at preview", s.Type, s.Name())
	}
	if len(e.Steps) > 0 {
		b.WriteString("\nAWS creates these by overwriting a namesake, and destroying the layer would delete it. " +
			"If it is left over (from an earlier environment of this name, or an interrupted up), delete it; otherwise deploy under another environment name (ENV), or give the vault its own prefix")
	}
	return b.String()
}

// inUse reports whether the resource that step s names exists in region.
func (n NameLookup) inUse(ctx context.Context, region string, s Step) (bool, error) {
	name := s.Named
	switch s.Type {
	case ruleType:
		in := &eventbridge.DescribeRuleInput{Name: aws.String(name)}
		if s.Bus != "" {
			in.EventBusName = aws.String(s.Bus)
		}
		_, err := n.Rules.DescribeRule(ctx, in, func(o *eventbridge.Options) { o.Region = region })
		var missing *ebtypes.ResourceNotFoundException
		switch {
		case errors.As(err, &missing):
			return false, nil
		case err != nil:
			return false, fmt.Errorf("events:DescribeRule %s: %w", name, err)
		}
		return true, nil
	case alarmType:
		// Without AlarmTypes only metric alarms are returned (API_DescribeAlarms).
		// What PutMetricAlarm does with a composite or log alarm's name is
		// not documented: such a name counts as taken too.
		out, err := n.Alarms.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{
			AlarmNames: []string{name},
			AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm, cwtypes.AlarmTypeCompositeAlarm, cwtypes.AlarmTypeLogAlarm},
		}, func(o *cloudwatch.Options) { o.Region = region })
		if err != nil {
			return false, fmt.Errorf("cloudwatch:DescribeAlarms %s: %w", name, err)
		}
		return len(out.MetricAlarms)+len(out.CompositeAlarms)+len(out.LogAlarms) > 0, nil
	}
	return false, nil
}

// namesInUse refuses, with a *NameTakenError, a plan of layer l that
// creates a resource of NameInputs' types under a name in use in the
// layer's region, or under a name it does not show (nothing to look up
// without Names: tests, the rehearsal without its stand-in).
func (o *Orchestrator) namesInUse(ctx context.Context, l kit.Layer, steps []Step) error {
	if o.Names == nil {
		return nil
	}
	region := o.Env.Region
	if r := o.have[l.Name]["aws:region"]; r != "" {
		region = r
	}
	refusal := &NameTakenError{Layer: l.Name}
	for _, s := range steps {
		if s.NameUnknown {
			refusal.Unknown = append(refusal.Unknown, s)
		}
		if s.Named == "" {
			continue
		}
		used, err := o.Names.inUse(ctx, region, s)
		if err != nil {
			return fmt.Errorf("looking up whether %s is in use (grant %s, which the deploy reads): %w", s.Named, strings.Join(NamePermissions, ", "), err)
		}
		if used {
			refusal.Steps = append(refusal.Steps, s)
		}
	}
	if len(refusal.Steps)+len(refusal.Unknown) == 0 {
		return nil
	}
	slices.SortStableFunc(refusal.Steps, func(a, b Step) int { return strings.Compare(a.Named, b.Named) })
	return refusal
}
