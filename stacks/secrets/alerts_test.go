package secrets

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/dbvault/dbvault/stacks/kit/awsfake"
	"github.com/dbvault/dbvault/stacks/kit/mock"
)

const (
	alertsAccount = "123456789012"
	alertsRegion  = "us-east-1"
	alertsMaster  = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-0a1b2c3d-4e5f-6789-abcd-ef0123456789-AbCdEf"
	alertsTopic   = "arn:aws:sns:us-east-1:123456789012:vault-alerts-dev"
	alertsDeploy  = "arn:aws:iam::123456789012:role/vault-deployer"
)

// notTheVaults are secrets of the same account and region that are not the
// vault's: another environment's, one whose suffix extends this one (dev-eu
// for dev) and another cluster's master secret.
var notTheVaults = []string{
	"arn:aws:secretsmanager:us-east-1:123456789012:secret:db-credentials-orders-staging-StUvWx",
	"arn:aws:secretsmanager:us-east-1:123456789012:secret:db-credentials-orders-dev-eu-GhIjKl",
	"arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-99999999-4e5f-6789-abcd-ef0123456789-MnOpQr",
}

// alertsVault deploys the layer with two application users under mocks
// and returns the result and the ARNs of its three secrets (orders,
// reporting, the master).
func alertsVault(t *testing.T) (mock.Result, []string) {
	t.Helper()
	zipPath := mock.RotatorZip(t)
	res, err := mock.Run(Layer, mock.RunOptions{Stack: "dev",
		Config: map[string]string{
			"vault-secrets:environmentSuffix": "dev",
			"vault-secrets:rotatorZip":        zipPath,
			"vault-secrets:existingTrailName": "org-trail",
			"vault-secrets:appUsers":          `[{"name":"orders","privileges":["SELECT"]},{"name":"reporting","privileges":["SELECT"]}]`,
		},
		StackOutputs: map[string]map[string]mock.Output{
			"organization/vault-network/dev": {
				"privateSubnetIds":        {Value: []any{"subnet-0a", "subnet-0b"}},
				"availabilityZones":       {Value: []any{"us-east-1a", "us-east-1b"}},
				"rotatorSecurityGroupId":  {Value: "sg-0r"},
				"databaseSecurityGroupId": {Value: "sg-0d"},
			},
			"organization/vault-kms/dev": {
				"secretsKeyArn":  {Value: "arn:aws:kms:us-east-1:123456789012:key/33333333-3333-3333-3333-333333333333"},
				"logsKeyArn":     {Value: "arn:aws:kms:us-east-1:123456789012:key/22222222-2222-2222-2222-222222222222"},
				"alertsKeyArn":   {Value: "arn:aws:kms:us-east-1:123456789012:key/44444444-4444-4444-4444-444444444444"},
				"administrators": {Value: []any{alertsDeploy}},
			},
			"organization/vault-database/dev": {
				"clusterIdentifier": {Value: "aurora-cluster-dev"},
				"clusterEndpoint":   {Value: "aurora-cluster-dev.cluster-abc.us-east-1.rds.amazonaws.com"},
				"port":              {Value: 3306.0},
				"masterUsername":    {Value: "dbadmin"},
				"masterSecretArn":   {Value: alertsMaster},
				"dbName":            {Value: "vault"},
			},
		}})
	if err != nil {
		t.Fatal(err)
	}
	apps, _ := res.Outputs["appSecretArns"].Value.(map[string]any)
	var arns []string
	for _, u := range []string{"orders", "reporting"} {
		a, _ := apps[u].(string)
		if !strings.Contains(a, ":secret:db-credentials-"+u+"-dev-") {
			t.Fatalf("appSecretArns[%s] = %q", u, a)
		}
		arns = append(arns, a)
	}
	return res, append(arns, alertsMaster)
}

// rule is the deployed rule named name: its pattern, decoded.
func rule(t *testing.T, res mock.Result, name string) map[string]any {
	t.Helper()
	for _, r := range res.ByType("aws:cloudwatch/eventRule:EventRule") {
		if r.Input("name") == name {
			s, _ := r.Input("eventPattern").(string)
			return decode(t, s)
		}
	}
	t.Fatalf("no rule named %s", name)
	return nil
}

// decode is the event pattern s, decoded.
func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		t.Fatalf("pattern %q: %v", s, err)
	}
	return p
}

// Four rules, one per concern, each delivering to the encrypted alerts
// topic, whose policy admits EventBridge for exactly these rules.
func TestAlertRulesAndTheirTopic(t *testing.T) {
	res, _ := alertsVault(t)
	var names []string
	for _, r := range res.ByType("aws:cloudwatch/eventRule:EventRule") {
		names = append(names, fmt.Sprint(r.Input("name")))
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"alert-changes-dev", "rotation-failed-dev", "rotator-changes-dev", "secret-changes-dev"}) {
		t.Fatalf("rules %v", names)
	}
	targets := map[string]string{}
	for _, tg := range res.ByType("aws:cloudwatch/eventTarget:EventTarget") {
		targets[fmt.Sprint(tg.Input("rule"))] = fmt.Sprint(tg.Input("arn"))
	}
	for _, n := range names {
		if targets[n] != alertsTopic {
			t.Errorf("rule %s targets %q, want the alerts topic", n, targets[n])
		}
	}
	tp := res.ByType("aws:sns/topicPolicy:TopicPolicy")
	if len(tp) != 1 {
		t.Fatalf("%d topic policies", len(tp))
	}
	var doc struct {
		Statement []struct {
			Sid       string
			Principal map[string]any
			Condition map[string]map[string]any
		}
	}
	if err := json.Unmarshal([]byte(fmt.Sprint(tp[0].Input("policy"))), &doc); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range doc.Statement {
		if s.Principal["Service"] != "events.amazonaws.com" {
			continue
		}
		found = true
		got := fmt.Sprint(s.Condition["ArnEquals"]["aws:SourceArn"])
		want := fmt.Sprint([]any{"arn:aws:events:us-east-1:123456789012:rule/rotation-failed-dev", "arn:aws:events:us-east-1:123456789012:rule/secret-changes-dev", "arn:aws:events:us-east-1:123456789012:rule/rotator-changes-dev", "arn:aws:events:us-east-1:123456789012:rule/alert-changes-dev"})
		if got != want || s.Condition["StringEquals"]["aws:SourceAccount"] != alertsAccount {
			t.Errorf("%s admits %s (account %v), want exactly %s", s.Sid, got, s.Condition["StringEquals"]["aws:SourceAccount"], want)
		}
	}
	if !found {
		t.Error("the topic policy does not admit EventBridge")
	}
	if got := res.Outputs["rotationFailedRuleName"].Value; got != "rotation-failed-dev" {
		t.Errorf("rotationFailedRuleName = %v", got)
	}
	if got := res.Outputs["rotatorChangesRuleName"].Value; got != "rotator-changes-dev" {
		t.Errorf("rotatorChangesRuleName = %v", got)
	}
	if got := res.Outputs["alertChangesRuleName"].Value; got != "alert-changes-dev" {
		t.Errorf("alertChangesRuleName = %v", got)
	}
}

// envelope wraps a CloudTrail record as EventBridge delivers it on the
// default bus (EventBridge User Guide, "Amazon EventBridge events",
// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events-structure.html:
// version, id, detail-type, source, account, time, region, resources,
// detail), with the record as detail.
func envelope(detailType string, record map[string]any) map[string]any {
	return map[string]any{
		"version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
		"detail-type": detailType, "source": "aws.secretsmanager",
		"account": alertsAccount, "time": "2026-11-28T10:00:00Z", "region": alertsRegion,
		"resources": []any{}, "detail": record,
	}
}

// apiCall is the event of a Secrets Manager API call on a secret, named
// by the caller as secretID, shaped as a CloudTrail record (CloudTrail
// User Guide, "CloudTrail record contents for management, data, and
// network activity events",
// https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html;
// eventType AwsApiCall): the request's parameters as requestParameters,
// the answer as responseElements (none for TagResource and UntagResource,
// whose answer is empty, nor for a refused call).
func apiCall(eventName, secretID, secretARN string, refused bool) map[string]any {
	_, name, _ := secretNameOf(secretARN)
	var response any
	if !refused && eventName != "TagResource" && eventName != "UntagResource" {
		response = map[string]any{"arn": secretARN, "name": name}
	}
	record := map[string]any{
		"eventVersion": "1.09",
		"userIdentity": map[string]any{"type": "AssumedRole", "arn": "arn:aws:sts::123456789012:assumed-role/broad-admin/someone", "accountId": alertsAccount},
		"eventTime":    "2026-11-28T10:00:00Z", "eventSource": "secretsmanager.amazonaws.com", "eventName": eventName,
		"awsRegion": alertsRegion, "sourceIPAddress": "198.51.100.7", "userAgent": "aws-cli/2.22.0",
		"requestParameters": map[string]any{"secretId": secretID},
		"responseElements":  response,
		"eventID":           "4d1e0c2b-0a7b-4c55-9d57-2d5e3c4b5a69", "readOnly": false, "eventType": "AwsApiCall",
		"managementEvent": true, "recipientAccountId": alertsAccount, "eventCategory": "Management",
	}
	if refused {
		record["errorCode"] = "AccessDenied"
	}
	return envelope("AWS API Call via CloudTrail", record)
}

// serviceEvent is a Secrets Manager service event (RotationFailed, ...)
// naming the secret as secretID at additionalEventData.SecretId, shaped as
// CloudTrail's AWS service events (eventType AwsServiceEvent,
// https://docs.aws.amazon.com/awscloudtrail/latest/userguide/non-api-aws-service-events.html).
func serviceEvent(eventName, secretID string) map[string]any {
	return envelope("AWS Service Event via CloudTrail", map[string]any{
		"eventVersion": "1.08",
		"userIdentity": map[string]any{"accountId": alertsAccount, "invokedBy": "secretsmanager.amazonaws.com"},
		"eventTime":    "2026-11-28T10:00:00Z", "eventSource": "secretsmanager.amazonaws.com", "eventName": eventName,
		"awsRegion": alertsRegion, "sourceIPAddress": "secretsmanager.amazonaws.com", "userAgent": "secretsmanager.amazonaws.com",
		"requestParameters": nil, "responseElements": nil,
		"additionalEventData": map[string]any{"SecretId": secretID},
		"eventID":             "0e0b4a4c-4a52-4c7d-9d3e-6f3b0f9f2b11", "readOnly": false, "eventType": "AwsServiceEvent",
		"managementEvent": true, "recipientAccountId": alertsAccount, "eventCategory": "Management",
	})
}

// forms are the ways a caller may name secretARN.
func forms(t *testing.T, secretARN string) map[string]string {
	t.Helper()
	partial, name, err := secretNameOf(secretARN)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{"ARN": secretARN, "partial ARN": partial, "name": name}
}

// Every change call on every vault secret, however the caller named it,
// alerts, refused or not; the same call on another secret, a call that is
// not a change, or a service event does not.
func TestSecretChangesPattern(t *testing.T) {
	res, vault := alertsVault(t)
	p := rule(t, res, "secret-changes-dev")
	for _, secret := range vault {
		for how, id := range forms(t, secret) {
			for _, call := range ChangeEvents {
				for _, refused := range []bool{false, true} {
					if !matches(p, apiCall(call, id, secret, refused)) {
						t.Errorf("%s of %s by %s (refused %v) does not match", call, secret, how, refused)
					}
				}
			}
			for _, call := range []string{"GetSecretValue", "DescribeSecret", "RotateSecret", "PutSecretValue"} {
				if matches(p, apiCall(call, id, secret, false)) {
					t.Errorf("%s of %s by %s matches; it is not a change the rule watches", call, secret, how)
				}
			}
		}
		if matches(p, serviceEvent("RotationFailed", secret)) {
			t.Errorf("a service event of %s matches the API call rule", secret)
		}
	}
	for _, other := range notTheVaults {
		for how, id := range forms(t, other) {
			for _, call := range ChangeEvents {
				if matches(p, apiCall(call, id, other, false)) {
					t.Errorf("%s of %s (not the vault's) by %s matches", call, other, how)
				}
			}
		}
	}
	// The documented path alone (responseElements.arn, AWS's example) is
	// enough for a call that answered, and so is its older spelling aRN.
	for _, key := range []string{"arn", "aRN"} {
		ev := apiCall("DeleteSecret", vault[0], vault[0], false)
		d := ev["detail"].(map[string]any)
		d["requestParameters"] = map[string]any{"SecretId": vault[0]}
		d["responseElements"] = map[string]any{key: vault[0]}
		if !matches(p, ev) {
			t.Errorf("DeleteSecret naming the secret only at responseElements.%s does not match", key)
		}
	}
}

// A failed or abandoned rotation of any vault secret alerts, the secret
// named in any form (RDS's managed rotation of the master secret included:
// how it names the secret is unconfirmed); a rotation that succeeded, another
// secret's failure or an API call does not.
func TestRotationFailedPattern(t *testing.T) {
	res, vault := alertsVault(t)
	p := rule(t, res, "rotation-failed-dev")
	for _, secret := range vault {
		for how, id := range forms(t, secret) {
			for _, name := range FailureEvents {
				if !matches(p, serviceEvent(name, id)) {
					t.Errorf("%s of %s by %s does not match", name, secret, how)
				}
			}
			if matches(p, serviceEvent("RotationSucceeded", id)) {
				t.Errorf("RotationSucceeded of %s matches", secret)
			}
		}
		if matches(p, apiCall("CancelRotateSecret", secret, secret, false)) {
			t.Errorf("an API call on %s matches the failed-rotation rule", secret)
		}
	}
	for _, other := range notTheVaults {
		for how, id := range forms(t, other) {
			if matches(p, serviceEvent("RotationFailed", id)) {
				t.Errorf("RotationFailed of %s (not the vault's) by %s matches", other, how)
			}
		}
	}
}

func TestSecretIDsNeedSecretARNs(t *testing.T) {
	for _, bad := range []string{"db-credentials-app-dev", "arn:aws:secretsmanager:us-east-1:123456789012:secret:short", "arn:aws:sns:us-east-1:123456789012:topic"} {
		if _, err := FailurePattern([]string{bad}); err == nil || !strings.Contains(err.Error(), "is not the ARN of a Secrets Manager secret") {
			t.Errorf("FailurePattern(%q): err = %v", bad, err)
		}
		if _, err := ChangesPattern([]string{bad}); err == nil {
			t.Errorf("ChangesPattern(%q) took it", bad)
		}
	}
	partial, name, err := secretNameOf(alertsMaster)
	if err != nil || name != "rds!cluster-0a1b2c3d-4e5f-6789-abcd-ef0123456789" || partial != "arn:aws:secretsmanager:us-east-1:123456789012:secret:"+name {
		t.Errorf("secretNameOf(master) = %q, %q, %v", partial, name, err)
	}
}

// matches is EventBridge's pattern matching of event by pattern
// (awsfake.MatchesPattern); a pattern it cannot judge fails the test.
func matches(pattern map[string]any, event map[string]any) bool {
	p, err := json.Marshal(pattern)
	if err != nil {
		panic(err)
	}
	e, err := json.Marshal(event)
	if err != nil {
		panic(err)
	}
	m, err := awsfake.MatchesPattern(string(p), string(e))
	if err != nil {
		panic(err)
	}
	return m
}

// A vault whose exact pattern would pass EventBridge's 2,048 characters
// matches its application secrets by wildcard: the pattern fits whatever
// the number, every vault secret still matches in every form, another
// environment's and another cluster's secrets do not, and what the
// wildcard cannot exclude is the documented over-match.
func TestPatternsFallBackToWildcards(t *testing.T) {
	const prefix = "arn:aws:secretsmanager:us-east-1:123456789012:secret:"
	var vault []string
	for i := range MaxAppUsers {
		vault = append(vault, fmt.Sprintf("%sdb-credentials-user%02d-dev-%s", prefix, i, "AbCdEf"))
	}
	vault = append(vault, alertsMaster)
	w := Watched{ARNs: vault, AppPattern: "db-credentials-*-dev"}
	if exact, err := ChangesPattern(vault); err == nil {
		t.Fatalf("the exact pattern of %d secrets fits (%d characters): the test needs more", len(vault), len(exact))
	}
	for _, build := range []struct {
		name  string
		fn    func(Watched) (string, error)
		event func(id, secret string) map[string]any
	}{
		{"secret-changes", ChangesPatternFor, func(id, secret string) map[string]any { return apiCall("DeleteSecret", id, secret, false) }},
		{"rotation-failed", FailurePatternFor, func(id, _ string) map[string]any { return serviceEvent("RotationFailed", id) }},
	} {
		text, err := build.fn(w)
		if err != nil {
			t.Fatalf("%s: %v", build.name, err)
		}
		if len(text) > MaxEventPatternSize || !strings.Contains(text, `"wildcard"`) {
			t.Fatalf("%s: %d characters, wildcard %v", build.name, len(text), strings.Contains(text, `"wildcard"`))
		}
		var p map[string]any
		if err := json.Unmarshal([]byte(text), &p); err != nil {
			t.Fatal(err)
		}
		for _, secret := range vault {
			for how, id := range forms(t, secret) {
				if !matches(p, build.event(id, secret)) {
					t.Errorf("%s: %s by %s does not match", build.name, secret, how)
				}
			}
		}
		for _, other := range []string{notTheVaults[0], notTheVaults[2]} {
			for how, id := range forms(t, other) {
				if matches(p, build.event(id, other)) {
					t.Errorf("%s: %s (not the vault's) by %s matches", build.name, other, how)
				}
			}
		}
		// The over-match Watched documents: environment dev-eu's secret by
		// its full ARN.
		if !matches(p, build.event(notTheVaults[1], notTheVaults[1])) {
			t.Errorf("%s: the documented over-match (dev-eu's full ARN) no longer matches: update Watched's comment", build.name)
		}
	}
}
