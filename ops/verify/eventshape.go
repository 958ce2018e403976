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
)

// ShapeEventName is the event alerts-event-shape looks up: a rotation that
// succeeded is logged by the same service, of the same kind, as the
// RotationFailed the rule waits for, and it happens on every deploy's first
// rotation, where a failure (ideally) never does.
const ShapeEventName = "RotationSucceeded"

// ShapeLookback is how far back the lookup goes (CloudTrail's event
// history keeps 90 days; the vault rotates at least every 30).
const ShapeLookback = MaxRotationDays * 24 * time.Hour

// ShapeMaxPages bounds the lookup: at most this many pages of
// ShapePageSize events.
const (
	ShapeMaxPages = 3
	ShapePageSize = 50
)

// ShapePath is where the rule's pattern (secrets.FailurePattern) expects
// the secret's ARN in the event's detail.
const ShapePath = "additionalEventData.SecretId"

const secretsManagerSource = "secretsmanager.amazonaws.com"

// rotationEvent is what the lookup found: the newest RotationSucceeded
// service event of Secrets Manager that names one of the vault's secrets,
// and how many other events of that name it saw on the way.
type rotationEvent struct {
	// err is the failed LookupEvents call, if any.
	err error
	// seen counts the events looked at, pages the pages read; others
	// lists the secrets named by Secrets Manager events that are not the
	// vault's (at most a few).
	seen, pages int
	others      []string
	// found: an event names secret.
	found  bool
	secret string
	id     string
	at     string
	// record is the event's CloudTrail record (CloudTrailEvent), the
	// detail EventBridge delivers.
	record map[string]any
	// paths are where the record carries secret (or, failing that, its
	// name, byName).
	paths  []string
	byName bool
}

// confirmed: the record carries the secret's ARN where the rule looks,
// in a service event (EventBridge's "AWS Service Event via CloudTrail").
func (e *rotationEvent) confirmed() bool {
	if e == nil || !e.found || e.byName {
		return false
	}
	return slices.Contains(e.paths, ShapePath) && e.record["eventType"] == "AwsServiceEvent"
}

// vaultSecrets are the ARNs of the vault's secrets named by the outputs
// (application secrets by user, then the master secret).
func (v *Verifier) vaultSecrets() []string {
	var out []string
	if m, ok := v.Outputs["secrets"]["appSecretArns"].(map[string]any); ok {
		for _, u := range sortedAny(m) {
			if s, ok := m[u].(string); ok && s != "" {
				out = append(out, s)
			}
		}
	}
	if s, ok := v.Outputs["secrets"]["masterSecretArn"].(string); ok && s != "" && !slices.Contains(out, s) {
		out = append(out, s)
	}
	return out
}

// lookupRotationEvent finds a real RotationSucceeded event of one of
// secrets in CloudTrail's event history.
//
// LookupEvents
// (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html):
// LookupAttributes "can contain only one item" (here EventName);
// StartTime returns "only events that occur after or at the specified
// time"; MaxResults 1 to 50; NextToken pages; events of "a Region within
// the last 90 days"; requests are limited to two per second per account
// and Region (the SDK retries a throttled one). Events[] carry EventSource
// and CloudTrailEvent, "A JSON string that contains a representation of
// the event returned": the CloudTrail record, which is what EventBridge
// delivers as an event's detail.
func (v *Verifier) lookupRotationEvent(ctx context.Context, secrets []string) *rotationEvent {
	out := &rotationEvent{}
	if len(secrets) == 0 {
		return out
	}
	names := map[string]string{}
	for _, s := range secrets {
		if n := secretName(s); n != "" {
			names[n] = s
		}
	}
	start := v.now().UTC().Add(-ShapeLookback).Truncate(time.Minute)
	var next *string
	for out.pages < ShapeMaxPages {
		page, err := v.Clients.CloudTrail.LookupEvents(ctx, &cloudtrail.LookupEventsInput{
			LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String(ShapeEventName)}},
			StartTime:        aws.Time(start),
			MaxResults:       aws.Int32(ShapePageSize),
			NextToken:        next,
		})
		if err != nil {
			out.err = err
			return out
		}
		out.pages++
		for _, e := range page.Events {
			out.seen++
			if aws.ToString(e.EventSource) != secretsManagerSource {
				continue
			}
			var rec map[string]any
			if json.Unmarshal([]byte(aws.ToString(e.CloudTrailEvent)), &rec) != nil || rec["eventSource"] != secretsManagerSource {
				continue
			}
			for _, s := range secrets {
				if paths := pathsOf(rec, s); len(paths) > 0 {
					out.hit(e, rec, s, paths, false)
					return out
				}
			}
			// Named by the secret's name, not its ARN: the vault's, but
			// the rule's ARN filter would miss it.
			for n, s := range names {
				if paths := pathsOf(rec, n); len(paths) > 0 {
					out.hit(e, rec, s, paths, true)
					return out
				}
			}
			if id, ok := dig(rec, ShapePath).(string); ok && len(out.others) < 3 && !slices.Contains(out.others, id) {
				out.others = append(out.others, id)
			}
		}
		if next = page.NextToken; next == nil || *next == "" {
			break
		}
	}
	return out
}

func (e *rotationEvent) hit(ev cttypes.Event, rec map[string]any, secret string, paths []string, byName bool) {
	e.found, e.secret, e.record, e.paths, e.byName = true, secret, rec, paths, byName
	e.id = aws.ToString(ev.EventId)
	if e.id == "" {
		e.id, _ = rec["eventID"].(string)
	}
	e.at = when(ev.EventTime)
	if ev.EventTime == nil {
		if s, ok := rec["eventTime"].(string); ok {
			e.at = s
		}
	}
}

// secretName is the secret's name: the ARN's last part without the six
// random characters (and their hyphen) Secrets Manager appends.
func secretName(arn string) string {
	_, res, ok := strings.Cut(arn, ":secret:")
	if !ok || len(res) < 8 || res[len(res)-7] != '-' {
		return ""
	}
	return res[:len(res)-7]
}

// pathsOf lists, sorted, the JSON paths in doc whose value is the string
// want: "additionalEventData.SecretId", "resources[0].ARN".
func pathsOf(doc any, want string) []string {
	var out []string
	var walk func(x any, path string)
	walk = func(x any, path string) {
		switch x := x.(type) {
		case map[string]any:
			for k, e := range x {
				p := k
				if path != "" {
					p = path + "." + k
				}
				walk(e, p)
			}
		case []any:
			for i, e := range x {
				walk(e, fmt.Sprintf("%s[%d]", path, i))
			}
		case string:
			if x == want {
				out = append(out, path)
			}
		}
	}
	walk(doc, "")
	slices.Sort(out)
	return out
}

// dig is the value at a dotted path of objects ("a.b"), nil if none.
func dig(doc map[string]any, path string) any {
	var x any = doc
	for _, k := range strings.Split(path, ".") {
		m, ok := x.(map[string]any)
		if !ok {
			return nil
		}
		x = m[k]
	}
	return x
}

// alertsEventShape: the rule's SecretId filter is where Secrets Manager
// really puts the secret. FailurePattern filters detail.additionalEventData
// .SecretId on the secrets' ARNs, a place AWS's documentation does not
// confirm offline; a real RotationSucceeded event of one of the vault's
// secrets (same service, same kind of event as RotationFailed) shows it.
func (v *Verifier) alertsEventShape(ev *rotationEvent) Result {
	const check = "alerts-event-shape"
	// The rule covers every secret of the vault: without all of them an
	// event of one left out would read as another secret's.
	r := v.need(check)
	r.strMap("secrets", "appSecretArns")
	r.str("secrets", "masterSecretArn")
	if r.bad {
		return r.out
	}
	if ev.err != nil {
		return fail(check, fmt.Sprintf("LookupEvents EventName=%s: %v", ShapeEventName, ev.err), apiFix("cloudtrail:LookupEvents"))
	}
	days := int(ShapeLookback / (24 * time.Hour))
	if !ev.found {
		other := ""
		if len(ev.others) > 0 {
			other = fmt.Sprintf(", only for other secrets (%s)", strings.Join(ev.others, ", "))
		}
		return fail(check, fmt.Sprintf("no %s event of %s for this vault's secrets in the last %d days (%d event(s) of that name on %d page(s) of CloudTrail's event history%s): the place the rule's SecretId filter expects the ARN (%s) is unconfirmed",
			ShapeEventName, secretsManagerSource, days, ev.seen, ev.pages, other, ShapePath),
			fmt.Sprintf("rotate once (go run mage.go rotate) and run verify again, with ENV=%s", v.env()))
	}
	event := fmt.Sprintf("%s event %s of %s", ShapeEventName, orNone(ev.id), ev.at)
	align := func(how string) string {
		return fmt.Sprintf("align FailurePattern in stacks/secrets/alerts.go with that path%s, then deploy the secrets layer (%s)", how, v.up("secrets"))
	}
	var p problems
	if ev.byName {
		p.add(fmt.Sprintf("%s names the secret %s by its name %s at %s, not by its ARN (the rule's %s filter lists ARNs)",
			event, ev.secret, secretName(ev.secret), strings.Join(ev.paths, ", "), ShapePath), align(", listing the secrets' names, not their ARNs"))
	} else if !slices.Contains(ev.paths, ShapePath) {
		got := "missing"
		if x := dig(ev.record, ShapePath); x != nil {
			b, _ := json.Marshal(x)
			got = "is " + string(b)
		}
		p.add(fmt.Sprintf("%s names %s at %s; its %s %s", event, ev.secret, strings.Join(ev.paths, ", "), ShapePath, got), align(""))
	}
	if t, _ := ev.record["eventType"].(string); t != "AwsServiceEvent" {
		p.add(fmt.Sprintf("%s has eventType %s, not AwsServiceEvent: EventBridge does not deliver it as the rule's detail-type AWS Service Event via CloudTrail", event, orNone(t)),
			"align FailurePattern's detail-type in stacks/secrets/alerts.go with that eventType, then deploy the secrets layer ("+v.up("secrets")+")")
	}
	return p.result(check, fmt.Sprintf("%s (CloudTrail LookupEvents, a Secrets Manager service event) names %s at %s — confirms: the rule's SecretId filter matches what Secrets Manager emits",
		event, ev.secret, ShapePath))
}
