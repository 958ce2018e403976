package secrets_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/dbvault/dbvault/stacks/kit/mock"
	"github.com/dbvault/dbvault/stacks/secrets"
)

// AWS's size limits on what the layer writes, in characters.
const (
	// IAM: all of a role's inline policies together
	// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html,
	// "Role policy size cannot exceed 10,240 characters").
	maxRoleInlinePolicies = 10240
	// Secrets Manager: a resource policy
	// (https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html,
	// "Resource-based policy length: 20,480").
	maxSecretPolicy = 20480
	// Lambda: all of a function's environment variables
	// (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
	maxEnvironment = 4096
	// Lambda: a function's resource-based policy, "20 KB and not
	// adjustable"
	// (https://repost.aws/knowledge-center/lambda-resource-based-policy-size-error).
	maxFunctionPolicy = 20480
)

// The most users a vault declares, with the longest names and the longest
// environment suffix, stay within every AWS limit the layer's resources
// meet: the rotator's role policy bounds the number (each application
// secret's ARN is listed twice in it), the alert rules fall back to
// wildcards, and the declarations travel in a layer, not the environment.
func TestLimitsHoldAtMaxAppUsers(t *testing.T) {
	for _, n := range []int{secrets.ExactSecretsLimit, secrets.ExactSecretsLimit + 1, secrets.MaxAppUsers} {
		t.Run(fmt.Sprint(n), func(t *testing.T) { limitsHold(t, n) })
	}
}

func limitsHold(t *testing.T, users int) {
	const suffix = "abcdefghij-klmnopqrs" // 20 characters, the longest
	var entries []string
	for i := range users {
		name := fmt.Sprintf("u%03d", i) + strings.Repeat("x", secrets.MaxUserNameLength-len(secrets.CloneSuffix)-4)
		entries = append(entries, fmt.Sprintf(`{"name":"%s","privileges":["SELECT","INSERT","UPDATE","DELETE"],"readers":["arn:aws:iam::123456789012:role/service-%03d-api"]}`, name, i))
	}
	cfg := baseConfig(t)
	cfg["vault-secrets:environmentSuffix"] = suffix
	cfg["vault-secrets:appUsers"] = "[" + strings.Join(entries, ",") + "]"
	res, err := runWith(t, cfg, nil)
	if err != nil {
		t.Fatalf("%d users: %v", users, err)
	}
	if n := len(res.ByType("aws:secretsmanager/secret:Secret")); n != users {
		t.Fatalf("%d secrets, want %d", n, users)
	}
	// The rotator's role names the secrets one by one up to
	// ExactSecretsLimit, by one pattern beyond.
	rotate := policy(t, str(named(t, res, "aws:iam/rolePolicy:RolePolicy", "rotator-policy"), "policy"))["RotateTheApplicationSecrets"].Resource
	wantPattern := []string{"arn:aws:secretsmanager:us-east-1:123456789012:secret:db-credentials-*-" + suffix + "-??????"}
	if users <= secrets.ExactSecretsLimit && len(rotate) != users {
		t.Errorf("%d users: the rotator's policy names %d resources, want each secret", users, len(rotate))
	}
	if users > secrets.ExactSecretsLimit && !slices.Equal(rotate, wantPattern) {
		t.Errorf("%d users: the rotator's policy names %v, want %v", users, rotate, wantPattern)
	}
	inline := 0
	for _, p := range res.ByType("aws:iam/rolePolicy:RolePolicy") {
		if strings.HasPrefix(p.Name, "rotator") {
			inline += len(str(p, "policy"))
		}
	}
	t.Logf("rotator role's inline policies: %d of %d characters", inline, maxRoleInlinePolicies)
	if inline > maxRoleInlinePolicies {
		t.Errorf("the rotator role's inline policies are %d characters, over IAM's %d", inline, maxRoleInlinePolicies)
	}
	for _, r := range res.ByType("aws:cloudwatch/eventRule:EventRule") {
		if n := len(str(r, "eventPattern")); n > secrets.MaxEventPatternSize {
			t.Errorf("rule %s: pattern of %d characters, over EventBridge's %d", r.Name, n, secrets.MaxEventPatternSize)
		}
	}
	for _, p := range res.ByType("aws:secretsmanager/secretPolicy:SecretPolicy") {
		if n := len(str(p, "policy")); n > maxSecretPolicy {
			t.Errorf("%s: %d characters, over Secrets Manager's %d", p.Name, n, maxSecretPolicy)
		}
	}
	// The rotator's function policy: one statement a permission, in the
	// shape Lambda's documentation shows for a service's permission
	// (https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html).
	var sources []string
	var statements []map[string]any
	for _, p := range res.ByType("aws:lambda/permission:Permission") {
		sources = append(sources, str(p, "sourceArn"))
		statements = append(statements, map[string]any{
			"Sid": str(p, "statementId"), "Effect": "Allow",
			"Principal": map[string]any{"Service": str(p, "principal")},
			"Action":    str(p, "action"), "Resource": "arn:aws:lambda:us-east-1:123456789012:function:rotator-" + suffix,
			"Condition": map[string]any{
				"StringEquals": map[string]any{"AWS:SourceAccount": str(p, "sourceAccount")},
				"ArnLike":      map[string]any{"AWS:SourceArn": str(p, "sourceArn")},
			},
		})
	}
	doc, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Id": "default", "Statement": statements})
	if err != nil {
		t.Fatal(err)
	}
	fnPolicy := len(doc)
	t.Logf("rotator's function policy: about %d of %d bytes", fnPolicy, maxFunctionPolicy)
	if fnPolicy > maxFunctionPolicy {
		t.Errorf("the rotator's function policy is about %d bytes, over Lambda's %d", fnPolicy, maxFunctionPolicy)
	}
	wantSources := users
	if users > secrets.ExactSecretsLimit {
		wantSources = 1
		if !slices.Equal(sources, wantPattern) {
			t.Errorf("%d users: the invoke permission's source is %v, want %v", users, sources, wantPattern)
		}
	}
	if len(sources) != wantSources {
		t.Errorf("%d users: %d invoke permissions, want %d", users, len(sources), wantSources)
	}
	fn := one(t, res, "aws:lambda/function:Function")
	env := 0
	for k, v := range mock.PlainMap(get(fn, "environment", "variables").ObjectValue(), nil) {
		env += len(k) + len(fmt.Sprint(v))
	}
	if env > maxEnvironment {
		t.Errorf("the rotator's environment is %d bytes, over Lambda's %d", env, maxEnvironment)
	}
	if n := len(declarations(t, res)); users == secrets.MaxAppUsers && n <= maxEnvironment {
		t.Errorf("the declarations are %d bytes: the test should declare more than the environment could hold", n)
	}
}
