package secrets

import (
	"fmt"

	"github.com/dbvault/dbvault/stacks/kit"
)

// RotatorChangesRuleName is the EventBridge rule on API calls that change
// what runs as the rotator's role: the function, who may invoke it, and
// the role itself. Whoever makes such a change can read every secret the
// rotator reads (docs/credential-model.md, "Acting as the rotator"); the
// vault's policies cannot deny these calls, so the rule is how they are
// seen.
func RotatorChangesRuleName(names kit.Names) string { return names.Name("rotator-changes") }

// FunctionChangeEvents are the Lambda calls on the rotator function the
// rule matches, by prefix of CloudTrail's eventName: Lambda logs many calls
// under the API name with a date and version appended
// ("UpdateFunctionCode20150331v2", "AddPermission20150331v2",
// "DeleteFunction20150331"; "the eventName might include date and version
// information, but it is still referring to the same public API action",
// https://docs.aws.amazon.com/lambda/latest/dg/logging-using-cloudtrail.html),
// and some under more than one suffix. Each is a prefix, so it also covers
// the calls whose names extend it: "DeleteFunction" DeleteFunctionConcurrency,
// DeleteFunctionUrlConfig and the other DeleteFunction* calls, "PutFunction"
// PutFunctionConcurrency (0 stops every rotation), PutFunctionCodeSigningConfig
// and PutFunctionEventInvokeConfig:
//   - UpdateFunctionCode, UpdateFunctionConfiguration: new code, another
//     role, environment or declarations layer (a new layer version takes
//     effect only through UpdateFunctionConfiguration);
//   - AddPermission, RemovePermission, CreateFunctionUrlConfig,
//     UpdateFunctionUrlConfig, CreateEventSourceMapping,
//     UpdateEventSourceMapping (which may point a mapping at it): who or
//     what may invoke it;
//   - DeleteFunction, PutFunction, UpdateFunctionEventInvokeConfig,
//     PutRuntimeManagementConfig: its existence, where its results go,
//     and how it runs.
var FunctionChangeEvents = []string{
	"UpdateFunctionCode", "UpdateFunctionConfiguration",
	"AddPermission", "RemovePermission", "CreateFunctionUrlConfig", "UpdateFunctionUrlConfig",
	"CreateEventSourceMapping", "UpdateEventSourceMapping",
	"DeleteFunction", "PutFunction", "UpdateFunctionEventInvokeConfig", "PutRuntimeManagementConfig",
}

// PassRoleEvents are the Lambda calls that give a function a role,
// matched, by prefix as above, when the role is the rotator's: a new
// function, or another existing one, made to run as the rotator.
// iam:PassRole, the permission they need, is a permission checked in
// these calls, not an API call that CloudTrail logs on its own
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html;
// that page's words to this effect were found only quoted elsewhere, not
// confirmed offline), so the calls themselves are what is matched.
var PassRoleEvents = []string{"CreateFunction", "UpdateFunctionConfiguration"}

// RoleChangeEvents are the IAM calls on the rotator's role the rule
// matches: what it may do, who may assume it, its boundary, its tags
// (which IAM policies may grant by) and its existence: a role created
// again under its name has its ARN, which the vault's policies grant by.
// IAM logs them under the API's name.
var RoleChangeEvents = []string{
	"AttachRolePolicy", "DetachRolePolicy", "PutRolePolicy", "DeleteRolePolicy",
	"UpdateAssumeRolePolicy", "PutRolePermissionsBoundary", "DeleteRolePermissionsBoundary",
	"UpdateRole", "TagRole", "UntagRole", "DeleteRole", "CreateRole",
}

// RotatorChangesPattern is the rotator-changes rule's event pattern for the
// function named function and the role named role, in partition, region
// and account.
//
// A call reaches EventBridge as detail-type "AWS API Call via CloudTrail"
// with the CloudTrail record as detail: Lambda's as source aws.lambda,
// eventSource lambda.amazonaws.com
// (https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-lambda.html),
// IAM's as aws.iam, iam.amazonaws.com
// (https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-iam.html).
// The record names
//   - the function at requestParameters.functionName, as the caller wrote
//     it: "Function name – my-function (name-only), my-function:1 (with
//     version). Function ARN – arn:aws:lambda:us-west-2:123456789012:function:my-function.
//     Partial ARN – 123456789012:function:my-function. You can append a
//     version number or alias to any of the formats" (Lambda API reference,
//     FunctionName of AddPermission,
//     https://docs.aws.amazon.com/lambda/latest/api/API_AddPermission.html),
//     so each form exactly and, for a version or alias, each form followed
//     by ":" as a prefix;
//   - the role given to a function at requestParameters.role (unconfirmed
//     offline: no recorded CreateFunction event was found; Lambda's API
//     names the parameter Role). `go run mage.go verify` (alerts-rotator)
//     tests the deployed pattern with the deploy's own CreateFunction
//     record;
//   - the role at requestParameters.roleName, the name alone. IAM names
//     are "not distinguished by case"
//     (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html,
//     RoleName), so the role's name and ARN are matched ignoring case
//     ("equals-ignore-case",
//     https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html).
//
// IAM is a global service whose events reach EventBridge only in us-east-1
// ("The default event bus for the us-east-1 Region receives all events
// that the global services generate",
// https://repost.aws/knowledge-center/eventbridge-rule-triggers-iam-single-region):
// in another region the rule's IAM part never matches, and CloudTrail
// records those calls in us-east-1 only, so a single-region trail
// elsewhere misses them too. Like the secret-changes rule, this one sees
// calls only while a trail records the region's management events.
func RotatorChangesPattern(partition, region, account, function, role string) (string, error) {
	fnArn := fmt.Sprintf("arn:%s:lambda:%s:%s:function:%s", partition, region, account, function)
	partial := account + ":function:" + function
	var functions []any
	for _, form := range []string{function, fnArn, partial} {
		functions = append(functions, form, map[string]any{"prefix": form + ":"})
	}
	ignoreCase := func(s string) []any { return []any{map[string]any{"equals-ignore-case": s}} }
	prefixes := func(names []string) []any {
		var out []any
		for _, n := range names {
			out = append(out, map[string]any{"prefix": n})
		}
		return out
	}
	return apiCallPattern("rotator-changes",
		apiCallMatch{"lambda.amazonaws.com", prefixes(FunctionChangeEvents), "functionName", functions},
		apiCallMatch{"lambda.amazonaws.com", prefixes(PassRoleEvents), "role", ignoreCase(kit.RoleArn(partition, account, role))},
		apiCallMatch{"iam.amazonaws.com", RoleChangeEvents, "roleName", ignoreCase(role)},
	)
}
