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
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/dbvault/dbvault/stacks/secrets"
)

const lambdaSource = "lambda.amazonaws.com"

// HistoryDays is how long CloudTrail's event history keeps management
// events, and so how far back the rule checks look
// (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html).
const HistoryDays = 90

// apiCall is the newest call of a kind found in CloudTrail's event
// history.
type apiCall struct {
	id, name, at string
	time         time.Time
	record       map[string]any
}

// alertsRotator: the rotator-changes rule is enabled, targets the alerts
// topic, and each half of its pattern matches a real Lambda call it is
// meant to catch, as CloudTrail recorded it: the role filter the deploy's
// own CreateFunction (which gives the function the rotator's role), the
// function filter the newest UpdateFunctionCode, UpdateFunctionConfiguration
// or AddPermission on the rotator. That confirms what the pattern assumes
// and AWS's documentation does not show offline: the eventName Lambda logs
// each call under, and the requestParameters that name the function
// (functionName) and the role (role). IAM's calls on the role reach
// EventBridge only in us-east-1 and are not tested here.
//
// LookupEvents by EventName (one attribute per call; HistoryDays back),
// at most ShapeMaxPages pages of ShapePageSize each; TestEventPattern as in
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
	found := 0
	res := v.testRule(ctx, check, rule, topic, fn, []ruleHalf{
		{"the role filter", lambdaSource, RotatorRoleEvents, func(rec map[string]any) bool { return namesRole(rec, role) },
			fmt.Sprintf("no %s giving a function the role %s in the last %d days (the rotator was created before): the role filter is unconfirmed", strings.Join(RotatorRoleEvents, " or "), role, HistoryDays)},
		{"the function filter", lambdaSource, RotatorFunctionEvents, func(rec map[string]any) bool { return namesFunction(rec, fn) },
			fmt.Sprintf("no %s of %s in the last %d days: the function filter is unconfirmed until a deploy changes the rotator", strings.Join(RotatorFunctionEvents, " or "), fn, HistoryDays)},
	}, &found)
	if found > 0 {
		return res
	}
	return v.changedButUnseen(ctx, res, fn)
}

// changedButUnseen fails a passing alerts-rotator line, which found none
// of the rotator's Lambda calls, when the function changed within the
// history read (its LastModified, which CreateFunction and every update
// set): the calls are there, so the event names looked up, or the
// lookup, are wrong, and the rule's pattern was not tested. A change in
// the last minutes may not be in the history yet (FreshLag).
func (v *Verifier) changedButUnseen(ctx context.Context, res Result, fn string) Result {
	if !res.OK {
		return res
	}
	c, err := v.Clients.Lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(fn)})
	if err != nil || c.LastModified == nil {
		return res // the rotator line reports a function it cannot read
	}
	// Lambda writes LastModified in ISO 8601, e.g. 2018-11-27T15:10:45.123+0000
	// (https://docs.aws.amazon.com/lambda/latest/api/API_FunctionConfiguration.html).
	changed, err := time.Parse("2006-01-02T15:04:05.999-0700", aws.ToString(c.LastModified))
	if err != nil {
		return res
	}
	now := v.now()
	if changed.Before(now.Add(-HistoryDays*24*time.Hour)) || changed.After(now.Add(-FreshLag)) {
		return res
	}
	return fail(res.Check, fmt.Sprintf("the rotator %s changed at %s, within the %d days of history read, but no %s call on it was found: the event names looked up (%s) or the lookup are wrong, so the rule's pattern was not tested against a real call (%s)",
		fn, changed.UTC().Format(time.RFC3339), HistoryDays, lambdaSource, strings.Join(append(slices.Clone(RotatorRoleEvents), RotatorFunctionEvents...), ", "), res.Detail),
		"look the calls up (aws cloudtrail lookup-events --lookup-attributes AttributeKey=ResourceName,AttributeValue="+fn+") and align RotatorRoleEvents and RotatorFunctionEvents in ops/verify, and the rule's pattern in stacks/secrets (rotatorchanges.go), with the eventName they show")
}

// FreshLag is how long after a call CloudTrail's event history may still
// lack it: minutes, as the fresh environment's lines say (the lag was not
// found documented offline); half an hour leaves room.
const FreshLag = 30 * time.Minute

// alertsSilencing: the alert-changes rule is enabled, targets the alerts
// topic, and its pattern matches the deploy's own PutRule of this rule, as
// CloudTrail recorded it, which confirms the eventName and
// requestParameters.name the pattern relies on for EventBridge's calls
// (the other services' parameters stay unconfirmed).
func (v *Verifier) alertsSilencing(ctx context.Context) Result {
	const check = "alerts-silencing"
	r := v.need(check)
	rule := r.str("secrets", "alertChangesRuleName")
	topic := r.str("secrets", "alertsTopicArn")
	if r.bad {
		return r.out
	}
	// The deploy's PutRule of this rule itself, which the rule watches.
	return v.testRule(ctx, check, rule, topic, rule, []ruleHalf{
		{"the rules filter", "events.amazonaws.com", []string{"PutRule"}, func(rec map[string]any) bool {
			n, _ := dig(rec, "requestParameters.name").(string)
			return n == rule
		}, fmt.Sprintf("no PutRule of %s in the last %d days (the rule was created before): the rules filter is unconfirmed", rule, HistoryDays)},
	}, nil)
}

// ruleHalf is one part of a rule's pattern and how to find a real call it
// must match: events named names from eventSource for which match holds;
// absent says what is unconfirmed without one.
type ruleHalf struct {
	what, eventSource string
	names             []string
	match             func(map[string]any) bool
	absent            string
}

// testRule checks that rule is enabled and targets topic, and tests its
// pattern, half by half, with the newest real call of each half;
// resource names the resource in the fix of an inconclusive lookup; found,
// when not nil, counts the halves a real call confirmed.
func (v *Verifier) testRule(ctx context.Context, check, rule, topic, resource string, halves []ruleHalf, found *int) Result {
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
	pat := aws.ToString(d.EventPattern)
	if pat == "" {
		p.add(fmt.Sprintf("rule %s has no event pattern", rule), redeploy)
		return p.result(check, "")
	}
	var tested []string
	for _, half := range halves {
		call, capped, err := v.newestCall(ctx, half.eventSource, half.names, half.match)
		if err != nil {
			return callFailed(check, "cloudtrail:LookupEvents", "EventName="+strings.Join(half.names, ","), err, "")
		}
		switch {
		case call == nil && capped:
			p.add(fmt.Sprintf("%s: read %d page(s) of each of %s and found no call on %s, with more left: inconclusive", half.what, ShapeMaxPages, strings.Join(half.names, ", "), resource),
				"run verify again; if it stays inconclusive, look the calls up yourself (aws cloudtrail lookup-events --lookup-attributes AttributeKey=ResourceName,AttributeValue="+resource+")")
			continue
		case call == nil && v.Fresh:
			tested = append(tested, "pending: "+half.absent+" (a fresh environment: CloudTrail's event history lags by minutes)")
			continue
		case call == nil:
			tested = append(tested, half.absent)
			continue
		}
		event, err := apiEnvelope(secrets.EventBridgeSource(half.eventSource), call.record)
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
				"align the rule's pattern in stacks/secrets (rotatorchanges.go, alertchanges.go) with that record (the eventName, the requestParameters naming the resource), then "+redeploy)
			continue
		}
		tested = append(tested, fmt.Sprintf("%s matches the real %s event %s of %s (CloudTrail LookupEvents, TestEventPattern) — confirms: the rule sees that call", half.what, call.name, call.id, call.at))
		if found != nil {
			*found++
		}
	}
	return p.result(check, fmt.Sprintf("rule %s is %s, targets %s; %s", rule, d.State, topic, strings.Join(tested, "; ")))
}

// RotatorRoleEvents and RotatorFunctionEvents are the Lambda calls
// alerts-rotator looks up, by the names the Lambda Developer Guide gives
// them in CloudTrail
// (https://docs.aws.amazon.com/lambda/latest/dg/logging-using-cloudtrail.html).
// Looked up by name, not by event source: the event source's history is
// mostly reads (every preview, every verify), which would push the
// writes out of the pages read.
var (
	RotatorRoleEvents     = []string{"CreateFunction20150331"}
	RotatorFunctionEvents = []string{"UpdateFunctionCode20150331v2", "UpdateFunctionConfiguration20150331v2", "AddPermission20150331v2"}
)

// newestCall is the newest call from eventSource among the events named
// names, in CloudTrail's event history (HistoryDays; LookupEvents answers
// newest first, 50 at most a page), that match; capped: a lookup stopped at
// ShapeMaxPages pages with more left, so an older call may be unread.
func (v *Verifier) newestCall(ctx context.Context, eventSource string, names []string, match func(map[string]any) bool) (newest *apiCall, capped bool, err error) {
	start := v.now().UTC().Add(-HistoryDays * 24 * time.Hour).Truncate(time.Minute)
	for _, name := range names {
		var next *string
		for pages := 0; ; pages++ {
			if pages == ShapeMaxPages {
				capped = true
				break
			}
			page, err := v.Clients.CloudTrail.LookupEvents(ctx, &cloudtrail.LookupEventsInput{
				LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String(name)}},
				StartTime:        aws.Time(start),
				MaxResults:       aws.Int32(ShapePageSize),
				NextToken:        next,
			})
			if err != nil {
				return nil, false, err
			}
			found := false
			for _, e := range page.Events {
				var rec map[string]any
				if json.Unmarshal([]byte(aws.ToString(e.CloudTrailEvent)), &rec) != nil || rec["eventSource"] != eventSource || !match(rec) {
					continue
				}
				if newest == nil || aws.ToTime(e.EventTime).After(newest.time) {
					newest = &apiCall{id: aws.ToString(e.EventId), name: name, time: aws.ToTime(e.EventTime), at: aws.ToTime(e.EventTime).UTC().Format(time.RFC3339), record: rec}
				}
				found = true
				break
			}
			if next = page.NextToken; found || next == nil || *next == "" {
				break
			}
		}
	}
	return newest, capped && newest == nil, nil
}

// namesRole: the call gives a function the role (requestParameters.role,
// in any case, as IAM compares names).
func namesRole(rec map[string]any, role string) bool {
	r, _ := dig(rec, "requestParameters.role").(string)
	return strings.EqualFold(r, role)
}

// namesFunction: the call names the function fn of the record's own
// account and region, in any form: name, name:qualifier,
// arn:...:<region>:<account>:function:name[:qualifier] or
// <account>:function:name[:qualifier].
func namesFunction(rec map[string]any, fn string) bool {
	named, _ := dig(rec, "requestParameters.functionName").(string)
	head, rest, isArn := strings.Cut(named, ":function:")
	if !isArn {
		rest = named
	} else {
		account, _ := rec["recipientAccountId"].(string)
		region, _ := rec["awsRegion"].(string)
		parts := strings.Split(head, ":")
		if parts[len(parts)-1] != account || (len(parts) > 1 && (len(parts) != 5 || parts[3] != region)) {
			return false
		}
	}
	base, _, _ := strings.Cut(rest, ":")
	return base == fn
}

// apiEnvelope wraps an API call's CloudTrail record as EventBridge
// delivers it: detail-type "AWS API Call via CloudTrail", source the
// service's (secrets.EventBridgeSource), the record as detail.
func apiEnvelope(source string, record map[string]any) (string, error) {
	account, _ := record["recipientAccountId"].(string)
	region, _ := record["awsRegion"].(string)
	at, _ := record["eventTime"].(string)
	if account == "" || region == "" || at == "" {
		return "", fmt.Errorf("the record lacks recipientAccountId, awsRegion or eventTime")
	}
	b, err := json.Marshal(map[string]any{
		"version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
		"detail-type": "AWS API Call via CloudTrail", "source": source,
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
		// An empty token ends the list too, as the SDK's paginators take it.
		if next = t.NextToken; aws.ToString(next) == "" {
			return targets, nil
		}
	}
}
