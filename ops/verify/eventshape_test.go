package verify_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/dbvault/dbvault/ops/internal/verifytest"
	"github.com/dbvault/dbvault/ops/verify"
)

// testedDetail is the detail of the event of the first application secret
// (app) that the alerts check gave TestEventPattern, which it calls once
// for each secret of the vault (alerts-rotator tests a Lambda event of its
// own).
func testedDetail(t *testing.T, f *verifytest.Fixture) map[string]any {
	t.Helper()
	var tested []string
	for _, e := range f.Tested {
		if strings.Contains(e, `"source":"aws.secretsmanager"`) {
			tested = append(tested, e)
		}
	}
	if want := len(verifytest.AppSecrets) + 1; len(tested) != want {
		t.Fatalf("TestEventPattern called %d times with a Secrets Manager event, want %d (each application secret and the master)", len(tested), want)
	}
	var ev struct {
		Detail map[string]any `json:"detail"`
	}
	if err := json.Unmarshal([]byte(tested[0]), &ev); err != nil {
		t.Fatal(err)
	}
	return ev.Detail
}

// The healthy lookup: one attribute (EventName=RotationSucceeded), from 30
// days ago, pages of 50, no more than ShapeMaxPages, until it has an
// application secret's event and the master secret's; the alerts check
// tests the rule's pattern against the application event's detail, renamed
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
	f.Lookups = shapeLookups(f)
	if len(f.Lookups) == 0 || len(f.Lookups) > verify.ShapeMaxPages {
		t.Fatalf("%d LookupEvents calls, want 1 to %d", len(f.Lookups), verify.ShapeMaxPages)
	}
	for i, in := range f.Lookups {
		if len(in.LookupAttributes) != 1 || in.LookupAttributes[0].AttributeKey != cttypes.LookupAttributeKeyEventName ||
			aws.ToString(in.LookupAttributes[0].AttributeValue) != "RotationSucceeded" {
			t.Errorf("lookup %d attributes %+v, want EventName=RotationSucceeded only", i, in.LookupAttributes)
		}
		if in.StartTime == nil || in.StartTime.Sub(now.Add(-32*24*time.Hour)).Abs() > 2*time.Minute {
			t.Errorf("lookup %d StartTime %v, want 32 days ago", i, in.StartTime)
		}
		if aws.ToInt32(in.MaxResults) != 50 {
			t.Errorf("lookup %d MaxResults %d", i, aws.ToInt32(in.MaxResults))
		}
	}
	// The application's event is the second of the history, the master's
	// the third: paging by NextToken.
	if len(f.Lookups) != 3 || aws.ToString(f.Lookups[1].NextToken) == "" || aws.ToString(f.Lookups[2].NextToken) == "" {
		t.Errorf("want 3 pages, the later ones by NextToken: %d", len(f.Lookups))
	}
	if !strings.Contains(out, "the master secret's RotationSucceeded event") || !strings.Contains(out, "names "+verifytest.MasterSecret+" at additionalEventData.SecretId (by its ARN)") {
		t.Errorf("the line does not confirm the master secret's event:\n%s", out)
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
		{"no event", "no RotationSucceeded event of secretsmanager.amazonaws.com for this vault's secrets in the last 32 days (0 event(s)", rotate,
			func(f *verifytest.Fixture) { f.History = nil }},
		{"event older than 32 days", "no RotationSucceeded event", rotate, func(f *verifytest.Fixture) {
			f.History = []cttypes.Event{verifytest.EventOf(verifytest.RotationRecord("RotationSucceeded", app, time.Now().Add(-40*24*time.Hour)))}
		}},
		{"event for another secret only", "only for other secrets (" + verifytest.OtherSecret + ")", rotate,
			func(f *verifytest.Fixture) { f.History = others(1) }},
		{"vault's event beyond the pages read", "inconclusive: no RotationSucceeded event of this vault's application secrets among the newest 3 of that name (3 page(s) of CloudTrail's event history, with more left)",
			"rotate it now and run verify at once", func(f *verifytest.Fixture) {
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
		{"not a service event", "has eventType AwsApiCall, not AwsServiceEvent", "align FailurePattern's detail-type in stacks/secrets/alerts.go",
			func(f *verifytest.Fixture) {
				r := verifytest.RotationRecord("RotationSucceeded", app, rotated)
				r["eventType"] = "AwsApiCall"
				f.History[1] = verifytest.EventOf(r)
			}},
		{"lookup refused", "LookupEvents EventName=RotationSucceeded: AccessDenied", "may call cloudtrail:LookupEvents (read-only)",
			func(f *verifytest.Fixture) { f.LookupErr = errors.New("AccessDenied") }},
		{"no event of the master secret", "no RotationSucceeded event of secretsmanager.amazonaws.com for the master secret " + verifytest.MasterSecret + " in the last 32 days (2 event(s) of that name on 2 page(s))",
			"rotate it once (aws secretsmanager rotate-secret --secret-id " + verifytest.MasterSecret + ", which RDS carries out)",
			func(f *verifytest.Fixture) { f.History = f.History[:2] }},
		{"master event older than 32 days", "no RotationSucceeded event of secretsmanager.amazonaws.com for the master secret", "rotate it once",
			func(f *verifytest.Fixture) {
				f.History[2] = verifytest.EventOf(verifytest.RotationRecord("RotationSucceeded", verifytest.MasterSecret, time.Now().Add(-33*24*time.Hour)))
			}},
		{"master event logged by RDS", "no RotationSucceeded event of secretsmanager.amazonaws.com for the master secret", "event source secretsmanager.amazonaws.com or rds.amazonaws.com",
			func(f *verifytest.Fixture) {
				r := verifytest.RotationRecord("RotationSucceeded", verifytest.MasterSecret, rotated)
				r["eventSource"] = "rds.amazonaws.com"
				f.History[2] = verifytest.EventOf(r)
			}},
		{"master secret at another path", "the master secret's RotationSucceeded event", align,
			func(f *verifytest.Fixture) {
				r := verifytest.RotationRecord("RotationSucceeded", verifytest.MasterSecret, rotated)
				r["additionalEventData"] = nil
				r["serviceEventDetails"] = map[string]any{"secretArn": verifytest.MasterSecret}
				f.History[2] = verifytest.EventOf(r)
			}},
		{"master event not a service event", "the master secret's RotationSucceeded event", "align FailurePattern's detail-type",
			func(f *verifytest.Fixture) {
				r := verifytest.RotationRecord("RotationSucceeded", verifytest.MasterSecret, rotated)
				r["eventType"] = "AwsApiCall"
				f.History[2] = verifytest.EventOf(r)
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := verifytest.Healthy()
			c.brk(f)
			res, out := run(t, f, f.Clients())
			// alerts-rotator and alerts-silencing look events up too: a
			// refused lookup fails them as well.
			failed := slices.DeleteFunc(failures(res), func(r verify.Result) bool {
				return f.LookupErr != nil && (r.Check == "alerts-rotator" || r.Check == "alerts-silencing")
			})
			if len(failed) != 1 || failed[0].Check != "alerts-event-shape" {
				t.Fatalf("want exactly alerts-event-shape to fail:\n%s", out)
			}
			line := failed[0].Line()
			if !strings.Contains(line, c.want) || !strings.Contains(failed[0].Fix, c.fix) {
				t.Fatalf("line %q lacks %q or the fix %q", line, c.want, c.fix)
			}
			if len(shapeLookups(f)) > verify.ShapeMaxPages {
				t.Errorf("%d LookupEvents calls, more than %d", len(f.Lookups), verify.ShapeMaxPages)
			}
			if strings.Contains(c.name, "master") {
				// The application's event is sound: the alerts line tests it.
				if d := testedDetail(t, f); d["eventName"] != "RotationFailed" || d["eventID"] == "0e0b4a4c-4a52-4c7d-9d3e-6f3b0f9f2b11" {
					t.Errorf("alerts tested %v, want the real application event renamed", d)
				}
				t.Log(line)
				return
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

// The rule lists each secret's ARN, partial ARN and name: a real event
// that names the secret at additionalEventData.SecretId in any of these
// forms confirms the shape, and the alerts line tests that event.
func TestEventShapeAnyFormTheRuleLists(t *testing.T) {
	app := verifytest.AppSecrets["app"]
	for form, id := range map[string]string{"name": "db-credentials-app-dev", "partial ARN": app[:len(app)-7]} {
		t.Run(form, func(t *testing.T) {
			f := verifytest.Healthy()
			r := verifytest.RotationRecord("RotationSucceeded", app, time.Now().Add(-2*time.Hour))
			r["additionalEventData"] = map[string]any{"SecretId": id}
			f.History[1] = verifytest.EventOf(r)
			res, out := run(t, f, f.Clients())
			for _, r := range res {
				if !r.OK {
					t.Errorf("%s", r.Line())
				}
			}
			if !strings.Contains(out, "names "+app+" at additionalEventData.SecretId (by its "+form+")") {
				t.Errorf("the line does not say the event names the secret by its %s:\n%s", form, out)
			}
			if d := testedDetail(t, f); d["additionalEventData"].(map[string]any)["SecretId"] != id {
				t.Errorf("alerts tested %v, want the real event", d)
			}
		})
	}
}

// A fresh environment (Verifier.Fresh, VERIFY_FRESH=1 in the proof
// workflow) has no rotation event in CloudTrail's history yet: the line
// says pending instead of failing, for the application secrets and for the
// master secret; an event that is there is still checked.
func TestEventShapeFreshEnvironmentIsPending(t *testing.T) {
	for _, c := range []struct {
		name  string
		brk   func(f *verifytest.Fixture)
		wants []string
	}{
		{"no event at all", func(f *verifytest.Fixture) { f.History = nil }, []string{"pending: no RotationSucceeded event of this vault's application secrets yet", "pending: no RotationSucceeded event of the master secret"}},
		{"no event of the master secret", func(f *verifytest.Fixture) { f.History = f.History[:2] }, []string{"confirms: the rule's SecretId filter matches", "pending: no RotationSucceeded event of the master secret"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := verifytest.Healthy()
			c.brk(f)
			v := &verify.Verifier{Clients: f.Clients(), Outputs: f.Outputs, Env: "dev", Fresh: true}
			for _, r := range v.Run(context.Background()) {
				if r.Check != "alerts-event-shape" {
					continue
				}
				if !r.OK {
					t.Fatalf("fresh environment: %s", r.Line())
				}
				for _, w := range c.wants {
					if !strings.Contains(r.Line(), w) {
						t.Errorf("line %q lacks %q", r.Line(), w)
					}
				}
				return
			}
			t.Fatal("no alerts-event-shape line")
		})
	}
	// A lookup that stops with pages left is inconclusive, not pending.
	f := verifytest.Healthy()
	f.History = append([]cttypes.Event{f.History[0], f.History[0], f.History[0]}, f.History...)
	v := &verify.Verifier{Clients: f.Clients(), Outputs: f.Outputs, Env: "dev", Fresh: true}
	for _, r := range v.Run(context.Background()) {
		if r.Check == "alerts-event-shape" && (r.OK || !strings.Contains(r.Line(), "inconclusive")) {
			t.Fatalf("a capped lookup in a fresh environment: %s", r.Line())
		}
	}
	// With its events there, a fresh environment is checked as any other.
	f = verifytest.Healthy()
	v = &verify.Verifier{Clients: f.Clients(), Outputs: f.Outputs, Env: "dev", Fresh: true}
	for _, r := range v.Run(context.Background()) {
		if r.Check == "alerts-event-shape" && !r.OK {
			t.Fatalf("a healthy fresh environment fails: %s", r.Line())
		}
	}
}

// shapeLookups are the lookups of the event-shape check (EventName
// RotationSucceeded): alerts-rotator looks Lambda's events up too.
func shapeLookups(f *verifytest.Fixture) []cloudtrail.LookupEventsInput {
	var out []cloudtrail.LookupEventsInput
	for _, in := range f.Lookups {
		if len(in.LookupAttributes) == 1 && aws.ToString(in.LookupAttributes[0].AttributeValue) == verify.ShapeEventName {
			out = append(out, in)
		}
	}
	return out
}
