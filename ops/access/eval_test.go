package access

import (
	"strings"
	"testing"
)

const (
	acct  = "111122223333"
	other = "444455556666"
)

var (
	role     = Principal{ARN: "arn:aws:iam::" + acct + ":role/app", Account: acct}
	stranger = Principal{ARN: "arn:aws:iam::" + other + ":role/x", Account: other}
	rds      = Principal{Service: "rds.amazonaws.com"}
	secret   = "arn:aws:secretsmanager:us-east-1:" + acct + ":secret:db-app-AbCdEf"
	key      = "arn:aws:kms:us-east-1:" + acct + ":key/k"
)

func mustParse(t *testing.T, name, doc string) Policy {
	t.Helper()
	p, err := Parse(name, doc)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func policyPtr(p Policy) *Policy { return &p }

// allowAll is an identity policy that allows everything.
const allowAll = `{"Statement":{"Sid":"All","Effect":"Allow","Action":"*","Resource":"*"}}`

// Each case names the documented rule it checks.
func TestEvaluate(t *testing.T) {
	get := func(who Principal) Request {
		return Request{Principal: who, Action: "secretsmanager:GetSecretValue", Resource: secret, Context: Context{}}
	}
	for _, tc := range []struct {
		rule      string
		req       Request
		identity  string // "" for none
		resource  string // "" for none
		keyPolicy bool
		resAcct   string
		allowed   bool
		by        string
	}{
		{
			rule: "evaluation-logic: an explicit deny in a resource policy overrides an identity allow",
			req:  get(role), identity: allowAll,
			resource: `{"Statement":[{"Sid":"No","Effect":"Deny","Principal":"*","Action":"secretsmanager:*","Resource":"*"}]}`,
			allowed:  false, by: "resource/No",
		},
		{
			rule: "evaluation-logic: an explicit deny in an identity policy overrides a resource allow",
			req:  get(role), identity: `{"Statement":[{"Sid":"No","Effect":"Deny","Action":"*","Resource":"*"}]}`,
			resource: `{"Statement":[{"Sid":"Yes","Effect":"Allow","Principal":{"AWS":"` + role.ARN + `"},"Action":"*","Resource":"*"}]}`,
			allowed:  false, by: "identity/No",
		},
		{
			rule: "evaluation-logic: same account, an identity allow is enough",
			req:  get(role), identity: allowAll, allowed: true, by: "identity/All",
		},
		{
			rule:     "evaluation-logic: same account, a resource policy naming the role is enough",
			req:      get(role),
			resource: `{"Statement":[{"Sid":"Reader","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::` + acct + `:role/other","` + role.ARN + `"]},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`,
			allowed:  true, by: "resource/Reader",
		},
		{
			rule:     "evaluation-logic: no allow anywhere is an implicit deny",
			req:      get(role),
			resource: `{"Statement":[{"Sid":"Reader","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:role/other"},"Action":"*","Resource":"*"}]}`,
			allowed:  false,
		},
		{
			rule:     "elements_principal#principal-accounts: naming the account delegates to IAM and grants nothing by itself",
			req:      get(role),
			resource: `{"Statement":[{"Sid":"Account","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"*","Resource":"*"}]}`,
			allowed:  false,
		},
		{
			rule:     "evaluation-logic-cross-account: a resource policy naming the caller is not enough without its identity policy",
			req:      get(stranger),
			resource: `{"Statement":[{"Sid":"X","Effect":"Allow","Principal":{"AWS":"` + stranger.ARN + `"},"Action":"*","Resource":"*"}]}`,
			allowed:  false,
		},
		{
			rule: "evaluation-logic-cross-account: an identity allow is not enough without the resource policy",
			req:  get(stranger), identity: allowAll, allowed: false,
		},
		{
			rule: "evaluation-logic-cross-account: both allow",
			req:  get(stranger), identity: allowAll,
			resource: `{"Statement":[{"Sid":"X","Effect":"Allow","Principal":{"AWS":"` + other + `"},"Action":"*","Resource":"*"}]}`,
			allowed:  true, by: "resource/X",
		},
		{
			rule: "key-policies: without the key policy's permission, IAM policies that allow have no effect",
			req:  Request{Principal: role, Action: "kms:Decrypt", Resource: key}, identity: allowAll,
			resource:  `{"Statement":[{"Sid":"Other","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:role/other"},"Action":"kms:*","Resource":"*"}]}`,
			keyPolicy: true, allowed: false,
		},
		{
			rule: "key-policy-default: the root statement enables IAM policies",
			req:  Request{Principal: role, Action: "kms:Decrypt", Resource: key}, identity: allowAll,
			resource:  `{"Statement":[{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"kms:*","Resource":"*"}]}`,
			keyPolicy: true, allowed: true, by: "identity/All",
		},
		{
			rule:      "key-policy-default: the root statement alone allows no principal without an IAM policy",
			req:       Request{Principal: role, Action: "kms:Decrypt", Resource: key},
			resource:  `{"Statement":[{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"kms:*","Resource":"*"}]}`,
			keyPolicy: true, allowed: false,
		},
		{
			rule:      "key-policies: a key policy that names the principal allows without any IAM policy",
			req:       Request{Principal: role, Action: "kms:Decrypt", Resource: key},
			resource:  `{"Statement":[{"Sid":"Role","Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:Decrypt","Resource":"*","Condition":{"ArnEquals":{"aws:PrincipalArn":"` + role.ARN + `"}}}]}`,
			keyPolicy: true, allowed: true, by: "resource/Role",
		},
		{
			rule: "key-policies: a Deny in the key policy holds against the root statement and IAM",
			req:  Request{Principal: role, Action: "kms:Decrypt", Resource: key}, identity: allowAll,
			resource: `{"Statement":[{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"kms:*","Resource":"*"},` +
				`{"Sid":"Direct","Effect":"Deny","Principal":{"AWS":"*"},"Action":"kms:Decrypt","Resource":"*","Condition":{"StringNotEquals":{"kms:ViaService":"secretsmanager.us-east-1.amazonaws.com"}}}]}`,
			keyPolicy: true, allowed: false, by: "resource/Direct",
		},
		{
			rule: "key-policies, cross-account: the other account's IAM policy gives nothing when the key policy names only its own account",
			req:  Request{Principal: stranger, Action: "kms:Decrypt", Resource: key}, identity: allowAll,
			resource:  `{"Statement":[{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"kms:*","Resource":"*"}]}`,
			keyPolicy: true, allowed: false,
		},
		{
			rule:     "elements_principal#principal-services: a service principal is allowed by a statement naming it",
			req:      Request{Principal: rds, Action: "secretsmanager:GetSecretValue", Resource: secret, Context: Context{"aws:PrincipalIsAWSService": {"true"}}},
			resource: `{"Statement":[{"Sid":"RDS","Effect":"Allow","Principal":{"Service":"rds.amazonaws.com"},"Action":"*","Resource":"*"}]}`,
			allowed:  true, by: "resource/RDS",
		},
		{
			rule: "elements_principal#principal-services: a service principal has no identity policy to allow it",
			req:  Request{Principal: rds, Action: "secretsmanager:GetSecretValue", Resource: secret}, identity: allowAll,
			allowed: false,
		},
		{
			rule:     "condition-keys#condition-keys-principalisawsservice: a Deny for non-services skips a service principal",
			req:      Request{Principal: rds, Action: "secretsmanager:GetSecretValue", Resource: secret, Context: Context{"aws:PrincipalIsAWSService": {"true"}}},
			resource: `{"Statement":[{"Sid":"RDS","Effect":"Allow","Principal":{"Service":"rds.amazonaws.com"},"Action":"*","Resource":"*"},{"Sid":"NotYou","Effect":"Deny","Principal":"*","Action":"*","Resource":"*","Condition":{"ArnNotEquals":{"aws:PrincipalArn":"` + role.ARN + `"},"BoolIfExists":{"aws:PrincipalIsAWSService":"false"}}}]}`,
			allowed:  true, by: "resource/RDS",
		},
		{
			rule: "elements_notaction: a Deny of NotAction denies every action but those listed",
			req:  Request{Principal: role, Action: "secretsmanager:DeleteSecret", Resource: secret}, identity: allowAll,
			resource: `{"Statement":[{"Sid":"ReadOnly","Effect":"Deny","Principal":"*","NotAction":["secretsmanager:GetSecretValue","secretsmanager:Describe*"],"Resource":"*"}]}`,
			allowed:  false, by: "resource/ReadOnly",
		},
		{
			rule: "elements_notaction: ... and leaves the listed ones alone",
			req:  Request{Principal: role, Action: "secretsmanager:DescribeSecret", Resource: secret}, identity: allowAll,
			resource: `{"Statement":[{"Sid":"ReadOnly","Effect":"Deny","Principal":"*","NotAction":["secretsmanager:GetSecretValue","secretsmanager:Describe*"],"Resource":"*"}]}`,
			allowed:  true, by: "identity/All",
		},
		{
			rule: "elements_notresource: an Allow of NotResource allows every resource but those listed",
			req:  get(role), identity: `{"Statement":[{"Sid":"NotThat","Effect":"Allow","Action":"*","NotResource":"arn:aws:secretsmanager:*:*:secret:rds!*"}]}`,
			allowed: true, by: "identity/NotThat",
		},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			target := Target{Account: acct, KeyPolicy: tc.keyPolicy}
			if tc.identity != "" {
				target.Identity = []Policy{mustParse(t, "identity", tc.identity)}
			}
			if tc.resource != "" {
				target.Resource = policyPtr(mustParse(t, "resource", tc.resource))
			}
			if tc.req.Context == nil {
				tc.req.Context = Context{}
			}
			if tc.req.Principal.ARN != "" {
				tc.req.Context["aws:PrincipalArn"] = []string{tc.req.Principal.ARN}
			}
			d, err := Evaluate(tc.req, target)
			if err != nil {
				t.Fatal(err)
			}
			if d.Allowed != tc.allowed || d.By != tc.by {
				t.Errorf("got %s, want allowed=%v by %q", d, tc.allowed, tc.by)
			}
		})
	}
}

// Action names are case-insensitive and take * and ?.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
func TestActionMatches(t *testing.T) {
	for _, tc := range []struct {
		pattern, action string
		want            bool
	}{
		{"secretsmanager:GetSecretValue", "secretsmanager:GetSecretValue", true},
		{"SecretsManager:getsecretvalue", "secretsmanager:GetSecretValue", true},
		{"secretsmanager:*", "secretsmanager:DeleteSecret", true},
		{"kms:GenerateDataKey*", "kms:GenerateDataKey", true},
		{"kms:GenerateDataKey*", "kms:GenerateDataKeyWithoutPlaintext", true},
		{"kms:Re?ncrypt*", "kms:ReEncryptFrom", true},
		{"kms:Decrypt", "kms:DecryptX", false},
		{"kms:*", "secretsmanager:GetSecretValue", false},
		{"*", "kms:PutKeyPolicy", true},
	} {
		if got := actionMatches([]string{tc.pattern}, tc.action); got != tc.want {
			t.Errorf("%s ~ %s = %v, want %v", tc.pattern, tc.action, got, tc.want)
		}
	}
}

// Wildcards in a resource ARN stay within a segment unless a * ends the
// pattern's segment; ARNs are case-sensitive.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html#reference_policies_elements_resource_wildcards
func TestResourceMatches(t *testing.T) {
	for _, tc := range []struct {
		pattern, arn string
		want         bool
	}{
		{"*", secret, true},
		{secret, secret, true},
		{"arn:aws:secretsmanager:us-east-1:" + acct + ":secret:db-app-??????", secret, true},
		{"arn:aws:secretsmanager:us-east-1:" + acct + ":secret:db-app-?????", secret, false},
		{"arn:aws:secretsmanager:*:" + acct + ":secret:db-*", secret, true},
		{"arn:aws:secretsmanager:*:*:secret:rds!*", secret, false},
		{"arn:aws:secretsmanager:*", secret, true},                          // a final * covers the remaining segments
		{"arn:aws:secretsmanager:us*:secret:db-app-AbCdEf", secret, true},   // a * that ends a segment crosses colons
		{"arn:aws:secretsmanager:us*3:secret:db-app-AbCdEf", secret, false}, // one inside a segment does not
		{"arn:aws:secretsmanager:u?-east-1:" + acct + ":secret:db-app-AbCdEf", secret, true},
		{"arn:aws:secretsmanager:us-east-1?" + acct + ":secret:db-app-AbCdEf", secret, false}, // nor does a ?
		{"arn:aws:secretsmanager:us-east-1:" + acct + ":secret?db-app-AbCdEf", secret, false}, // in the resource part too
		{"arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b:c", true},
		{"arn:aws:secretsmanager:*:secret:db-*", secret, true}, // region and account in one *
		{"arn:aws:secretsmanager:*:secret:rds!*", secret, false},
		{"arn:aws:secretsmanager:us-east-1:" + acct + ":secret:db.app-*", secret, false}, // a . is a character, not any
		{"arn:aws:secretsmanager:us-east-1:" + acct + ":secret:DB-app-AbCdEf", secret, false},
		{"arn:aws:ec2:us-east-1:" + acct + ":*/*", "arn:aws:ec2:us-east-1:" + acct + ":network-interface/eni-1", true},
		{"arn:aws:logs:us-east-1:" + acct + ":log-group:/aws/lambda/f:*", "arn:aws:logs:us-east-1:" + acct + ":log-group:/aws/lambda/f:log-stream:s", true},
	} {
		if got := resourceMatches([]string{tc.pattern}, tc.arn); got != tc.want {
			t.Errorf("%s ~ %s = %v, want %v", tc.pattern, tc.arn, got, tc.want)
		}
	}
}

// Condition operators, one rule each.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html
func TestConditions(t *testing.T) {
	ctx := Context{
		"aws:PrincipalArn":                {role.ARN},
		"aws:PrincipalIsAWSService":       {"false"},
		"kms:ViaService":                  {"secretsmanager.us-east-1.amazonaws.com"},
		"kms:EncryptionContext:SecretARN": {secret},
		"aws:CalledVia":                   {"secretsmanager.amazonaws.com", "athena.amazonaws.com"},
	}
	for _, tc := range []struct {
		rule string
		cond string
		want bool
	}{
		{"StringEquals matches exactly", `{"StringEquals":{"kms:ViaService":"secretsmanager.us-east-1.amazonaws.com"}}`, true},
		{"StringEquals is case-sensitive", `{"StringEquals":{"kms:ViaService":"SecretsManager.us-east-1.amazonaws.com"}}`, false},
		{"StringEqualsIgnoreCase folds case", `{"StringEqualsIgnoreCase":{"kms:ViaService":"SecretsManager.us-east-1.amazonaws.com"}}`, true},
		{"condition key names are case-insensitive", `{"StringEquals":{"KMS:VIASERVICE":"secretsmanager.us-east-1.amazonaws.com"}}`, true},
		{"several values of one key are ORed", `{"StringEquals":{"kms:ViaService":["rds.us-east-1.amazonaws.com","secretsmanager.us-east-1.amazonaws.com"]}}`, true},
		{"several values of a negated operator are NORed", `{"StringNotEquals":{"kms:ViaService":["rds.us-east-1.amazonaws.com","secretsmanager.us-east-1.amazonaws.com"]}}`, false},
		{"StringNotEquals holds when no value matches", `{"StringNotEquals":{"kms:ViaService":"rds.us-east-1.amazonaws.com"}}`, true},
		{"several keys under one operator are ANDed", `{"StringEquals":{"kms:ViaService":"secretsmanager.us-east-1.amazonaws.com","aws:PrincipalIsAWSService":"true"}}`, false},
		{"several operators are ANDed", `{"StringEquals":{"kms:ViaService":"secretsmanager.us-east-1.amazonaws.com"},"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::` + acct + `:role/other"}}`, false},
		{"StringLike takes * and ?", `{"StringLike":{"kms:ViaService":"secretsmanager.*.amazonaws.co?"}}`, true},
		{"StringNotLike", `{"StringNotLike":{"kms:ViaService":"secretsmanager.*"}}`, false},
		{"ArnLike matches per component", `{"ArnLike":{"kms:EncryptionContext:SecretARN":"arn:aws:secretsmanager:us-east-1:` + acct + `:secret:db-*-??????"}}`, true},
		{"ArnEquals takes wildcards like ArnLike", `{"ArnEquals":{"kms:EncryptionContext:SecretARN":"arn:aws:secretsmanager:*:*:secret:db-app-*"}}`, true},
		{"ArnNotLike", `{"ArnNotLike":{"kms:EncryptionContext:SecretARN":"arn:aws:secretsmanager:*:*:secret:rds!*"}}`, true},
		{"ArnNotEquals with the caller listed is false", `{"ArnNotEquals":{"aws:PrincipalArn":["arn:aws:iam::` + acct + `:role/other","` + role.ARN + `"]}}`, false},
		{"Bool compares true/false, a JSON boolean as its text", `{"Bool":{"aws:PrincipalIsAWSService":false}}`, true},
		{"a key absent from the request makes a condition false", `{"StringEquals":{"aws:SourceAccount":"` + acct + `"}}`, false},
		{"... and a negated one true", `{"StringNotEquals":{"aws:SourceAccount":"` + acct + `"}}`, true},
		{"... and an ArnNotEquals true", `{"ArnNotEquals":{"aws:SourceArn":"arn:aws:s3:::b"}}`, true},
		{"...IfExists is true when the key is absent", `{"BoolIfExists":{"aws:SecureTransport":"true"}}`, true},
		{"...IfExists tests the value when the key is present", `{"BoolIfExists":{"aws:PrincipalIsAWSService":"true"}}`, false},
		{"StringNotEqualsIfExists on a present key", `{"StringNotEqualsIfExists":{"kms:ViaService":"secretsmanager.us-east-1.amazonaws.com"}}`, false},
		{"Null true holds for an absent key", `{"Null":{"aws:SourceArn":"true"}}`, true},
		{"Null false holds for a present key", `{"Null":{"kms:ViaService":"false"}}`, true},
		{"ForAnyValue: one request value matches", `{"ForAnyValue:StringEquals":{"aws:CalledVia":"athena.amazonaws.com"}}`, true},
		{"ForAllValues: every request value must match", `{"ForAllValues:StringEquals":{"aws:CalledVia":"athena.amazonaws.com"}}`, false},
		{"ForAllValues holds for an absent key", `{"ForAllValues:StringEquals":{"aws:TagKeys":"x"}}`, true},
		{"ForAnyValue fails for an absent key", `{"ForAnyValue:StringEquals":{"aws:TagKeys":"x"}}`, false},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			p := mustParse(t, "p", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":`+tc.cond+`}}`)
			got, err := conditionsMatch(p.Statements[0].Condition, ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("%s: got %v, want %v", tc.cond, got, tc.want)
			}
		})
	}
}

// What the model does not implement is an error, never a silent answer.
func TestUnmodelledIsAnError(t *testing.T) {
	for _, cond := range []string{
		`{"NumericLessThan":{"aws:MultiFactorAuthAge":"3600"}}`,
		`{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`,
		`{"StringEquals":{"aws:PrincipalTag/team":"${aws:username}"}}`,
	} {
		p := mustParse(t, "p", `{"Statement":{"Sid":"S","Effect":"Allow","Action":"*","Resource":"*","Condition":`+cond+`}}`)
		_, err := Evaluate(Request{Principal: role, Action: "kms:Decrypt", Resource: key, Context: Context{"aws:PrincipalTag/team": {"a"}}}, Target{Account: acct, Identity: []Policy{p}})
		if err == nil || !strings.Contains(err.Error(), "p/S") {
			t.Errorf("%s: err %v, want an error naming the statement", cond, err)
		}
	}
	// NotPrincipal: whom it exempts depends on every identity a request
	// carries (a session, its role, the account), which the model does
	// not follow.
	np := mustParse(t, "r", `{"Statement":[{"Sid":"Only","Effect":"Deny","NotPrincipal":{"AWS":"`+role.ARN+`"},"Action":"*","Resource":"*"}]}`)
	if _, err := Evaluate(Request{Principal: role, Action: "secretsmanager:GetSecretValue", Resource: secret, Context: Context{}}, Target{Account: acct, Resource: &np}); err == nil || !strings.Contains(err.Error(), "NotPrincipal is not modelled") {
		t.Errorf("NotPrincipal: err %v, want not modelled", err)
	}
	for _, doc := range []string{
		`{"Statement":[{"Effect":"Allow","Action":"*"}]}`,
		`{"Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}`,
		`{"Statement":[{"Effect":"Allow","Action":"*","NotAction":"x","Resource":"*"}]}`,
		`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Principal":{"Federated":"x"}}]}`,
		`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Extra":1}]}`,
		`{"Statement":[{"Effect":"Allow","NotAction":[],"Resource":"*"}]}`,
		`{"Statement":[{"Effect":"Deny","Action":"*","Resource":[]}]}`,
		`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Principal":{"AWS":"arn:aws:sts::` + acct + `:assumed-role/reader/s"}}]}`,
	} {
		if _, err := Parse("p", doc); err == nil {
			t.Errorf("Parse(%s) accepted it", doc)
		}
	}
}

// An operator the model cannot evaluate is an error even beside one that
// is false, on every run (a Condition block is a map: no order to rely on).
func TestUnmodelledBesideAFalseOperatorIsAlwaysAnError(t *testing.T) {
	p := mustParse(t, "p", `{"Statement":{"Sid":"S","Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"x":"true"},"NumericLessThan":{"y":"1"},"StringEquals":{"z":"1"}}}}`)
	for range 50 {
		_, err := Evaluate(Request{Principal: role, Action: "kms:Decrypt", Resource: key, Context: Context{"x": {"false"}, "y": {"0"}, "z": {"2"}}}, Target{Account: acct, Identity: []Policy{p}})
		if err == nil || !strings.Contains(err.Error(), "NumericLessThan") {
			t.Fatalf("err %v, want NumericLessThan not modelled", err)
		}
	}
}

// IAM accepts a single statement object and a string for any list.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
func TestParseAcceptsStringsAndLists(t *testing.T) {
	p := mustParse(t, "p", `{"Version":"2012-10-17","Statement":{"Sid":"A","Effect":"Allow","Principal":{"AWS":"`+acct+`","Service":["rds.amazonaws.com"]},"Action":"kms:Decrypt","Resource":["*"]}}`)
	s := p.Statements[0]
	if s.Sid != "A" || len(s.Action) != 1 || len(s.Resource) != 1 || s.Principal.AWS[0] != acct || s.Principal.Service[0] != "rds.amazonaws.com" {
		t.Errorf("parsed %+v", s)
	}
	p = mustParse(t, "p", `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*","Condition":{"StringEquals":{"a":"1","b":["2","3"]}}}]}`)
	if !p.Statements[0].Principal.Any {
		t.Error(`Principal "*" is not Any`)
	}
	if got := strings.Join(p.ConditionKeys(), ","); got != "a,b" {
		t.Errorf("ConditionKeys = %s", got)
	}
}

// A * in the value matched is a character like any other: the pattern's *
// covers it, as IAM's wildcard matching does.
func TestGlobWithAStarInTheValue(t *testing.T) {
	for _, c := range []struct {
		pattern, s string
		want       bool
	}{
		{"*", "*a", true},
		{"a*", "a*b", true},
		{"a*b", "a*b", true},
		{"a?c", "a*c", true},
		{"a*c", "a*b", false},
		{"secretsmanager:*", "secretsmanager:GetSecretValue", true},
		{"kms:GenerateDataKey*", "kms:Decrypt", false},
	} {
		if got := glob(c.pattern, c.s); got != c.want {
			t.Errorf("glob(%q, %q) = %v, want %v", c.pattern, c.s, got, c.want)
		}
	}
}
