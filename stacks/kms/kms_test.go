package kms_test

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/dbvault/dbvault/stacks/kit"
	"github.com/dbvault/dbvault/stacks/kit/awsfake"
	"github.com/dbvault/dbvault/stacks/kit/kittest"
	"github.com/dbvault/dbvault/stacks/kit/mock"
	"github.com/dbvault/dbvault/stacks/kms"
)

const (
	account = awsfake.DefaultAccount
	tKey    = "aws:kms/key:Key"
	tAlias  = "aws:kms/alias:Alias"
)

// taggable and untaggable sort every type the layer registers (taggable =
// its Args has a Tags field); a new type fails the test until it is sorted.
var (
	taggable   = []string{tKey}
	untaggable = []string{tAlias, kms.ComponentType}
)

func runErr(extra map[string]string, env *awsfake.Env) (mock.Result, error) {
	return mock.Run(kms.Layer, mock.RunOptions{Stack: "dev", Config: kittest.Config(kit.KMSProject, extra), AWS: env})
}

func run(t *testing.T, extra map[string]string) mock.Result {
	t.Helper()
	return kittest.Run(t, kms.Layer, mock.RunOptions{Stack: "dev", Config: kittest.Config(kit.KMSProject, extra)})
}

// str is a resource's input at a path, as a string (kittest.Str).
var str = kittest.Str

// keysByPurpose finds each key by its alias: alias/<purpose>-dev targets it.
func keysByPurpose(t *testing.T, res mock.Result) map[string]mock.Resource {
	t.Helper()
	byID := map[string]mock.Resource{}
	for _, k := range res.ByType(tKey) {
		byID[k.Outputs["keyId"].StringValue()] = k
	}
	out := map[string]mock.Resource{}
	for _, a := range res.ByType(tAlias) {
		purpose := strings.TrimSuffix(strings.TrimPrefix(str(a, "name"), "alias/"), "-dev")
		k, ok := byID[str(a, "targetKeyId")]
		if !ok {
			t.Fatalf("alias %s targets %q, no key of this layer", str(a, "name"), str(a, "targetKeyId"))
		}
		out[purpose] = k
	}
	return out
}

// policy is the key's policy by statement id.
func policy(t *testing.T, k mock.Resource) map[string]kit.Statement {
	t.Helper()
	return kittest.BySid(t, str(k, "policy"))
}

// list is a policy value (a string or a list) as a sorted list.
func list(v any) []string {
	return slices.Sorted(slices.Values(kittest.List(v)))
}

func TestFourKeysRotatedAliasedTaggedAndParented(t *testing.T) {
	res := run(t, map[string]string{"vault-kms:compliance": "pci"})
	kittest.Children(t, res, kms.ComponentType)
	for _, p := range res.TaggingProblems() {
		t.Error(p)
	}
	for _, r := range kittest.Taggable(t, res, taggable, untaggable) {
		kittest.CheckTags(t, r, kit.Tags{Environment: "dev", CostCenter: kit.DefaultCostCenter, Compliance: "pci"})
	}
	kittest.Destroyable(t, res)
	keys := keysByPurpose(t, res)
	if len(res.ByType(tKey)) != 4 || len(keys) != 4 {
		t.Fatalf("%d keys, %d aliased purposes (%v), want 4 each", len(res.ByType(tKey)), len(keys), keys)
	}
	for _, p := range kms.Purposes {
		k, ok := keys[p]
		if !ok {
			t.Errorf("no key with alias alias/%s-dev", p)
			continue
		}
		if k.Input("enableKeyRotation") != true {
			t.Errorf("%s key: rotation off", p)
		}
		if k.Input("deletionWindowInDays") != float64(kms.DefaultDeletionWindow) {
			t.Errorf("%s key: deletion window %v", p, k.Input("deletionWindowInDays"))
		}
		if !strings.Contains(str(k, "description"), "dev") || str(k, "keyUsage") != "ENCRYPT_DECRYPT" {
			t.Errorf("%s key: description %q usage %q", p, str(k, "description"), str(k, "keyUsage"))
		}
		if k.Inputs.HasValue("bypassPolicyLockoutSafetyCheck") || k.Inputs.HasValue("multiRegion") && k.Input("multiRegion") != false {
			t.Errorf("%s key: lockout check bypassed or multi-region", p)
		}
		if n := k.Tags()["Name"]; n != p+"-key-dev" {
			t.Errorf("%s key: Name tag %q", p, n)
		}
	}
	if len(res.References) != 0 {
		t.Errorf("kms references no stack, got %v", res.References)
	}
}

func TestDeletionWindowFromConfig(t *testing.T) {
	res := run(t, map[string]string{"vault-kms:deletionWindowInDays": "30"})
	for _, k := range res.ByType(tKey) {
		if k.Input("deletionWindowInDays") != float64(30) {
			t.Errorf("%s: deletion window %v, want 30", k.Name, k.Input("deletionWindowInDays"))
		}
	}
}

// Every key policy: the root statement exactly as AWS's default key policy,
// and every other statement conditioned; then each purpose's statements.
// Only the secrets key denies (TestSecretsKeyPolicy).
func TestKeyPolicies(t *testing.T) {
	res := run(t, nil)
	keys := keysByPurpose(t, res)
	for purpose, k := range keys {
		stmts := policy(t, k)
		root, ok := stmts["EnableIAMUserPermissions"]
		wantRoot := kit.Statement{Sid: "EnableIAMUserPermissions", Effect: "Allow", Principal: map[string]any{"AWS": "arn:aws:iam::" + account + ":root"}, Action: "kms:*", Resource: "*"}
		if !ok || !reflect.DeepEqual(root, wantRoot) {
			t.Errorf("%s: root statement %+v, want %+v", purpose, root, wantRoot)
		}
		for sid, s := range stmts {
			deny := s.Effect == "Deny" && (purpose == "secrets" || sid == "OnlyAdministratorsControlTheKey" && purpose != "database")
			if s.Effect != "Allow" && !deny || s.Resource != "*" {
				t.Errorf("%s/%s: effect %q resource %v (in a key policy * is this key)", purpose, sid, s.Effect, s.Resource)
			}
			if sid != "EnableIAMUserPermissions" && len(s.Condition) == 0 {
				t.Errorf("%s/%s: a service statement without a condition", purpose, sid)
			}
			for _, a := range list(s.Action) {
				if !strings.HasPrefix(a, "kms:") || (a == "kms:*" && sid != "EnableIAMUserPermissions") {
					t.Errorf("%s/%s: action %q", purpose, sid, a)
				}
			}
		}
	}

	viaService := func(purpose, sid, service string) {
		stmts := policy(t, keys[purpose])
		s, ok := stmts[sid]
		if !ok || len(stmts) != 2 {
			t.Errorf("%s: statements %v, want root and %s", purpose, slices.Sorted(maps.Keys(stmts)), sid)
			return
		}
		if !reflect.DeepEqual(s.Principal, map[string]any{"AWS": "*"}) {
			t.Errorf("%s/%s: principal %v", purpose, sid, s.Principal)
		}
		want := map[string]map[string]any{"StringEquals": {"kms:ViaService": service + ".us-east-1.amazonaws.com", "kms:CallerAccount": account}}
		if !reflect.DeepEqual(s.Condition, want) {
			t.Errorf("%s/%s: condition %v, want %v", purpose, sid, s.Condition, want)
		}
		wantActions := []string{"kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ListGrants", "kms:ReEncrypt*"}
		if got := list(s.Action); !slices.Equal(got, wantActions) {
			t.Errorf("%s/%s: actions %v, want %v", purpose, sid, got, wantActions)
		}
	}
	viaService("database", "AllowRDSViaService", "rds")

	logs := policy(t, keys["logs"])
	if len(logs) != 6 {
		t.Errorf("logs: statements %v", slices.Sorted(maps.Keys(logs)))
	}
	cw := logs["AllowCloudWatchLogs"]
	if !reflect.DeepEqual(cw.Principal, map[string]any{"Service": "logs.us-east-1.amazonaws.com"}) {
		t.Errorf("logs: CloudWatch Logs principal %v", cw.Principal)
	}
	if got := list(cw.Action); !slices.Equal(got, []string{"kms:Decrypt*", "kms:Describe*", "kms:Encrypt*", "kms:GenerateDataKey*", "kms:ReEncrypt*"}) {
		t.Errorf("logs: CloudWatch Logs actions %v", got)
	}
	if len(cw.Condition) != 1 || len(cw.Condition["ArnEquals"]) != 1 {
		t.Errorf("logs: CloudWatch Logs condition %v, want ArnEquals on exact groups", cw.Condition)
	}
	groups := list(cw.Condition["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"])
	// Exactly this environment's groups: no pattern that also admits other
	// teams' groups or another environment whose suffix ends in -dev.
	base := "arn:aws:logs:us-east-1:" + account + ":log-group:"
	var want []string
	for _, g := range []string{"/aws/lambda/rotator-dev", "/aws/cloudtrail/trail-dev", "vpc-flow-logs-dev",
		"/aws/rds/cluster/aurora-cluster-dev/audit", "/aws/rds/cluster/aurora-cluster-dev/error", "/aws/rds/cluster/aurora-cluster-dev/slowquery"} {
		want = append(want, base+g)
	}
	slices.Sort(want)
	if !slices.Equal(slices.Sorted(slices.Values(groups)), want) {
		t.Errorf("logs key groups = %v\nwant %v", groups, want)
	}
	for _, g := range groups {
		if strings.ContainsAny(g, "*?") {
			t.Errorf("logs key group %q is a pattern", g)
		}
	}

	trail := "arn:aws:cloudtrail:us-east-1:" + account + ":trail/trail-dev"
	enc := logs["AllowCloudTrailEncrypt"]
	wantEnc := kit.Statement{Sid: "AllowCloudTrailEncrypt", Effect: "Allow", Principal: map[string]any{"Service": "cloudtrail.amazonaws.com"}, Action: "kms:GenerateDataKey*", Resource: "*",
		Condition: map[string]map[string]any{
			"StringLike":   {"kms:EncryptionContext:aws:cloudtrail:arn": "arn:aws:cloudtrail:*:" + account + ":trail/*"},
			"StringEquals": {"aws:SourceArn": trail},
		}}
	if !reflect.DeepEqual(enc, wantEnc) {
		t.Errorf("logs: CloudTrail encrypt\n got %+v\nwant %+v", enc, wantEnc)
	}
	desc := logs["AllowCloudTrailDescribe"]
	wantDesc := kit.Statement{Sid: "AllowCloudTrailDescribe", Effect: "Allow", Principal: map[string]any{"Service": "cloudtrail.amazonaws.com"}, Action: "kms:DescribeKey", Resource: "*",
		Condition: map[string]map[string]any{"StringEquals": {"aws:SourceArn": trail}}}
	if !reflect.DeepEqual(desc, wantDesc) {
		t.Errorf("logs: CloudTrail describe\n got %+v\nwant %+v", desc, wantDesc)
	}
	// The trail's bucket has an S3 Bucket Key: CloudTrail needs
	// kms:Decrypt to create the trail, for this trail only.
	dec := logs["AllowCloudTrailDecryptForTheBucketKey"]
	wantDec := kit.Statement{Sid: "AllowCloudTrailDecryptForTheBucketKey", Effect: "Allow", Principal: map[string]any{"Service": "cloudtrail.amazonaws.com"}, Action: "kms:Decrypt", Resource: "*",
		Condition: map[string]map[string]any{"StringEquals": {"aws:SourceArn": trail}}}
	if !reflect.DeepEqual(dec, wantDec) {
		t.Errorf("logs: CloudTrail decrypt\n got %+v\nwant %+v", dec, wantDec)
	}

	// Alerts: CloudWatch alarms with aws:SourceAccount; EventBridge, for
	// which SNS does not support source conditions, tied to the topic by
	// the encryption context instead.
	alerts := policy(t, keys["alerts"])
	if len(alerts) != 4 {
		t.Fatalf("alerts: statements %v", slices.Sorted(maps.Keys(alerts)))
	}
	cwa := alerts["CloudWatchAlarmsOfThisAccount"]
	if !reflect.DeepEqual(cwa.Principal, map[string]any{"Service": "cloudwatch.amazonaws.com"}) ||
		!reflect.DeepEqual(cwa.Condition, map[string]map[string]any{"StringEquals": {"aws:SourceAccount": account}}) {
		t.Errorf("alerts: CloudWatch statement %+v", cwa)
	}
	eb := alerts["EventBridgeToTheAlertsTopic"]
	if !reflect.DeepEqual(eb.Principal, map[string]any{"Service": "events.amazonaws.com"}) {
		t.Errorf("alerts: EventBridge principal %v", eb.Principal)
	}
	wantEB := map[string]map[string]any{"StringEquals": {"kms:EncryptionContext:aws:sns:topicArn": "arn:aws:sns:us-east-1:" + account + ":vault-alerts-dev"}}
	if !reflect.DeepEqual(eb.Condition, wantEB) {
		t.Errorf("alerts: EventBridge condition %v, want %v", eb.Condition, wantEB)
	}
	for _, st := range alerts {
		if p, _ := st.Principal.(map[string]any); fmt.Sprint(p["Service"]) == "events.amazonaws.com" {
			for _, c := range st.Condition {
				if _, ok := c["aws:SourceAccount"]; ok {
					t.Error("alerts: EventBridge is conditioned on aws:SourceAccount, which SNS does not support for it: KMS would deny")
				}
				if _, ok := c["aws:SourceArn"]; ok {
					t.Error("alerts: EventBridge is conditioned on aws:SourceArn, which SNS does not support for it")
				}
			}
		}
		if got := list(st.Action); st.Sid != "EnableIAMUserPermissions" && st.Sid != "OnlyAdministratorsControlTheKey" && !slices.Equal(got, []string{"kms:Decrypt", "kms:GenerateDataKey*"}) {
			t.Errorf("alerts %s: actions %v", st.Sid, got)
		}
	}

	// The logs and alerts keys deny their control to all but the
	// administrators, as the secrets key does: disabling one, or changing
	// its policy, would silence the trail, the log groups or the alerts.
	// The database key does not (see KeyPolicy).
	control := policy(t, keys["secrets"])["OnlyAdministratorsControlTheKey"]
	if control.Effect != "Deny" {
		t.Fatalf("secrets: control statement %+v", control)
	}
	for _, purpose := range []string{"logs", "alerts"} {
		if got := policy(t, keys[purpose])["OnlyAdministratorsControlTheKey"]; !reflect.DeepEqual(got, control) {
			t.Errorf("%s: control statement\n got %+v\nwant %+v", purpose, got, control)
		}
	}
	if _, ok := policy(t, keys["database"])["OnlyAdministratorsControlTheKey"]; ok {
		t.Error("database: a control Deny, which could refuse RDS's grants for the cluster's storage")
	}
}

// arnLikeMatch is IAM's ArnLike for the patterns used here: the six
// colon-separated parts compared one by one, '*' matching any run of
// characters within a part (the sixth part runs to the end).
func arnLikeMatch(pattern, arn string) bool {
	p, a := strings.SplitN(pattern, ":", 6), strings.SplitN(arn, ":", 6)
	if len(p) != 6 || len(a) != 6 {
		return false
	}
	for i := range p {
		if !globMatch(p[i], a[i]) {
			return false
		}
	}
	return true
}

func globMatch(p, s string) bool {
	if p == "" {
		return s == ""
	}
	if p[0] == '*' {
		for i := 0; i <= len(s); i++ {
			if globMatch(p[1:], s[i:]) {
				return true
			}
		}
		return false
	}
	return s != "" && (p[0] == '?' || p[0] == s[0]) && globMatch(p[1:], s[1:])
}

func TestRegionAndAccountFollowTheEnvironment(t *testing.T) {
	env := &awsfake.Env{Account: "210987654321", Region: "eu-central-1"}
	res, err := runErr(map[string]string{"aws:region": "eu-central-1", "vault-kms:environmentSuffix": "pr-7"}, env)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range res.ByType(tKey) {
		doc := str(k, "policy")
		if strings.Contains(doc, "us-east-1") || strings.Contains(doc, account) || !strings.Contains(doc, "210987654321") {
			t.Errorf("%s: policy not in eu-central-1/210987654321: %s", k.Name, doc)
		}
		if strings.Contains(doc, "-dev") {
			t.Errorf("%s: policy names another environment: %s", k.Name, doc)
		}
	}
	var aliases []string
	for _, a := range res.ByType(tAlias) {
		aliases = append(aliases, str(a, "name"))
	}
	sort.Strings(aliases)
	if want := []string{"alias/alerts-pr-7", "alias/database-pr-7", "alias/logs-pr-7", "alias/secrets-pr-7"}; !slices.Equal(aliases, want) {
		t.Errorf("aliases %v, want %v", aliases, want)
	}
}

// The secrets key, statement by statement: the named principals and every
// principal of the account (application secrets only, decrypt only) through
// Secrets Manager; denies that hold against the root statement and any IAM
// policy: no use but through Secrets Manager, the master secret only for the
// rotator, the administrators and RDS, and the key's control only for the
// administrators. Each Deny spares AWS services acting as themselves.
func TestSecretsKeyPolicy(t *testing.T) {
	admin := "arn:aws:iam::" + account + ":role/platform-admin"
	deployer := "arn:aws:iam::" + account + ":role/" + awsfake.DeployerRole
	rotator := "arn:aws:iam::" + account + ":role/rotator-role-us-east-1-dev"
	slr := "arn:aws:iam::" + account + ":role/aws-service-role/rds.amazonaws.com/AWSServiceRoleForRDS"
	res := run(t, map[string]string{"vault-kms:administrators": `["` + admin + `","` + deployer + `"]`})
	stmts := policy(t, keysByPurpose(t, res)["secrets"])
	named := []any{rotator, admin, deployer, slr}
	via := "secretsmanager.us-east-1.amazonaws.com"
	notService := map[string]any{"aws:PrincipalIsAWSService": "false"}
	crypto := []any{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"}
	control := []any{"kms:PutKeyPolicy", "kms:CreateGrant", "kms:RevokeGrant", "kms:ScheduleKeyDeletion",
		"kms:DisableKey", "kms:DisableKeyRotation", "kms:ReplicateKey", "kms:UpdatePrimaryRegion",
		"kms:TagResource", "kms:UntagResource", "kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias"}
	anyone := map[string]any{"AWS": "*"}
	want := map[string]kit.Statement{
		"RotatorAndAdministratorsThroughSecretsManager": {
			Effect: "Allow", Principal: anyone, Resource: "*",
			Action: []any{"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"},
			Condition: map[string]map[string]any{
				"StringEquals": {"kms:ViaService": via, "kms:CallerAccount": account},
				"ArnEquals":    {"aws:PrincipalArn": named},
			},
		},
		"AccountDecryptsApplicationSecretsThroughSecretsManager": {
			Effect: "Allow", Principal: anyone, Resource: "*", Action: "kms:Decrypt",
			Condition: map[string]map[string]any{
				"StringEquals": {"kms:ViaService": via, "kms:CallerAccount": account},
				"ArnLike":      {"kms:EncryptionContext:SecretARN": "arn:aws:secretsmanager:us-east-1:" + account + ":secret:db-credentials-*-dev-??????"},
			},
		},
		"OnlyThroughSecretsManager": {
			Effect: "Deny", Principal: anyone, Resource: "*", Action: crypto,
			Condition: map[string]map[string]any{
				"StringNotEquals": {"kms:ViaService": via},
				"BoolIfExists":    notService,
			},
		},
		"MasterSecretOnlyForRotatorAdministratorsAndRDS": {
			Effect: "Deny", Principal: anyone, Resource: "*", Action: crypto,
			Condition: map[string]map[string]any{
				"ArnLike":      {"kms:EncryptionContext:SecretARN": "arn:aws:secretsmanager:us-east-1:" + account + ":secret:rds!*"},
				"ArnNotEquals": {"aws:PrincipalArn": named},
				"BoolIfExists": notService,
			},
		},
		"OnlyAdministratorsControlTheKey": {
			Effect: "Deny", Principal: anyone, Resource: "*", Action: control,
			Condition: map[string]map[string]any{
				"ArnNotEquals": {"aws:PrincipalArn": []any{admin, deployer}},
				"BoolIfExists": notService,
			},
		},
	}
	wantSids := slices.Sorted(maps.Keys(want))
	if got := slices.Sorted(maps.Keys(stmts)); !slices.Equal(got, slices.Sorted(slices.Values(append(wantSids, "EnableIAMUserPermissions")))) {
		t.Errorf("secrets: statements %v, want the root's and %v", got, wantSids)
	}
	for sid, w := range want {
		w.Sid = sid
		if got := stmts[sid]; !reflect.DeepEqual(got, w) {
			t.Errorf("secrets/%s\n got %+v\nwant %+v", sid, got, w)
		}
	}

	// The patterns: the application pattern admits this environment's
	// application secrets only; the master pattern RDS's secrets only.
	app := want["AccountDecryptsApplicationSecretsThroughSecretsManager"].Condition["ArnLike"]["kms:EncryptionContext:SecretARN"].(string)
	master := want["MasterSecretOnlyForRotatorAdministratorsAndRDS"].Condition["ArnLike"]["kms:EncryptionContext:SecretARN"].(string)
	for secretArn, w := range map[string][2]bool{
		"arn:aws:secretsmanager:us-east-1:" + account + ":secret:db-credentials-app-dev-AbCdEf":                   {true, false},
		"arn:aws:secretsmanager:us-east-1:" + account + ":secret:rds!cluster-0a1b2c3d-1111-2222-3333-4444-AbCdEf": {false, true},
		"arn:aws:secretsmanager:us-east-1:" + account + ":secret:db-credentials-app-prod-AbCdEf":                  {false, false},
	} {
		if got := arnLikeMatch(app, secretArn); got != w[0] {
			t.Errorf("application pattern admits %s = %v, want %v", secretArn, got, w[0])
		}
		if got := arnLikeMatch(master, secretArn); got != w[1] {
			t.Errorf("master pattern matches %s = %v, want %v", secretArn, got, w[1])
		}
	}
	if _, ok := res.Outputs["secretReaders"]; ok {
		t.Error("the kms layer still exports secretReaders")
	}
}

// Every principal that deploys the kms layer must be an administrator: the
// key policy lets only the administrators write it, and KMS refuses a
// policy its writer could not write again. A preview by anyone else stops
// with the fix; the default administrators are the deployer itself.
func TestDeployerMustBeAnAdministrator(t *testing.T) {
	deployer := "arn:aws:iam::" + account + ":role/" + awsfake.DeployerRole
	_, err := runErr(map[string]string{"vault-kms:administrators": `["arn:aws:iam::` + account + `:role/platform-admin"]`}, nil)
	kittest.Refused(t, err, "add "+deployer+" to administrators in stacks/kms and run up:kms, or deploy as one of them")
	res := run(t, nil)
	if got := fmt.Sprint(res.Outputs["administrators"].Value); got != "["+deployer+"]" {
		t.Errorf("administrators = %s, want the deployer", got)
	}
}

func TestProductionProtectsTheKeys(t *testing.T) {
	res := run(t, map[string]string{"vault-kms:environmentClass": "production"})
	for purpose, k := range keysByPurpose(t, res) {
		if !k.Options.Protect {
			t.Errorf("%s key not protected in production", purpose)
		}
		if got := k.Inputs["deletionWindowInDays"].NumberValue(); got != kms.MaxDeletionWindow {
			t.Errorf("%s key deletion window %v, want %d in production", purpose, got, kms.MaxDeletionWindow)
		}
	}
	for purpose, k := range keysByPurpose(t, run(t, nil)) {
		if k.Options.Protect {
			t.Errorf("%s key protected in an ephemeral environment", purpose)
		}
	}
}

func TestExports(t *testing.T) {
	res := run(t, nil)
	keys := keysByPurpose(t, res)
	if len(res.Outputs) != 2*len(kms.Purposes)+1 {
		t.Errorf("%d outputs, want %d: %v", len(res.Outputs), 2*len(kms.Purposes)+1, res.Outputs)
	}
	if got := fmt.Sprint(res.Outputs["administrators"].Value); got != "[arn:aws:iam::"+account+":role/vault-deployer]" {
		t.Errorf("administrators = %s, want the deploying session's role", got)
	}
	for _, p := range kms.Purposes {
		k := keys[p]
		for out, want := range map[string]string{p + "KeyArn": k.Outputs["arn"].StringValue(), p + "KeyId": k.Outputs["keyId"].StringValue()} {
			o, ok := res.Outputs[out]
			if !ok || o.Secret || o.Value != want || want == "" {
				t.Errorf("output %s = %+v, want %q", out, o, want)
			}
		}
		if arn := res.Outputs[p+"KeyArn"].Value; !strings.HasPrefix(fmt.Sprint(arn), "arn:aws:kms:us-east-1:"+account+":key/") {
			t.Errorf("%sKeyArn = %v", p, arn)
		}
	}
}

func TestBadConfigIsRefusedClearly(t *testing.T) {
	for _, tc := range []struct {
		name   string
		config map[string]string
		want   string
	}{
		{"missing suffix", map[string]string{"vault-kms:environmentSuffix": ""}, "environmentSuffix is required"},
		{"malformed suffix", map[string]string{"vault-kms:environmentSuffix": "dev--1"}, "single hyphens"},
		{"window too short", map[string]string{"vault-kms:deletionWindowInDays": "3"}, "kms: DeletionWindowInDays is 3: it must be 7 to 30, the days KMS accepts"},
		{"window too long", map[string]string{"vault-kms:deletionWindowInDays": "31"}, "kms: DeletionWindowInDays is 31: it must be 7 to 30, the days KMS accepts"},
		{"window zero", map[string]string{"vault-kms:deletionWindowInDays": "0"}, "deletionWindowInDays is 0: it must be 7 to 30, the days KMS accepts; remove the key for the default"},
		{"window not a number", map[string]string{"vault-kms:deletionWindowInDays": "a week"}, "not a whole number of days"},
		{"secretReaders still set", map[string]string{"vault-kms:secretReaders": `["arn:aws:iam::123456789012:role/a"]`}, "remove the key with `pulumi config rm secretReaders` in stacks/kms"},
		{"administrator not an ARN", map[string]string{"vault-kms:administrators": `["alice"]`}, `administrators[0] "alice" is not an IAM role or user ARN`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runErr(tc.config, nil)
			kittest.Refused(t, err, tc.want)
		})
	}
}
