package secrets_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/dbvault/dbvault/stacks/kit/mock"
	"github.com/dbvault/dbvault/stacks/secrets"
)

// jsonOf is an input's value as JSON, secrets unwrapped, for comparing
// nested lists and objects.
func jsonOf(t *testing.T, r mock.Resource, key string) string {
	t.Helper()
	b, err := json.Marshal(get(r, key).Mappable())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The trail records every management event that writes (KMS's key
// changes among them) and every one that reads but KMS's and RDS Data
// API's: Secrets Manager's calls stay in (the audit record and the
// EventBridge rules need them), a change to a key's policy or its
// scheduled deletion is recorded, and the flood of KMS reads (Decrypt,
// GenerateDataKey) no longer reaches the CloudWatch Logs group.
func TestTrailRecordsManagementEventsButKMSReads(t *testing.T) {
	trail := one(t, deploy(t), "aws:cloudtrail/trail:Trail")
	if _, ok := trail.Inputs["eventSelectors"]; ok {
		t.Error("the trail sets basic eventSelectors; a trail takes basic or advanced selectors, not both")
	}
	want := `[{"fieldSelectors":[` +
		`{"equals":["Management"],"field":"eventCategory"},` +
		`{"equals":["false"],"field":"readOnly"},` +
		`{"field":"eventSource","notEquals":["rdsdata.amazonaws.com"]}],` +
		`"name":"Management write events except RDS Data API"},` +
		`{"fieldSelectors":[` +
		`{"equals":["Management"],"field":"eventCategory"},` +
		`{"equals":["true"],"field":"readOnly"},` +
		`{"field":"eventSource","notEquals":["kms.amazonaws.com","rdsdata.amazonaws.com"]}],` +
		`"name":"Management read events except KMS and RDS Data API"}]`
	if got := jsonOf(t, trail, "advancedEventSelectors"); got != want {
		t.Errorf("advancedEventSelectors\n got %s\nwant %s", got, want)
	}
	if slices.Contains(secrets.TrailExcludedEventSources, "secretsmanager.amazonaws.com") {
		t.Error("the trail leaves out Secrets Manager's events")
	}
	// Sorted, as the provider compares the list it reads back in order.
	if !slices.IsSorted(secrets.TrailExcludedEventSources) {
		t.Errorf("excluded sources %v are not sorted", secrets.TrailExcludedEventSources)
	}
}

// The trail bucket's log files expire: 90 days in an ephemeral environment
// by default, and the noncurrent versions a day after they stop being
// current.
func TestTrailBucketExpiresLogFiles(t *testing.T) {
	res := deploy(t)
	lc := one(t, res, "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2")
	if got, want := str(lc, "bucket"), "cloudtrail-us-east-1-dev-"+account; got != want {
		t.Errorf("lifecycle of bucket %q, want %q", got, want)
	}
	want := `[{"expiration":{"days":90},"filter":{"prefix":"AWSLogs/"},"id":"expire-trail-log-files",` +
		`"noncurrentVersionExpiration":{"noncurrentDays":1},"status":"Enabled"}]`
	if got := jsonOf(t, lc, "rules"); got != want {
		t.Errorf("lifecycle rules\n got %s\nwant %s", got, want)
	}
}

func expirationDays(t *testing.T, res mock.Result) float64 {
	t.Helper()
	lc := one(t, res, "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2")
	rules := plain(lc.Inputs["rules"]).ArrayValue()
	if len(rules) != 1 {
		t.Fatalf("%d lifecycle rules, want 1", len(rules))
	}
	return plain(rules[0]).ObjectValue()["expiration"].ObjectValue()["days"].NumberValue()
}

// trailRetentionDays sets the expiry; production keeps a year by default
// (its Object Lock retention) and refuses less, naming the fix.
func TestTrailRetentionDays(t *testing.T) {
	cases := []struct {
		name, class, days string
		want              float64
		err               string
	}{
		{name: "ephemeral default", class: "ephemeral", want: secrets.DefaultTrailRetentionDays},
		{name: "ephemeral shorter", class: "ephemeral", days: "7", want: 7},
		{name: "production default", class: "production", want: secrets.TrailRetentionDays},
		{name: "production longer", class: "production", days: "400", want: 400},
		{name: "production shorter", class: "production", days: "100", err: "locks its log files for 365 days (Object Lock), so it keeps them at least that long: pulumi config set trailRetentionDays 365"},
		{name: "zero or less", class: "ephemeral", days: "-1", err: "trailRetentionDays is -1; it must be a positive number of days"},
		{name: "not a number", class: "ephemeral", days: "a year", err: "trailRetentionDays is \"a year\"; it must be a whole number"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := baseConfig(t)
			cfg["vault-secrets:environmentClass"] = c.class
			if c.days != "" {
				cfg["vault-secrets:trailRetentionDays"] = c.days
			}
			res, err := runWith(t, cfg, nil)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := expirationDays(t, res); got != c.want {
				t.Errorf("log files expire after %v days, want %v", got, c.want)
			}
		})
	}
}

// With the account's trail the layer has no bucket, so no lifecycle.
func TestExistingTrailHasNoLifecycle(t *testing.T) {
	res := deployWith(t, map[string]string{"vault-secrets:existingTrailName": "org-trail"})
	if n := len(res.ByType("aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2")); n != 0 {
		t.Errorf("%d lifecycle configurations with an existing trail", n)
	}
}
