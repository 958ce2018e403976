package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/dbvault/dbvault/stacks/secrets"
)

const lambdaSource = "lambda.amazonaws.com"

// rotatorCall is the newest Lambda call on the rotator found in
// CloudTrail's event history.
type rotatorCall struct {
	id, name, at string
	record       map[string]any
}

// alertsRotator: the rotator-changes rule is enabled, targets the alerts
// topic, and its pattern matches the newest real Lambda call on the
// rotator that it is meant to catch, as CloudTrail recorded it: the
// deploy's own CreateFunction (which gives the function the rotator's
// role) or a later UpdateFunctionCode or UpdateFunctionConfiguration. That
// confirms what the pattern assumes and AWS's documentation does not show
// offline: the eventName Lambda logs each call under, and the
// requestParameters that name the function (functionName) and the role
// (role). IAM's calls on the role reach EventBridge only in us-east-1 and
// are not tested here.
//
// LookupEvents by EventSource lambda.amazonaws.com (one attribute per
// call; CloudTrail's event history keeps 90 days,
// https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html),
// at most ShapeMaxPages pages of ShapePageSize; TestEventPattern as in
// alerts.
func (v *Verifier) alertsRotator(ctx context.Context) Result {
	const check = "alerts-rotator"
	r := v.need(check)
	rule := r.str("secrets", "rotatorChangesRuleName")
	fn := r.str("secrets", "rotatorFunctionName")
	role := r.str("secrets", "rotatorRoleArn")
	topic := r.str("secrets", "alertsTopicArn")
	if r.bad {
		return r.out
	}
	d, err := v.Clients.EventBridge.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(rule)})
	if err != nil {
		return callFailed(check, "events:DescribeRule", rule, err, v.ifMissing("the rule", "secrets"))
	}
	redeploy := fmt.Sprintf("deploy the secrets layer (%s)", v.up("secrets"))
	var p problems
	if d.State != ebtypes.RuleStateEnabled && d.State != ebtypes.RuleStateEnabledWithAllCloudtrailManagementEvents {
		p.add(fmt.Sprintf("rule %s is %s, not ENABLED", rule, orNone(string(d.State))), redeploy+", which enables it")
	}
	targets, err := v.ruleTargets(ctx, rule)
	if err != nil {
		return callFailed(check, "events:ListTargetsByRule", rule, err, "")
	}
	if !slices.Contains(targets, topic) {
		p.add(fmt.Sprintf("rule %s does not target the alerts topic %s (targets: %s)", rule, topic, orNone(strings.Join(targets, ", "))), redeploy+", which adds the target")
	}
	call, err := v.lookupRotatorCall(ctx, fn, role)
	if err != nil {
		return callFailed(check, "cloudtrail:LookupEvents", "EventSource="+lambdaSource, err, "")
	}
	tested := ""
	switch pat := aws.ToString(d.EventPattern); {
	case pat == "":
		p.add(fmt.Sprintf("rule %s has no event pattern", rule), redeploy)
	case call == nil && v.Fresh:
		tested = fmt.Sprintf("pending: no Lambda call on %s in CloudTrail's event history yet (a fresh environment; it lags by minutes): run verify again later", fn)
	case call == nil:
		tested = fmt.Sprintf("no Lambda call on %s in the last 90 days (%d page(s) at most) to test the pattern with: unconfirmed until a deploy changes the rotator", fn, ShapeMaxPages)
	default:
		event, err := lambdaEnvelope(call.record)
		if err != nil {
			return fail(check, fmt.Sprintf("%s event %s: %v", call.name, call.id, err), "run verify again")
		}
		m, err := v.Clients.EventBridge.TestEventPattern(ctx, &eventbridge.TestEventPatternInput{EventPattern: aws.String(pat), Event: aws.String(event)})
		if err != nil {
			return callFailed(check, "events:TestEventPattern", "of rule "+rule, err, "")
		}
		if !m.Result {
			b, _ := json.Marshal(map[string]any{"eventName": call.name, "requestParameters": dig(call.record, "requestParameters")})
			p.add(fmt.Sprintf("rule %s's pattern does not match the real %s event %s of %s, which records %s", rule, call.name, call.id, call.at, b),
				"align RotatorChangesPattern in stacks/secrets/rotatorchanges.go with that record (the eventName's prefix, the requestParameters naming the function or the role), then "+redeploy)
		}
		tested = fmt.Sprintf("its pattern matches the real %s event %s of %s (CloudTrail LookupEvents, TestEventPattern) — confirms: the rule sees that call on the rotator", call.name, call.id, call.at)
	}
	return p.result(check, fmt.Sprintf("rule %s is %s, targets %s; %s", rule, d.State, topic, tested))
}

// lookupRotatorCall is the newest Lambda call in CloudTrail's event history
// that the rotator-changes rule should match: a change of the function fn
// (its name in requestParameters.functionName, in any form), or a function
// given the role.
func (v *Verifier) lookupRotatorCall(ctx context.Context, fn, role string) (*rotatorCall, error) {
	start := v.now().UTC().Add(-90 * 24 * time.Hour).Truncate(time.Minute)
	var next *string
	for pages := 0; pages < ShapeMaxPages; pages++ {
		page, err := v.Clients.CloudTrail.LookupEvents(ctx, &cloudtrail.LookupEventsInput{
			LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventSource, AttributeValue: aws.String(lambdaSource)}},
			StartTime:        aws.Time(start),
			MaxResults:       aws.Int32(ShapePageSize),
			NextToken:        next,
		})
		if err != nil {
			return nil, err
		}
		for _, e := range page.Events {
			var rec map[string]any
			if json.Unmarshal([]byte(aws.ToString(e.CloudTrailEvent)), &rec) != nil {
				continue
			}
			name, _ := rec["eventName"].(string)
			if rotatorChange(name, rec, fn, role) {
				return &rotatorCall{id: aws.ToString(e.EventId), name: name, at: aws.ToTime(e.EventTime).UTC().Format("2006-01-02T15:04:05Z"), record: rec}, nil
			}
		}
		if next = page.NextToken; next == nil || *next == "" {
			break
		}
	}
	return nil, nil
}

// rotatorChange: the record is a call the rule is meant to catch, judged
// by verify's own reading (the API's name at the start of eventName, the
// function's name at the end of requestParameters.functionName, the role
// anywhere in requestParameters), not by the pattern under test.
func rotatorChange(eventName string, rec map[string]any, fn, role string) bool {
	hasPrefix := func(names []string) bool {
		return slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(eventName, n) })
	}
	// name, name:qualifier, arn:...:function:name[:qualifier] or
	// account:function:name[:qualifier]
	base, _ := dig(rec, "requestParameters.functionName").(string)
	if i := strings.LastIndex(base, ":function:"); i >= 0 {
		base = base[i+len(":function:"):]
	}
	base, _, _ = strings.Cut(base, ":")
	switch {
	case hasPrefix(secrets.FunctionChangeEvents) && base == fn:
		return true
	case hasPrefix(secrets.PassRoleEvents):
		return len(pathsOf(dig(rec, "requestParameters"), role)) > 0
	}
	return false
}

// lambdaEnvelope wraps a Lambda call's CloudTrail record as EventBridge
// delivers it: source aws.lambda, detail-type "AWS API Call via
// CloudTrail", the record as detail
// (https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-lambda.html).
func lambdaEnvelope(record map[string]any) (string, error) {
	account, _ := record["recipientAccountId"].(string)
	region, _ := record["awsRegion"].(string)
	at, _ := record["eventTime"].(string)
	if account == "" || region == "" || at == "" {
		return "", fmt.Errorf("the record lacks recipientAccountId, awsRegion or eventTime")
	}
	b, err := json.Marshal(map[string]any{
		"version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
		"detail-type": "AWS API Call via CloudTrail", "source": "aws.lambda",
		"account": account, "time": at, "region": region, "resources": []string{},
		"detail": record,
	})
	return string(b), err
}

// ruleTargets are the ARNs of rule's targets (ListTargetsByRule, paged by
// NextToken).
func (v *Verifier) ruleTargets(ctx context.Context, rule string) ([]string, error) {
	var targets []string
	var next *string
	for {
		t, err := v.Clients.EventBridge.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String(rule), NextToken: next})
		if err != nil {
			return nil, err
		}
		for _, tg := range t.Targets {
			targets = append(targets, aws.ToString(tg.Arn))
		}
		if next = t.NextToken; next == nil {
			return targets, nil
		}
	}
}
