package secrets

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
)

// The deployed rule watches the vault's four rules, its alarm, its topic
// and its trail (by name and ARN).
func TestAlertChangesRule(t *testing.T) {
	res, _ := alertsVault(t)
	p := rule(t, res, "alert-changes-dev")
	want, err := AlertChangesPattern(Silencing{
		Rules:      []string{"rotation-failed-dev", "secret-changes-dev", "rotator-changes-dev", "alert-changes-dev"},
		Alarm:      "rotator-errors-dev",
		TopicArn:   alertsTopic,
		TrailNames: []string{"org-trail", "arn:aws:cloudtrail:us-east-1:123456789012:trail/org-trail"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.ByType("aws:cloudwatch/eventRule:EventRule") {
		if r.Input("name") == "alert-changes-dev" && r.Input("eventPattern") != want {
			t.Errorf("deployed pattern %v, want %s", r.Input("eventPattern"), want)
		}
	}
	if !matches(p, serviceCall("aws.cloudtrail", "cloudtrail.amazonaws.com", "StopLogging", map[string]any{"name": "org-trail"})) {
		t.Error("the deployed rule does not see the account's trail stopped")
	}
}

// Every call that would silence an alert, on the vault's own rules, alarm,
// topic (or a subscription to it) and trail, matches; the same call on
// another vault's, or a call that changes nothing, does not.
func TestAlertChangesPattern(t *testing.T) {
	s := Silencing{
		Rules:      []string{"rotation-failed-dev", "secret-changes-dev", "rotator-changes-dev", "alert-changes-dev"},
		Alarm:      "rotator-errors-dev",
		TopicArn:   alertsTopic,
		TrailNames: []string{"trail-dev", "arn:aws:cloudtrail:us-east-1:123456789012:trail/trail-dev"},
	}
	raw, err := AlertChangesPattern(s)
	if err != nil {
		t.Fatal(err)
	}
	p := decode(t, raw)
	type call struct {
		source, eventSource, name string
		params                    map[string]any
	}
	events := func(name string) call { return call{"aws.events", "events.amazonaws.com", name, nil} }
	cw := func(name string) call { return call{"aws.monitoring", "monitoring.amazonaws.com", name, nil} }
	sns := func(name string) call { return call{"aws.sns", "sns.amazonaws.com", name, nil} }
	trail := func(name string) call { return call{"aws.cloudtrail", "cloudtrail.amazonaws.com", name, nil} }
	with := func(c call, params map[string]any) call { c.params = params; return c }
	silencing := []call{}
	for _, r := range s.Rules {
		for _, n := range []string{"DisableRule", "DeleteRule", "PutRule"} {
			silencing = append(silencing, with(events(n), map[string]any{"name": r}))
		}
		silencing = append(silencing,
			with(events("RemoveTargets"), map[string]any{"rule": r, "ids": []any{"vault-alerts"}}),
			// The alerts' target ID pointed at another topic.
			with(events("PutTargets"), map[string]any{"rule": r, "targets": []any{map[string]any{"id": "vault-alerts", "arn": "arn:aws:sns:us-east-1:123456789012:elsewhere"}}}))
	}
	silencing = append(silencing,
		with(cw("DeleteAlarms"), map[string]any{"alarmNames": []any{"other", "rotator-errors-dev"}}),
		with(cw("DisableAlarmActions"), map[string]any{"alarmNames": []any{"rotator-errors-dev"}}),
		with(cw("PutMetricAlarm"), map[string]any{"alarmName": "rotator-errors-dev"}),
		with(sns("DeleteTopic"), map[string]any{"topicArn": alertsTopic}),
		with(sns("SetTopicAttributes"), map[string]any{"topicArn": alertsTopic, "attributeName": "Policy"}),
		with(sns("RemovePermission"), map[string]any{"topicArn": alertsTopic, "label": "x"}),
		with(sns("Unsubscribe"), map[string]any{"subscriptionArn": alertsTopic + ":0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"}),
		with(sns("SetSubscriptionAttributes"), map[string]any{"subscriptionArn": alertsTopic + ":0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0", "attributeName": "FilterPolicy"}),
	)
	for _, id := range s.TrailNames {
		for _, n := range []string{"StopLogging", "DeleteTrail", "UpdateTrail"} {
			silencing = append(silencing, with(trail(n), map[string]any{"name": id}))
		}
		silencing = append(silencing, with(trail("PutEventSelectors"), map[string]any{"trailName": id}))
	}
	for _, c := range silencing {
		if !matches(p, serviceCall(c.source, c.eventSource, c.name, c.params)) {
			t.Errorf("%s %v does not match", c.name, c.params)
		}
	}
	for _, c := range []call{
		with(events("DisableRule"), map[string]any{"name": "rotation-failed-staging"}),
		with(events("RemoveTargets"), map[string]any{"rule": "secret-changes-dev-eu"}),
		with(events("PutTargets"), map[string]any{"rule": "secret-changes-dev-eu"}),
		with(events("DescribeRule"), map[string]any{"name": "rotation-failed-dev"}),
		with(events("EnableRule"), map[string]any{"name": "rotation-failed-dev"}),
		with(cw("DeleteAlarms"), map[string]any{"alarmNames": []any{"rotator-errors-staging"}}),
		with(sns("DeleteTopic"), map[string]any{"topicArn": alertsTopic + "-eu"}),
		with(sns("Unsubscribe"), map[string]any{"subscriptionArn": alertsTopic + "-eu:0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"}),
		with(sns("Publish"), map[string]any{"topicArn": alertsTopic}),
		with(trail("StopLogging"), map[string]any{"name": "trail-staging"}),
		with(trail("StartLogging"), map[string]any{"name": "trail-dev"}),
		// Another service's call carrying a watched name.
		{"aws.lambda", "lambda.amazonaws.com", "DeleteRule", map[string]any{"name": "rotation-failed-dev"}},
	} {
		if matches(p, serviceCall(c.source, c.eventSource, c.name, c.params)) {
			t.Errorf("%s %s %v matches", c.eventSource, c.name, c.params)
		}
	}
}

// A trail of another region or account cannot be watched from here: the
// layer says so; the region's own trail, by name or ARN, raises nothing.
func TestTrailElsewhereWarns(t *testing.T) {
	for trail, want := range map[string]string{
		"management-events": "",
		"arn:aws:cloudtrail:us-east-1:123456789012:trail/management-events": "",
		"arn:aws:cloudtrail:us-west-2:123456789012:trail/management-events": "belongs to us-west-2 in account 123456789012",
		"arn:aws:cloudtrail:us-east-1:210987654321:trail/org-trail":         "belongs to us-east-1 in account 210987654321",
	} {
		got := trailElsewhere(&Args{ExistingTrailName: trail, Region: "us-east-1", AccountID: "123456789012", Partition: "aws"})
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("%s: %q, want %q", trail, got, want)
		}
	}
}

// WatchedEventSources names every eventSource the rules' patterns match,
// and nothing else: the deploy and verify judge a trail by it.
func TestWatchedEventSourcesAreThePatterns(t *testing.T) {
	arns := []string{"arn:aws:secretsmanager:us-east-1:123456789012:secret:db-credentials-app-dev-AbCdEf"}
	var patterns []string
	for _, build := range []func() (string, error){
		func() (string, error) { return FailurePattern(arns) },
		func() (string, error) { return ChangesPattern(arns) },
		func() (string, error) {
			return RotatorChangesPattern("aws", "us-east-1", "123456789012", "rotator-dev", "rotator-role-us-east-1-dev")
		},
		func() (string, error) {
			return AlertChangesPattern(Silencing{Rules: []string{"r"}, Alarm: "a", TopicArn: "arn:aws:sns:us-east-1:123456789012:t", TrailNames: []string{"trail-dev"}})
		},
	} {
		p, err := build()
		if err != nil {
			t.Fatal(err)
		}
		patterns = append(patterns, p)
	}
	found := map[string]bool{}
	var walk func(v any, key string)
	walk = func(v any, key string) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				walk(e, k)
			}
		case []any:
			for _, e := range x {
				walk(e, key)
			}
		case string:
			if key == "eventSource" {
				found[x] = true
			}
		}
	}
	for _, p := range patterns {
		var v any
		if err := json.Unmarshal([]byte(p), &v); err != nil {
			t.Fatal(err)
		}
		walk(v, "")
	}
	got := slices.Sorted(maps.Keys(found))
	if want := slices.Sorted(slices.Values(WatchedEventSources)); !slices.Equal(got, want) {
		t.Errorf("the patterns match the sources %v; WatchedEventSources is %v", got, want)
	}
}
