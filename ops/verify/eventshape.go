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

// ShapeLookback is how far back the lookup goes: CloudTrail's event
// history keeps 90 days, and the vault rotates at least every 30, but a
// schedule in days rotates within a window that "automatically closes at
// the end of the UTC day"
// (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RotationRulesType.html),
// so the last rotation may be up to a day older, and its event reaches the
// history some minutes after it: two days more, so that a sound
// environment never fails in the hours before its next rotation.
const ShapeLookback = (MaxRotationDays + 2) * 24 * time.Hour

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

// rotationEvent is what the lookup found for one group of secrets (the
// application secrets, or RDS's master secret): the newest RotationSucceeded
// service event of Secrets Manager that names one of them, and how many
// other events of that name it saw on the way.
type rotationEvent struct {
	// err is the failed LookupEvents call, if any.
	err error
	// seen counts the events looked at, pages the pages read; others
	// lists the secrets named by Secrets Manager events that are none of
	// the vault's (at most a few). capped: the lookup stopped at
	// ShapeMaxPages with pages left, so a missing event is not known to be
	// missing.
	seen, pages int
	others      []string
	capped      bool
	// found: an event names secret.
	found  bool
	secret string
	id     string
	at     string
	// record is the event's CloudTrail record (CloudTrailEvent), the
	// detail EventBridge delivers.
	record map[string]any
	// form is how the record's ShapePath names the secret ("ARN",
	// "partial ARN", "name"), empty when it does not; paths are where
	// else the record names it, in any form.
	form  string
	paths []string
}

// confirmed: the record names the secret where the rule looks, in a form
// the rule lists, in a service event (EventBridge's "AWS Service Event via
// CloudTrail").
func (e *rotationEvent) confirmed() bool {
	return e != nil && e.found && e.form != "" && e.record["eventType"] == "AwsServiceEvent"
}

// appSecrets are the ARNs of the vault's application secrets named by the
// outputs, by user.
func (v *Verifier) appSecrets() []string {
	var out []string
	if m, ok := v.Outputs["secrets"]["appSecretArns"].(map[string]any); ok {
		for _, u := range sortedKeys(m) {
			if s, ok := m[u].(string); ok && s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// masterSecrets is RDS's master secret named by the outputs, if any.
func (v *Verifier) masterSecrets() []string {
	if s, ok := v.Outputs["secrets"]["masterSecretArn"].(string); ok && s != "" {
		return []string{s}
	}
	return nil
}

// secretForms are the forms the rule's pattern lists for a secret
// (stacks/secrets secretIDs): its ARN, its partial ARN and its name, by
// the name of the form.
func secretForms(arn string) [][2]string {
	out := [][2]string{{"ARN", arn}}
	if n := secretName(arn); n != "" {
		out = append(out, [2]string{"partial ARN", strings.TrimSuffix(arn, arn[len(arn)-7:])}, [2]string{"name", n})
	}
	return out
}

// lookupRotationEvents finds in CloudTrail's event history, in one pass, a
// real RotationSucceeded event of one of the application secrets and one of
// the master secret.
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
//
// RDS rotates its managed master secret itself, every 7 days by default
// (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-secrets-manager.html),
// with no Lambda function; that Secrets Manager logs such a rotation as the
// same RotationSucceeded service event is unconfirmed offline, which is
// what the master's lookup shows.
func (v *Verifier) lookupRotationEvents(ctx context.Context, apps, master []string) (*rotationEvent, *rotationEvent) {
	groups := []struct {
		secrets []string
		ev      *rotationEvent
	}{{apps, &rotationEvent{}}, {master, &rotationEvent{}}}
	var (
		seen, pages int
		others      []string
		lookupErr   error
	)
	done := func() bool {
		for _, g := range groups {
			if len(g.secrets) > 0 && !g.ev.found {
				return false
			}
		}
		return true
	}
	start := v.now().UTC().Add(-ShapeLookback).Truncate(time.Minute)
	var next *string
	capped := false
	for !done() {
		if pages == ShapeMaxPages {
			capped = true
			break
		}
		page, err := v.Clients.CloudTrail.LookupEvents(ctx, &cloudtrail.LookupEventsInput{
			LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String(ShapeEventName)}},
			StartTime:        aws.Time(start),
			MaxResults:       aws.Int32(ShapePageSize),
			NextToken:        next,
		})
		if err != nil {
			lookupErr = err
			break
		}
		pages++
		for _, e := range page.Events {
			seen++
			if aws.ToString(e.EventSource) != secretsManagerSource {
				continue
			}
			var rec map[string]any
			if json.Unmarshal([]byte(aws.ToString(e.CloudTrailEvent)), &rec) != nil || rec["eventSource"] != secretsManagerSource {
				continue
			}
			named := false
			for _, g := range groups {
				if g.ev.found {
					named = named || g.ev.names(rec)
					continue
				}
				if g.ev.match(e, rec, g.secrets) {
					named = true
				}
			}
			if id, ok := dig(rec, ShapePath).(string); ok && !named && len(others) < 3 && !slices.Contains(others, id) {
				others = append(others, id)
			}
		}
		if next = page.NextToken; next == nil || *next == "" {
			break
		}
	}
	for _, g := range groups {
		g.ev.err, g.ev.seen, g.ev.pages, g.ev.others, g.ev.capped = lookupErr, seen, pages, others, capped && !g.ev.found
	}
	return groups[0].ev, groups[1].ev
}

// names: rec names e's secret in some form.
func (e *rotationEvent) names(rec map[string]any) bool {
	for _, f := range secretForms(e.secret) {
		if len(pathsOf(rec, f[1])) > 0 {
			return true
		}
	}
	return false
}

// match records ev as e's event if its record names one of secrets: at
// ShapePath in a form the rule lists, or, failing that, anywhere.
func (e *rotationEvent) match(ev cttypes.Event, rec map[string]any, secrets []string) bool {
	id, _ := dig(rec, ShapePath).(string)
	for _, s := range secrets {
		for _, f := range secretForms(s) {
			if id != "" && id == f[1] {
				e.hit(ev, rec, s, f[0])
				return true
			}
		}
	}
	for _, s := range secrets {
		var paths []string
		for _, f := range secretForms(s) {
			paths = append(paths, pathsOf(rec, f[1])...)
		}
		if len(paths) > 0 {
			slices.Sort(paths)
			e.hit(ev, rec, s, "")
			e.paths = paths
			return true
		}
	}
	return false
}

func (e *rotationEvent) hit(ev cttypes.Event, rec map[string]any, secret, form string) {
	e.found, e.secret, e.record, e.form = true, secret, rec, form
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
// really puts the secret, for an application secret and for RDS's master
// secret. FailurePattern filters detail.additionalEventData.SecretId on the
// secrets' ARNs, partial ARNs and names, a place AWS's documentation does
// not confirm offline; a real RotationSucceeded event of each kind of secret
// (same service, same kind of event as RotationFailed) shows it. The master
// secret is rotated by RDS, not by the vault's function, so its event is
// looked up on its own. The team's own master secret of an existing
// cluster is checked when it has such an event and passes without one.
func (v *Verifier) alertsEventShape(app, master *rotationEvent) Result {
	const check = "alerts-event-shape"
	// The rule covers every secret of the vault: without all of them an
	// event of one left out would read as another secret's.
	r := v.need(check)
	r.strMap("secrets", "appSecretArns")
	masterArn := r.str("secrets", "masterSecretArn")
	// The team's own secret of an existing cluster's master credentials
	// rotates only if and when the team has it rotated (secrets/master):
	// without an event of it there is nothing to confirm, and nothing of
	// the vault's that failed.
	teams := r.existingCluster() && !rdsManaged(masterArn)
	if r.bad {
		return r.out
	}
	if app.err != nil {
		return callFailed(check, "cloudtrail:LookupEvents", "EventName="+ShapeEventName, app.err, "")
	}
	days := int(ShapeLookback / (24 * time.Hour))
	confirms := func(e *rotationEvent) string {
		return fmt.Sprintf("%s event %s of %s names %s at %s (by its %s)", ShapeEventName, orNone(e.id), e.at, e.secret, ShapePath, e.form)
	}
	var p problems
	var pending []string
	// More such events than the lookup reads: a missing one may be on the
	// next page, so it is neither pending nor missing.
	inconclusive := func(e *rotationEvent, whose string) {
		p.add(fmt.Sprintf("inconclusive: no %s event of %s among the newest %d of that name (%d page(s) of CloudTrail's event history, with more left)", ShapeEventName, whose, e.seen, e.pages),
			"rotate it now and run verify at once (the history lists the newest events first), or look the event up by hand: aws cloudtrail lookup-events --lookup-attributes AttributeKey=EventName,AttributeValue="+ShapeEventName)
	}
	if app.capped {
		inconclusive(app, "this vault's application secrets")
	} else if !app.found && v.Fresh {
		pending = append(pending, fmt.Sprintf("pending: no %s event of this vault's application secrets yet (a fresh environment; CloudTrail's event history lags): run verify again later", ShapeEventName))
	} else if !app.found {
		other := ""
		if len(app.others) > 0 {
			other = fmt.Sprintf(", only for other secrets (%s)", strings.Join(app.others, ", "))
		}
		p.add(fmt.Sprintf("no %s event of %s for this vault's secrets in the last %d days (%d event(s) of that name on %d page(s) of CloudTrail's event history%s): the place the rule's SecretId filter expects the ARN (%s) is unconfirmed",
			ShapeEventName, secretsManagerSource, days, app.seen, app.pages, other, ShapePath),
			fmt.Sprintf("rotate once (go run mage.go rotate) and run verify again, with ENV=%s", v.env()))
	} else {
		v.shapeProblems(&p, app, "")
	}
	masterOK := fmt.Sprintf("the master secret's %s — confirms: RDS's managed rotation is logged the same way, so the rule sees its failure", confirms(master))
	switch {
	case teams && !master.found:
		none := fmt.Sprintf("has no %s event in the last %d days", ShapeEventName, days)
		if master.capped {
			none = fmt.Sprintf("has no %s event among the newest %d of that name (more left unread)", ShapeEventName, master.seen)
		}
		masterOK = fmt.Sprintf("the team's master secret %s %s: it rotates only as the team chose, so there is nothing to confirm", masterArn, none)
	case teams:
		v.shapeProblems(&p, master, "the team's master secret's ")
		masterOK = fmt.Sprintf("the team's master secret's %s — confirms: its rotation is logged the same way, so the rule sees its failure", confirms(master))
	case master.capped:
		inconclusive(master, "the master secret "+masterArn)
	case !master.found && v.Fresh:
		masterOK = fmt.Sprintf("pending: no %s event of the master secret %s yet (a fresh environment: RDS rotates it on its own schedule, every 7 days by default)", ShapeEventName, masterArn)
	case !master.found:
		p.add(fmt.Sprintf("no %s event of %s for the master secret %s in the last %d days (%d event(s) of that name on %d page(s)): RDS rotates it itself (every 7 days by default), and how Secrets Manager logs that rotation, and so whether the rule sees it fail, is unconfirmed",
			ShapeEventName, secretsManagerSource, masterArn, days, master.seen, master.pages),
			fmt.Sprintf("rotate it once (aws secretsmanager rotate-secret --secret-id %s, which RDS carries out) and run verify again; if there is still no such event, find the rotation in CloudTrail's event history (event source secretsmanager.amazonaws.com or rds.amazonaws.com) and align FailurePattern in stacks/secrets/alerts.go with it, then deploy the secrets layer (%s)", masterArn, v.up("secrets")))
	default:
		v.shapeProblems(&p, master, "the master secret's ")
	}
	appOK := confirms(app) + " (CloudTrail LookupEvents, a Secrets Manager service event) — confirms: the rule's SecretId filter matches what Secrets Manager emits"
	if len(pending) > 0 {
		appOK = strings.Join(pending, "; ")
	}
	return p.result(check, appOK+"; "+masterOK)
}

// shapeProblems adds what is wrong with the shape of e's event: the secret
// not at ShapePath in a form the rule lists, or not a service event.
func (v *Verifier) shapeProblems(p *problems, e *rotationEvent, whose string) {
	event := fmt.Sprintf("%s%s event %s of %s", whose, ShapeEventName, orNone(e.id), e.at)
	align := fmt.Sprintf("align FailurePattern in stacks/secrets/alerts.go with that path, then deploy the secrets layer (%s)", v.up("secrets"))
	if e.form == "" {
		got := "missing"
		if x := dig(e.record, ShapePath); x != nil {
			b, _ := json.Marshal(x)
			got = "is " + string(b)
		}
		p.add(fmt.Sprintf("%s names %s at %s; its %s %s", event, e.secret, strings.Join(e.paths, ", "), ShapePath, got), align)
	}
	if t, _ := e.record["eventType"].(string); t != "AwsServiceEvent" {
		p.add(fmt.Sprintf("%s has eventType %s, not AwsServiceEvent: EventBridge does not deliver it as the rule's detail-type AWS Service Event via CloudTrail", event, orNone(t)),
			"align FailurePattern's detail-type in stacks/secrets/alerts.go with that eventType, then deploy the secrets layer ("+v.up("secrets")+")")
	}
}
