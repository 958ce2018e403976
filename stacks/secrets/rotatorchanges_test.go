package secrets

import (
	"strings"
	"testing"
)

const (
	rotatorFunction = "rotator-dev"
	rotatorRole     = "rotator-role-us-east-1-dev"
	rotatorRoleArn  = "arn:aws:iam::123456789012:role/" + rotatorRole
)

// lambdaCall is the event of a Lambda API call, logged by CloudTrail as
// eventName, with params as its requestParameters (shaped as apiCall's
// records; https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-lambda.html).
func lambdaCall(eventName string, params map[string]any) map[string]any {
	return serviceCall("aws.lambda", "lambda.amazonaws.com", eventName, params)
}

// iamCall is the event of an IAM API call on the role named role
// (https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-iam.html).
func iamCall(eventName, role string) map[string]any {
	return serviceCall("aws.iam", "iam.amazonaws.com", eventName, map[string]any{"roleName": role})
}

func serviceCall(source, eventSource, eventName string, params map[string]any) map[string]any {
	ev := apiCall(eventName, "unused", alertsMaster, false)
	ev["source"] = source
	d := ev["detail"].(map[string]any)
	d["eventSource"] = eventSource
	d["requestParameters"] = params
	d["responseElements"] = nil
	return ev
}

// The deployed rule is RotatorChangesPattern for the vault's own function
// and role.
func TestRotatorChangesRule(t *testing.T) {
	res, _ := alertsVault(t)
	p := rule(t, res, "rotator-changes-dev")
	want, err := RotatorChangesPattern("aws", alertsRegion, alertsAccount, rotatorFunction, rotatorRole)
	if err != nil {
		t.Fatal(err)
	}
	if !matches(p, lambdaCall("UpdateFunctionCode20150331v2", map[string]any{"functionName": rotatorFunction})) {
		t.Errorf("the deployed rule does not match a code change of %s: %v", rotatorFunction, p)
	}
	for _, r := range res.ByType("aws:cloudwatch/eventRule:EventRule") {
		if r.Input("name") == "rotator-changes-dev" && r.Input("eventPattern") != want {
			t.Errorf("deployed pattern %v, want %s", r.Input("eventPattern"), want)
		}
	}
}

// Every change of the rotator's function, however the caller named it and
// whichever date and version CloudTrail appends to the call's name, every
// function given the rotator's role, and every change of the role alert;
// reading them, another function or another role does not.
func TestRotatorChangesPattern(t *testing.T) {
	s, err := RotatorChangesPattern("aws", alertsRegion, alertsAccount, rotatorFunction, rotatorRole)
	if err != nil {
		t.Fatal(err)
	}
	p := decode(t, s)
	names := map[string]string{
		"name":              rotatorFunction,
		"ARN":               "arn:aws:lambda:us-east-1:123456789012:function:" + rotatorFunction,
		"partial ARN":       "123456789012:function:" + rotatorFunction,
		"name with version": rotatorFunction + ":1",
		"ARN with alias":    "arn:aws:lambda:us-east-1:123456789012:function:" + rotatorFunction + ":live",
	}
	// As documented (UpdateFunctionCode20150331v2, DeleteFunction20150331,
	// PutFunctionConcurrency20171031), as an older suffix, and bare.
	for _, call := range FunctionChangeEvents {
		for _, suffix := range []string{"20150331v2", "20150331", "20171031", ""} {
			for how, id := range names {
				if !matches(p, lambdaCall(call+suffix, map[string]any{"functionName": id})) {
					t.Errorf("%s of the rotator by %s does not match", call+suffix, how)
				}
			}
		}
	}
	// The calls as CloudTrail names them (Lambda Developer Guide, "Logging
	// AWS Lambda API calls using AWS CloudTrail"), written out here so that
	// a name dropped from the lists fails.
	for _, call := range []string{
		"UpdateFunctionCode20150331v2", "UpdateFunctionConfiguration20150331v2", "AddPermission20150331v2", "AddPermission20150331",
		"RemovePermission20150331v2", "CreateFunctionUrlConfig", "UpdateFunctionUrlConfig", "CreateEventSourceMapping20150331",
		"UpdateEventSourceMapping20150331", "DeleteFunction20150331", "PutFunctionConcurrency20171031", "DeleteFunctionConcurrency20171031",
		"DeleteFunctionUrlConfig", "PutFunctionEventInvokeConfig", "UpdateFunctionEventInvokeConfig", "PutRuntimeManagementConfig",
		"PutFunctionCodeSigningConfig",
	} {
		if !matches(p, lambdaCall(call, map[string]any{"functionName": rotatorFunction})) {
			t.Errorf("%s of the rotator does not match", call)
		}
	}
	for _, call := range []string{"GetFunction20150331v2", "GetFunctionConfiguration20150331v2", "GetPolicy20150331v2", "Invoke", "ListVersionsByFunction20150331"} {
		if matches(p, lambdaCall(call, map[string]any{"functionName": rotatorFunction})) {
			t.Errorf("%s (reading, not changing) matches", call)
		}
	}
	for _, other := range []string{"rotator-dev-eu", "rotator-staging", "x-rotator-dev", "arn:aws:lambda:us-east-1:123456789012:function:rotator-dev-eu", "123456789012:function:rotator-dev2"} {
		if matches(p, lambdaCall("UpdateFunctionCode20150331v2", map[string]any{"functionName": other})) {
			t.Errorf("a change of another function %s matches", other)
		}
	}

	// The rotator's role given to a new or another function, in any case.
	for _, call := range []string{"CreateFunction20150331", "UpdateFunctionConfiguration20150331v2"} {
		for _, role := range []string{rotatorRoleArn, strings.ToUpper(rotatorRoleArn)} {
			if !matches(p, lambdaCall(call, map[string]any{"functionName": "someone-elses", "role": role})) {
				t.Errorf("%s of another function with role %s does not match", call, role)
			}
		}
		if matches(p, lambdaCall(call, map[string]any{"functionName": "someone-elses", "role": "arn:aws:iam::123456789012:role/rotator-role-us-east-1-dev-eu"})) {
			t.Errorf("%s of another function with another role matches", call)
		}
	}

	// The role, named in any case; the IAM calls written out as above.
	for _, call := range []string{
		"AttachRolePolicy", "DetachRolePolicy", "PutRolePolicy", "DeleteRolePolicy", "UpdateAssumeRolePolicy",
		"PutRolePermissionsBoundary", "DeleteRolePermissionsBoundary", "UpdateRole", "TagRole", "UntagRole", "DeleteRole", "CreateRole",
	} {
		for _, role := range []string{rotatorRole, strings.ToUpper(rotatorRole)} {
			if !matches(p, iamCall(call, role)) {
				t.Errorf("%s of role %s does not match", call, role)
			}
		}
		if matches(p, iamCall(call, "rotator-role-us-east-1-dev-eu")) {
			t.Errorf("%s of another role matches", call)
		}
	}
	for _, call := range []string{"GetRole", "GetRolePolicy", "ListAttachedRolePolicies"} {
		if matches(p, iamCall(call, rotatorRole)) {
			t.Errorf("%s (reading) of the role matches", call)
		}
	}
	// A call of one service does not match under another's source.
	if matches(p, serviceCall("aws.secretsmanager", "secretsmanager.amazonaws.com", "UpdateFunctionCode20150331v2", map[string]any{"functionName": rotatorFunction})) {
		t.Error("a Secrets Manager event matches")
	}
	if matches(p, serviceCall("aws.iam", "iam.amazonaws.com", "UpdateFunctionCode20150331v2", map[string]any{"functionName": rotatorFunction})) {
		t.Error("an IAM event carrying a Lambda call's name matches")
	}
}
