package verify_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/dbvault/dbvault/ops/verify"
	"github.com/dbvault/dbvault/ops/verify/verifytest"
)

// testedDetail is the detail of the event the alerts check gave
// TestEventPattern.
func testedDetail(t *testing.T, f *verifytest.Fixture) map[string]any {
	t.Helper()
	if len(f.Tested) != 1 {
		t.Fatalf("TestEventPattern called %d times, want 1", len(f.Tested))
	}
	var ev struct {
		Detail map[string]any `json:"detail"`
	}
	if err := json.Unmarshal([]byte(f.Tested[0]), &ev); err != nil {
		t.Fatal(err)
	}
	return ev.Detail
}

// The healthy lookup: one attribute (EventName=RotationSucceeded), from 30
// days ago, pages of 50, no more than ShapeMaxPages; the alerts check tests
// the rule's pattern against the real event's detail, renamed
// RotationFailed.
func TestEventShapeLookupAndRealSample(t *testing.T) {
	f := verifytest.Healthy()
	now := time.Now()
	res, out := run(t, f, f.Clients())
	for _, r := range res {
		if !r.OK {
			t.Errorf("%s", r.Line())
		}
	}
	if len(f.Lookups) == 0 || len(f.Lookups) > verify.ShapeMaxPages {
		t.Fatalf("%d LookupEvents calls, want 1 to %d", len(f.Lookups), verify.ShapeMaxPages)
	}
	for i, in := range f.Lookups {
		if len(in.LookupAttributes) != 1 || in.LookupAttributes[0].AttributeKey != cttypes.LookupAttributeKeyEventName ||
			aws.ToString(in.LookupAttributes[0].AttributeValue) != "RotationSucceeded" {
			t.Errorf("lookup %d attributes %+v, want EventName=RotationSucceeded only", i, in.LookupAttributes)
		}
		if in.StartTime == nil || in.StartTime.Sub(now.Add(-30*24*time.Hour)).Abs() > 2*time.Minute {
			t.Errorf("lookup %d StartTime %v, want 30 days ago", i, in.StartTime)
		}
		if aws.ToInt32(in.MaxResults) != 50 {
			t.Errorf("lookup %d MaxResults %d", i, aws.ToInt32(in.MaxResults))
		}
	}
	// The vault's event is the second of the history: paging by NextToken.
	if len(f.Lookups) != 2 || aws.ToString(f.Lookups[1].NextToken) == "" {
		t.Errorf("want 2 pages, the second by NextToken: %d", len(f.Lookups))
	}
	var want map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(f.History[1].CloudTrailEvent)), &want); err != nil {
		t.Fatal(err)
	}
	d := testedDetail(t, f)
	if d["eventID"] != want["eventID"] || d["eventName"] != "RotationFailed" || d["eventTime"] != want["eventTime"] {
		t.Fatalf("TestEventPattern's detail is not the real event's, renamed RotationFailed: %v", d)
	}
	t.Logf("\n%s", out)
}

// Each way the event shape can be wrong or unknown makes exactly the
// alerts-event-shape line FAIL, with its fix; the alerts line then tests
// the built sample (additionalEventData.SecretId only).
func TestEventShapeFailures(t *testing.T) {
	app := verifytest.AppSecrets["app"]
	rotated := time.Now().Add(-2 * time.Hour)
	const rotate = "rotate once (go run mage.go rotate) and run verify again"
	const align = "align FailurePattern in stacks/secrets/alerts.go with that path"
	others := func(n int) []cttypes.Event {
		var out []cttypes.Event
		for i := range n {
			out = append(out, verifytest.EventOf(verifytest.RotationRecord("RotationSucceeded", verifytest.OtherSecret, time.Now().Add(-time.Duration(i+1)*time.Minute))))
		}
		return out
	}
	for _, c := range []struct {
		name, want, fix string
		brk             func(f *verifytest.Fixture)
	}{
		{"no event", "no RotationSucceeded event of secretsmanager.amazonaws.com for this vault's secrets in the last 30 days (0 event(s)", rotate,
			func(f *verifytest.Fixture) { f.History = nil }},
		{"event older than 30 days", "no RotationSucceeded event", rotate, func(f *verifytest.Fixture) {
			f.History = []cttypes.Event{verifytest.EventOf(verifytest.RotationRecord("RotationSucceeded", app, time.Now().Add(-40*24*time.Hour)))}
		}},
		{"event for another secret only", "only for other secrets (" + verifytest.OtherSecret + ")", rotate,
			func(f *verifytest.Fixture) { f.History = others(1) }},
		{"vault's event beyond the pages read", "(3 event(s) of that name on 3 page(s)", rotate, func(f *verifytest.Fixture) {
			f.History = append(others(3), f.History[1])
		}},
		{"event of another source", "no RotationSucceeded event", rotate, func(f *verifytest.Fixture) {
			r := verifytest.RotationRecord("RotationSucceeded", app, rotated)
			r["eventSource"] = "rds.amazonaws.com"
			f.History = []cttypes.Event{verifytest.EventOf(r)}
		}},
		{"ARN at another path, SecretId missing", "names " + app + " at requestParameters.secretId; its additionalEventData.SecretId missing", align,
			func(f *verifytest.Fixture) {
				r := verifytest.RotationRecord("RotationSucceeded", app, rotated)
				delete(r, "additionalEventData")
				r["requestParameters"] = map[string]any{"secretId": app}
				f.History[1] = verifytest.EventOf(r)
			}},
		{"SecretId is the name, ARN among resources", `names ` + app + ` at resources[0].ARN; its additionalEventData.SecretId is "db-credentials-app-dev"`, align,
			func(f *verifytest.Fixture) {
				r := verifytest.RotationRecord("RotationSucceeded", app, rotated)
				r["additionalEventData"] = map[string]any{"SecretId": "db-credentials-app-dev"}
				r["resources"] = []any{map[string]any{"ARN": app, "type": "AWS::SecretsManager::Secret"}}
				f.History[1] = verifytest.EventOf(r)
			}},
		{"secret named by its name only", "by its name db-credentials-app-dev at additionalEventData.SecretId, not by its ARN", align,
			func(f *verifytest.Fixture) {
				r := verifytest.RotationRecord("RotationSucceeded", app, rotated)
				r["additionalEventData"] = map[string]any{"SecretId": "db-credentials-app-dev"}
				f.History[1] = verifytest.EventOf(r)
			}},
		{"not a service event", "has eventType AwsApiCall, not AwsServiceEvent", "align FailurePattern's detail-type in stacks/secrets/alerts.go",
			func(f *verifytest.Fixture) {
				r := verifytest.RotationRecord("RotationSucceeded", app, rotated)
				r["eventType"] = "AwsApiCall"
				f.History[1] = verifytest.EventOf(r)
			}},
		{"lookup refused", "LookupEvents EventName=RotationSucceeded: AccessDenied", "may call cloudtrail:LookupEvents (read-only)",
			func(f *verifytest.Fixture) { f.LookupErr = errors.New("AccessDenied") }},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := verifytest.Healthy()
			c.brk(f)
			res, out := run(t, f, f.Clients())
			var failed []verify.Result
			for _, r := range res {
				if !r.OK {
					failed = append(failed, r)
				}
			}
			if len(failed) != 1 || failed[0].Check != "alerts-event-shape" {
				t.Fatalf("want exactly alerts-event-shape to fail:\n%s", out)
			}
			line := failed[0].Line()
			if !strings.Contains(line, c.want) || !strings.Contains(failed[0].Fix, c.fix) {
				t.Fatalf("line %q lacks %q or the fix %q", line, c.want, c.fix)
			}
			if len(f.Lookups) > verify.ShapeMaxPages {
				t.Errorf("%d LookupEvents calls, more than %d", len(f.Lookups), verify.ShapeMaxPages)
			}
			// No real event of the rule's shape: the alerts line tests the
			// built sample, which names the secret at SecretId only.
			d := testedDetail(t, f)
			aed, _ := d["additionalEventData"].(map[string]any)
			if aed["SecretId"] != app || d["requestParameters"] != nil || d["eventID"] != "0e0b4a4c-4a52-4c7d-9d3e-6f3b0f9f2b11" {
				t.Errorf("alerts tested %v, want the built sample with additionalEventData.SecretId %s only", d, app)
			}
			if !strings.Contains(out, "built with additionalEventData.SecretId; no real event of that shape: see alerts-event-shape") {
				t.Errorf("the alerts line does not say it tested the built sample:\n%s", out)
			}
			t.Log(line)
		})
	}
}
