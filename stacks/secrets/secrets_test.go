package secrets_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/asset"

	"github.com/dbvault/dbvault/stacks/kit"
	"github.com/dbvault/dbvault/stacks/kit/kittest"
	"github.com/dbvault/dbvault/stacks/kit/mock"
	"github.com/dbvault/dbvault/stacks/secrets"
)

const (
	suffix  = "dev"
	account = "123456789012"
	region  = "us-east-1"

	masterSecretArn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-0a1b2c3d-4e5f-6789-abcd-ef0123456789-AbCdEf"
	deployer        = "arn:aws:iam::123456789012:role/vault-deployer"
	rotatorRole     = "arn:aws:iam::123456789012:role/rotator-role-us-east-1-dev"
	ordersReader    = "arn:aws:iam::123456789012:role/orders-api"

	secretsKeyArn = "arn:aws:kms:us-east-1:123456789012:key/33333333-3333-3333-3333-333333333333"
	logsKeyArn    = "arn:aws:kms:us-east-1:123456789012:key/22222222-2222-2222-2222-222222222222"
	alertsKeyArn  = "arn:aws:kms:us-east-1:123456789012:key/44444444-4444-4444-4444-444444444444"
	rotatorSG     = "sg-0r0r0r0r0r0r0r0r0"
	endpoint      = "aurora-cluster-dev.cluster-abc.us-east-1.rds.amazonaws.com"
)

var subnets = []string{"subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"}

func refs() map[string]map[string]mock.Output {
	return map[string]map[string]mock.Output{
		"organization/vault-network/dev": {
			"privateSubnetIds":        {Value: []any{subnets[0], subnets[1]}},
			"availabilityZones":       {Value: []any{"us-east-1a", "us-east-1b"}},
			"rotatorSecurityGroupId":  {Value: rotatorSG},
			"databaseSecurityGroupId": {Value: "sg-0db0db0db0db0db0d"},
		},
		"organization/vault-kms/dev": {
			"secretsKeyArn":  {Value: secretsKeyArn},
			"logsKeyArn":     {Value: logsKeyArn},
			"alertsKeyArn":   {Value: alertsKeyArn},
			"administrators": {Value: []any{deployer}},
		},
		"organization/vault-database/dev": {
			"clusterIdentifier": {Value: "aurora-cluster-dev"},
			"clusterEndpoint":   {Value: endpoint},
			"port":              {Value: 3306.0},
			"masterUsername":    {Value: "dbadmin"},
			"masterSecretArn":   {Value: masterSecretArn},
			"dbName":            {Value: "vault"},
		},
	}
}

func baseConfig(t *testing.T) map[string]string {
	return kittest.Config(kit.SecretsProject, map[string]string{"vault-secrets:rotatorZip": mock.WriteRotatorZip(t, t.TempDir(), "#!/bin/true")})
}

func runWith(t *testing.T, config map[string]string, stacks map[string]map[string]mock.Output) (mock.Result, error) {
	t.Helper()
	if stacks == nil {
		stacks = refs()
	}
	return mock.Run(secrets.Layer, mock.RunOptions{Stack: "dev", Config: config, StackOutputs: stacks})
}

func deploy(t *testing.T) mock.Result {
	t.Helper()
	return deployWith(t, nil)
}

// deployWith runs the layer with baseConfig and extra over it, and fails t
// if the run fails.
func deployWith(t *testing.T, extra map[string]string) mock.Result {
	t.Helper()
	cfg := baseConfig(t)
	maps.Copy(cfg, extra)
	return kittest.Run(t, secrets.Layer, mock.RunOptions{Stack: "dev", Config: cfg, StackOutputs: refs()})
}

// The readers of what a run registered and of its policies (kittest), by
// the short names the tests use on nearly every line.
var (
	get   = kittest.Get
	named = kittest.Named
	one   = kittest.One
	plain = kittest.Plain
	str   = kittest.Str
	strs  = kittest.Strs
	list  = kittest.List
)

func num(r mock.Resource, path ...string) float64 {
	v := get(r, path...)
	if !v.IsNumber() {
		return -1
	}
	return v.NumberValue()
}

func isTrue(r mock.Resource, path ...string) bool {
	v := get(r, path...)
	return v.IsBool() && v.BoolValue()
}

// statement is one parsed policy statement, Action and Resource as lists.
type statement struct {
	Sid       string
	Effect    string
	Principal any
	Action    []string
	NotAction []string
	Resource  []string
	Condition map[string]map[string]any
}

// policy is a policy document by statement id.
func policy(t *testing.T, doc string) map[string]statement {
	t.Helper()
	out := map[string]statement{}
	for sid, s := range kittest.BySid(t, doc) {
		out[sid] = statement{s.Sid, s.Effect, s.Principal, list(s.Action), list(s.NotAction), list(s.Resource), s.Condition}
	}
	return out
}

// starResourceActions are the actions AWS's Service Authorization Reference
// lists without a resource type: the only ones a policy may grant on "*".
var starResourceActions = []string{"secretsmanager:GetRandomPassword", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"}

// checkLeastPrivilege checks every Allow: no wildcard action, "*" resources
// only for starResourceActions, no NotAction/NotResource (not in the type).
func checkLeastPrivilege(t *testing.T, where string, stmts map[string]statement) {
	t.Helper()
	for _, s := range stmts {
		if s.Effect != "Allow" {
			continue
		}
		for _, a := range s.Action {
			if a == "*" || strings.HasSuffix(a, ":*") {
				t.Errorf("%s %s: wildcard action %q", where, s.Sid, a)
			}
		}
		if slices.Contains(s.Resource, "*") {
			for _, a := range s.Action {
				if !slices.Contains(starResourceActions, a) {
					t.Errorf("%s %s: %s on \"*\", but it takes resources", where, s.Sid, a)
				}
			}
		}
		if len(s.Resource) == 0 && s.Principal == nil {
			t.Errorf("%s %s: no resource", where, s.Sid)
		}
	}
}

func TestComponentAndResources(t *testing.T) {
	res := deploy(t)
	counts := kittest.Children(t, res, "dbvault:secrets:Vault")
	kittest.Destroyable(t, res)
	want := map[string]int{
		"aws:secretsmanager/secret:Secret":                       1,
		"aws:secretsmanager/secretVersion:SecretVersion":         1,
		"aws:secretsmanager/secretRotation:SecretRotation":       1,
		"aws:secretsmanager/secretPolicy:SecretPolicy":           2,
		"aws:cloudwatch/logGroup:LogGroup":                       2,
		"aws:iam/role:Role":                                      2,
		"aws:iam/rolePolicy:RolePolicy":                          2,
		"aws:lambda/function:Function":                           1,
		"aws:lambda/permission:Permission":                       1,
		"aws:lambda/layerVersion:LayerVersion":                   1,
		"aws:sns/topic:Topic":                                    1,
		"aws:sns/topicPolicy:TopicPolicy":                        1,
		"aws:cloudwatch/eventRule:EventRule":                     4,
		"aws:cloudwatch/eventTarget:EventTarget":                 4,
		"aws:cloudwatch/metricAlarm:MetricAlarm":                 1,
		"aws:s3/bucketV2:BucketV2":                               1,
		"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": 1,
		"aws:s3/bucketOwnershipControls:BucketOwnershipControls": 1,
		"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": 1,
		"aws:s3/bucketPolicy:BucketPolicy":                                     1,
		"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2": 1,
		"aws:cloudtrail/trail:Trail":                                           1,
	}
	if !maps.Equal(counts, want) {
		t.Errorf("resources = %v\nwant %v", counts, want)
	}
}

// untaggable are the types whose arguments have no tags (the provider cannot
// tag them); every other resource must carry the compliance tags.
var untaggable = []string{
	"aws:secretsmanager/secretVersion:SecretVersion",
	"aws:secretsmanager/secretRotation:SecretRotation",
	"aws:secretsmanager/secretPolicy:SecretPolicy",
	"aws:iam/rolePolicy:RolePolicy",
	"aws:lambda/permission:Permission",
	"aws:sns/topicPolicy:TopicPolicy",
	"aws:sns/topicSubscription:TopicSubscription",
	"aws:cloudwatch/eventTarget:EventTarget",
	"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
	"aws:s3/bucketOwnershipControls:BucketOwnershipControls",
	"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
	"aws:s3/bucketPolicy:BucketPolicy",
	"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
}

func TestEveryResourceTaggedAndNamedWithSuffix(t *testing.T) {
	res := deployWith(t, map[string]string{"vault-secrets:alertEmail": "oncall@example.com"})
	nameKey := map[string]string{"aws:s3/bucketV2:BucketV2": "bucket", "aws:lambda/permission:Permission": "statementId"}
	for _, p := range res.TaggingProblems() {
		t.Error(p)
	}
	for _, r := range res.Resources {
		if !r.Custom {
			continue
		}
		if slices.Contains(untaggable, r.Type) {
			if !get(r, "tags").IsNull() {
				t.Errorf("%s is listed untaggable but has tags", r.Type)
			}
		} else {
			kittest.CheckTags(t, r, kit.Tags{Environment: suffix, CostCenter: kit.DefaultCostCenter, Compliance: kit.DefaultCompliance})
		}
		key := "name"
		if k, ok := nameKey[r.Type]; ok {
			key = k
		}
		name := str(r, key)
		switch {
		case r.Type == "aws:s3/bucketV2:BucketV2":
			// The documented exception: bucket names are global.
			if name != "cloudtrail-us-east-1-dev-"+account {
				t.Errorf("bucket name %q, want cloudtrail-us-east-1-dev-%s", name, account)
			}
		case name == "":
			// Types without a name of their own (versions, attachments).
		case r.Type == "aws:lambda/permission:Permission":
		case !strings.HasSuffix(name, "-"+suffix):
			t.Errorf("%s %s: name %q does not end in -%s", r.Type, r.Name, name, suffix)
		}
	}
}

func TestSecretAndItsFirstVersion(t *testing.T) {
	res := deploy(t)
	s := one(t, res, "aws:secretsmanager/secret:Secret")
	if str(s, "name") != "db-credentials-app-dev" || str(s, "kmsKeyId") != secretsKeyArn || num(s, "recoveryWindowInDays") != 0 {
		t.Errorf("secret: name %q key %q recovery window %v", str(s, "name"), str(s, "kmsKeyId"), num(s, "recoveryWindowInDays"))
	}
	if !get(s, "recoveryWindowInDays").IsNumber() {
		t.Error("recoveryWindowInDays is not set: AWS would default to 30 days and block a rebuild")
	}
	v := one(t, res, "aws:secretsmanager/secretVersion:SecretVersion")
	raw := v.Inputs["secretString"]
	// The SDK marks secretString secret whatever it holds; what matters is
	// that it holds nothing secret.
	var body map[string]any
	if err := json.Unmarshal([]byte(plain(raw).StringValue()), &body); err != nil {
		t.Fatalf("secretString is not JSON: %v", err)
	}
	// AWS's shape for a MySQL secret rotated with alternating users, with
	// masterarn the RDS-managed master secret, and no password yet: the
	// first rotation creates the user and its password.
	want := map[string]any{
		"engine": "aurora-mysql", "host": endpoint, "port": 3306.0, "username": "app",
		"dbname": "vault", "dbClusterIdentifier": "aurora-cluster-dev", "masterarn": masterSecretArn,
	}
	if !maps.Equal(body, want) {
		t.Errorf("first version = %v\nwant %v", body, want)
	}
	stages := strs(v, "versionStages")
	slices.Sort(stages)
	if !slices.Equal(stages, []string{"AWSCURRENT", secrets.InitialVersionStage}) {
		t.Errorf("versionStages = %v", stages)
	}
	for _, k := range []string{"secretString", "versionStages"} {
		if !slices.Contains(v.Options.IgnoreChanges, k) {
			t.Errorf("secret version does not ignore changes to %s: a later up would undo rotation", k)
		}
	}
	if str(v, "secretId") != str(s, "id") && !strings.Contains(str(v, "secretId"), "db-credentials-app-dev") {
		t.Errorf("version's secretId %q is not the secret", str(v, "secretId"))
	}
}

func TestRotatorFunction(t *testing.T) {
	cfg := baseConfig(t)
	res, err := runWith(t, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	fn := one(t, res, "aws:lambda/function:Function")
	checks := map[string]string{
		"name": "rotator-dev", "runtime": "provided.al2023", "handler": "bootstrap",
	}
	for k, want := range checks {
		if got := str(fn, k); got != want {
			t.Errorf("function %s = %q, want %q", k, got, want)
		}
	}
	if got := strs(fn, "architectures"); !slices.Equal(got, []string{"arm64"}) {
		t.Errorf("architectures = %v", got)
	}
	if to := num(fn, "timeout"); to <= 0 || to > 300 {
		t.Errorf("timeout %v, want 1..300", to)
	}
	if got := strs(fn, "vpcConfig", "subnetIds"); !slices.Equal(got, subnets) {
		t.Errorf("subnets = %v", got)
	}
	if got := strs(fn, "vpcConfig", "securityGroupIds"); !slices.Equal(got, []string{rotatorSG}) {
		t.Errorf("security groups = %v", got)
	}
	env := map[string]string{
		"SECRETS_MANAGER_ENDPOINT": "https://secretsmanager.us-east-1.amazonaws.com",
		"DB_TLS":                   "verify-full",
		"PASSWORD_LENGTH":          "32",
		"EXCLUDE_CHARACTERS":       secrets.DefaultExcludeCharacters,
	}
	env["MASTER_SECRET_ARN"] = masterSecretArn
	env["DB_HOST"] = endpoint
	env["DB_PORT"] = "3306"
	env["APP_USERS_FILE"] = "/opt/dbvault/app-users.json"
	env["DECLARED_ONLY"] = "true"
	if got := declarations(t, res); got != `{"db-credentials-app-dev":{"username":"app","database":"vault","privileges":["SELECT","INSERT","UPDATE","DELETE"]}}` {
		t.Errorf("declarations = %s", got)
	}
	layer := one(t, res, "aws:lambda/layerVersion:LayerVersion")
	if got := strs(fn, "layers"); len(got) != 1 || got[0] != "arn:aws:lambda:us-east-1:123456789012:layer:declarations-dev:1" {
		t.Errorf("layers = %v, want the declarations layer's version", got)
	}
	if str(layer, "layerName") != "declarations-dev" || !slices.Equal(strs(layer, "compatibleRuntimes"), []string{"provided.al2023"}) || !slices.Equal(strs(layer, "compatibleArchitectures"), []string{"arm64"}) {
		t.Errorf("declarations layer %v", layer.Inputs)
	}
	for k, want := range env {
		if got := str(fn, "environment", "variables", k); got != want {
			t.Errorf("env %s = %q, want %q", k, got, want)
		}
	}
	code := fn.Inputs["code"]
	if !code.IsArchive() || code.ArchiveValue().Path != cfg["vault-secrets:rotatorZip"] {
		t.Errorf("code = %v, want the zip %s", code, cfg["vault-secrets:rotatorZip"])
	}
	b, err := os.ReadFile(cfg["vault-secrets:rotatorZip"])
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if got := str(fn, "sourceCodeHash"); got != base64.StdEncoding.EncodeToString(sum[:]) {
		t.Errorf("sourceCodeHash = %q, want the zip's base64 SHA-256", got)
	}
	logs := named(t, res, "aws:cloudwatch/logGroup:LogGroup", "rotator-logs")
	if str(logs, "name") != "/aws/lambda/rotator-dev" || str(logs, "kmsKeyId") != logsKeyArn || num(logs, "retentionInDays") != float64(secrets.DefaultLogRetentionDays) {
		t.Errorf("rotator log group: %q %q %v", str(logs, "name"), str(logs, "kmsKeyId"), num(logs, "retentionInDays"))
	}
	if str(fn, "loggingConfig", "logFormat") != "JSON" || str(fn, "loggingConfig", "logGroup") != "/aws/lambda/rotator-dev" {
		t.Errorf("loggingConfig = %v", get(fn, "loggingConfig"))
	}
	// INFO keeps Lambda's REPORT lines (duration, memory, init duration).
	if got := str(fn, "loggingConfig", "systemLogLevel"); got != "INFO" {
		t.Errorf("systemLogLevel = %q, want INFO", got)
	}
	policy := named(t, res, "aws:iam/rolePolicy:RolePolicy", "rotator-policy")
	for _, dep := range []string{policy.URN, logs.URN} {
		if !slices.Contains(fn.Options.DependsOn, dep) {
			t.Errorf("function does not depend on %s", dep)
		}
	}
	role := named(t, res, "aws:iam/role:Role", "rotator-role")
	if str(fn, "role") != rotatorRole || str(role, "name") != "rotator-role-us-east-1-dev" {
		t.Errorf("function role %q", str(fn, "role"))
	}
}

func TestSourceCodeHashFollowsTheZip(t *testing.T) {
	hash := func(content string) string {
		res := deployWith(t, map[string]string{"vault-secrets:rotatorZip": mock.WriteRotatorZip(t, t.TempDir(), content)})
		h := str(one(t, res, "aws:lambda/function:Function"), "sourceCodeHash")
		// The output verify compares with the function's CodeSha256.
		if out := res.Outputs["rotatorCodeSha256"].Value; out != h {
			t.Errorf("rotatorCodeSha256 = %v, want the sourceCodeHash %s", out, h)
		}
		return h
	}
	a, a2, b := hash("code v1"), hash("code v1"), hash("code v2")
	if a == "" || a != a2 {
		t.Errorf("the same zip content gave %q and %q", a, a2)
	}
	if a == b {
		t.Error("different code gave the same sourceCodeHash: a deploy would not update the function")
	}
}

func TestRotatorRoleIsLeastPrivilege(t *testing.T) {
	res := deploy(t)
	secretArn := fmt.Sprint(res.Outputs["secretArn"].Value)
	if !strings.Contains(secretArn, ":secret:db-credentials-app-dev-") {
		t.Fatalf("secretArn = %s, want the app user's secret", secretArn)
	}
	role := named(t, res, "aws:iam/role:Role", "rotator-role")
	trust := policy(t, str(role, "assumeRolePolicy"))
	if len(trust) != 1 {
		t.Fatalf("trust policy has %d statements", len(trust))
	}
	for _, s := range trust {
		p, _ := s.Principal.(map[string]any)
		if s.Effect != "Allow" || p["Service"] != "lambda.amazonaws.com" || !slices.Equal(s.Action, []string{"sts:AssumeRole"}) {
			t.Errorf("trust statement %+v", s)
		}
		if s.Condition["StringEquals"]["aws:SourceAccount"] != account {
			t.Errorf("trust statement lacks aws:SourceAccount = %s: %v", account, s.Condition)
		}
	}

	rp := named(t, res, "aws:iam/rolePolicy:RolePolicy", "rotator-policy")
	stmts := policy(t, str(rp, "policy"))
	checkLeastPrivilege(t, "rotator policy", stmts)
	arn := func(rest string) string { return "arn:aws:ec2:" + region + ":" + account + ":" + rest }
	logGroupArn := "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/rotator-dev"
	want := map[string]statement{
		"RotateTheApplicationSecrets": {Action: []string{"secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:ListSecretVersionIds", "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"}, Resource: []string{secretArn}},
		// The master secret is read, never written: RDS rotates it.
		"ReadTheMasterSecret": {Action: []string{"secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"}, Resource: []string{masterSecretArn}},
		"GeneratePasswords":   {Action: []string{"secretsmanager:GetRandomPassword"}, Resource: []string{"*"}},
		"EncryptAndDecryptTheApplicationSecrets": {
			Action: []string{"kms:Decrypt", "kms:GenerateDataKey"}, Resource: []string{secretsKeyArn},
			Condition: map[string]map[string]any{"StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com", "kms:EncryptionContext:SecretARN": []any{secretArn}}},
		},
		"DecryptTheMasterSecret": {
			Action: []string{"kms:Decrypt"}, Resource: []string{secretsKeyArn},
			Condition: map[string]map[string]any{"StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com", "kms:EncryptionContext:SecretARN": masterSecretArn}},
		},
		"WriteOwnLogs": {Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"}, Resource: []string{logGroupArn, logGroupArn + ":log-stream:*"}},
		"CreateInterfacesInTheVaultSubnetsOnly": {
			Action:   []string{"ec2:CreateNetworkInterface"},
			Resource: []string{arn("network-interface/*"), arn("subnet/" + subnets[0]), arn("subnet/" + subnets[1]), arn("security-group/" + rotatorSG)},
		},
		// Lambda's create-time check: AWS's documented form, */* of this
		// account and region, not network-interface/*.
		"ManageOwnInterfaces": {Action: []string{"ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"}, Resource: []string{arn("*/*")}},
		"DescribeInterfaces":  {Action: []string{"ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"}, Resource: []string{"*"}},
	}
	if got, exp := slices.Sorted(maps.Keys(stmts)), slices.Sorted(maps.Keys(want)); !slices.Equal(got, exp) {
		t.Fatalf("statements %v, want %v", got, exp)
	}
	for sid, w := range want {
		s := stmts[sid]
		if s.Effect != "Allow" || !slices.Equal(s.Action, w.Action) || !slices.Equal(s.Resource, w.Resource) {
			t.Errorf("%s = %+v\nwant actions %v on %v", sid, s, w.Action, w.Resource)
		}
		if fmt.Sprint(s.Condition) != fmt.Sprint(w.Condition) {
			t.Errorf("%s conditions %v, want %v", sid, s.Condition, w.Condition)
		}
	}
}

func TestPermissionAndRotation(t *testing.T) {
	res := deploy(t)
	secretArn := fmt.Sprint(res.Outputs["secretArn"].Value)
	p := one(t, res, "aws:lambda/permission:Permission")
	if str(p, "principal") != "secretsmanager.amazonaws.com" || str(p, "action") != "lambda:InvokeFunction" ||
		str(p, "sourceAccount") != account || str(p, "sourceArn") != secretArn || str(p, "function") != "rotator-dev" {
		t.Errorf("permission = %v", p.Inputs)
	}
	r := one(t, res, "aws:secretsmanager/secretRotation:SecretRotation")
	if num(r, "rotationRules", "automaticallyAfterDays") != 30 || !isTrue(r, "rotateImmediately") {
		t.Errorf("rotation rules %v, rotateImmediately %v", get(r, "rotationRules"), get(r, "rotateImmediately"))
	}
	if str(r, "rotationLambdaArn") != fmt.Sprint(res.Outputs["rotatorFunctionArn"].Value) || str(r, "secretId") != secretArn {
		t.Errorf("rotation names %q for %q", str(r, "rotationLambdaArn"), str(r, "secretId"))
	}
	for _, dep := range []mock.Resource{one(t, res, "aws:secretsmanager/secretVersion:SecretVersion"), p, named(t, res, "aws:secretsmanager/secretPolicy:SecretPolicy", "secret-policy-app")} {
		if !slices.Contains(r.Options.DependsOn, dep.URN) {
			t.Errorf("rotation does not depend on %s", dep.URN)
		}
	}

	res = deployWith(t, map[string]string{"vault-secrets:rotationDays": "7"})
	if got := num(one(t, res, "aws:secretsmanager/secretRotation:SecretRotation"), "rotationRules", "automaticallyAfterDays"); got != 7 {
		t.Errorf("rotationDays 7 gave %v", got)
	}
}

func TestAlerts(t *testing.T) {
	res := deploy(t)
	topic := one(t, res, "aws:sns/topic:Topic")
	topicArn := "arn:aws:sns:us-east-1:123456789012:vault-alerts-dev"
	if str(topic, "name") != "vault-alerts-dev" || str(topic, "kmsMasterKeyId") != alertsKeyArn {
		t.Errorf("topic %q key %q", str(topic, "name"), str(topic, "kmsMasterKeyId"))
	}
	tp := one(t, res, "aws:sns/topicPolicy:TopicPolicy")
	stmts := policy(t, str(tp, "policy"))
	sources := map[string]string{
		"events.amazonaws.com":     "[arn:aws:events:us-east-1:123456789012:rule/rotation-failed-dev arn:aws:events:us-east-1:123456789012:rule/secret-changes-dev arn:aws:events:us-east-1:123456789012:rule/rotator-changes-dev arn:aws:events:us-east-1:123456789012:rule/alert-changes-dev]",
		"cloudwatch.amazonaws.com": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:rotator-errors-dev",
	}
	if len(stmts) != 2 {
		t.Errorf("topic policy has %d statements, want 2", len(stmts))
	}
	for _, s := range stmts {
		svc, _ := s.Principal.(map[string]any)["Service"].(string)
		src, ok := sources[svc]
		if !ok || s.Effect != "Allow" || !slices.Equal(s.Action, []string{"sns:Publish"}) || !slices.Equal(s.Resource, []string{topicArn}) {
			t.Errorf("topic statement %+v", s)
			continue
		}
		if s.Condition["StringEquals"]["aws:SourceAccount"] != account || fmt.Sprint(s.Condition["ArnEquals"]["aws:SourceArn"]) != src {
			t.Errorf("%s statement conditions %v, want SourceAccount and SourceArn %s", svc, s.Condition, src)
		}
	}
	rule := named(t, res, "aws:cloudwatch/eventRule:EventRule", "rotation-failed")
	var pattern map[string]any
	if err := json.Unmarshal([]byte(str(rule, "eventPattern")), &pattern); err != nil {
		t.Fatal(err)
	}
	// Failed and abandoned rotations of this vault's secrets (the
	// application secrets and RDS's master secret, each by ARN, partial ARN
	// or name), not of every secret of the account and region.
	app := fmt.Sprint(res.Outputs["secretArn"].Value)
	masterName := strings.TrimPrefix(masterSecretArn[:len(masterSecretArn)-7], "arn:aws:secretsmanager:us-east-1:123456789012:secret:")
	if fmt.Sprint(pattern) != fmt.Sprint(map[string]any{
		"source": []any{"aws.secretsmanager"}, "detail-type": []any{"AWS Service Event via CloudTrail"},
		"detail": map[string]any{
			"eventName": []any{"RotationFailed", "RotationAbandoned"},
			"additionalEventData": map[string]any{"SecretId": []any{
				app, app[:len(app)-7], "db-credentials-app-dev",
				masterSecretArn, masterSecretArn[:len(masterSecretArn)-7], masterName}},
		},
	}) {
		t.Errorf("event pattern %v", pattern)
	}
	if got := res.Outputs["rotationFailedRuleName"].Value; got != "rotation-failed-dev" {
		t.Errorf("rotationFailedRuleName = %v", got)
	}
	// The first, immediate rotation is watched: it waits for the alert.
	rotation := one(t, res, "aws:secretsmanager/secretRotation:SecretRotation")
	if !slices.Contains(rotation.Options.DependsOn, named(t, res, "aws:cloudwatch/eventTarget:EventTarget", "rotation-failed-alert").URN) {
		t.Error("the rotation does not wait for the alert's target: a failure of the first rotation would go unseen")
	}
	target := named(t, res, "aws:cloudwatch/eventTarget:EventTarget", "rotation-failed-alert")
	if str(target, "arn") != topicArn || str(target, "rule") != "rotation-failed-dev" {
		t.Errorf("target %v", target.Inputs)
	}
	alarm := one(t, res, "aws:cloudwatch/metricAlarm:MetricAlarm")
	if str(alarm, "namespace") != "AWS/Lambda" || str(alarm, "metricName") != "Errors" || str(alarm, "dimensions", "FunctionName") != "rotator-dev" ||
		str(alarm, "comparisonOperator") != "GreaterThanThreshold" || num(alarm, "threshold") != 0 || !slices.Equal(strs(alarm, "alarmActions"), []string{topicArn}) {
		t.Errorf("alarm %v", alarm.Inputs)
	}
	if n := len(res.ByType("aws:sns/topicSubscription:TopicSubscription")); n != 0 {
		t.Errorf("%d subscriptions without alertEmail", n)
	}

	res = deployWith(t, map[string]string{"vault-secrets:alertEmail": "oncall@example.com"})
	sub := one(t, res, "aws:sns/topicSubscription:TopicSubscription")
	if str(sub, "protocol") != "email" || str(sub, "endpoint") != "oncall@example.com" || str(sub, "topic") != topicArn {
		t.Errorf("subscription %v", sub.Inputs)
	}
}

func TestTrail(t *testing.T) {
	res := deploy(t)
	trail := one(t, res, "aws:cloudtrail/trail:Trail")
	trailArn := "arn:aws:cloudtrail:us-east-1:123456789012:trail/trail-dev"
	bucketName := "cloudtrail-us-east-1-dev-" + account
	// The default selector (all management events) is not set: the
	// provider reads it back as an empty list, a change on every up.
	if _, ok := trail.Inputs["eventSelectors"]; ok {
		t.Error("the trail sets eventSelectors; the default already records all management events")
	}
	if str(trail, "name") != "trail-dev" || !isTrue(trail, "enableLogFileValidation") || str(trail, "kmsKeyId") != logsKeyArn || str(trail, "s3BucketName") != bucketName {
		t.Errorf("trail %v", trail.Inputs)
	}
	logs := named(t, res, "aws:cloudwatch/logGroup:LogGroup", "trail-logs")
	logsArn := "arn:aws:logs:us-east-1:123456789012:log-group:/aws/cloudtrail/trail-dev"
	if str(logs, "kmsKeyId") != logsKeyArn || num(logs, "retentionInDays") <= 0 || str(trail, "cloudWatchLogsGroupArn") != logsArn+":*" {
		t.Errorf("trail log group %v / %q", logs.Inputs, str(trail, "cloudWatchLogsGroupArn"))
	}
	role := named(t, res, "aws:iam/role:Role", "trail-logs-role")
	if str(trail, "cloudWatchLogsRoleArn") != "arn:aws:iam::123456789012:role/trail-logs-role-us-east-1-dev" {
		t.Errorf("trail role %q", str(trail, "cloudWatchLogsRoleArn"))
	}
	for _, s := range policy(t, str(role, "assumeRolePolicy")) {
		if p, _ := s.Principal.(map[string]any); p["Service"] != "cloudtrail.amazonaws.com" || !slices.Equal(s.Action, []string{"sts:AssumeRole"}) {
			t.Errorf("trail role trust %+v", s)
		}
	}
	rp := named(t, res, "aws:iam/rolePolicy:RolePolicy", "trail-logs-policy")
	stmts := policy(t, str(rp, "policy"))
	checkLeastPrivilege(t, "trail logs policy", stmts)
	if s := stmts["DeliverToTheTrailLogGroup"]; !slices.Equal(s.Resource, []string{logsArn + ":log-stream:*"}) {
		t.Errorf("trail logs policy %+v", stmts)
	}

	bucket := one(t, res, "aws:s3/bucketV2:BucketV2")
	if str(bucket, "bucket") != bucketName || !isTrue(bucket, "forceDestroy") {
		t.Errorf("bucket %v: must be cloudtrail-<region>-<suffix>-<account> with forceDestroy", bucket.Inputs)
	}
	pab := one(t, res, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
	for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
		if !isTrue(pab, k) {
			t.Errorf("public access block %s is not true", k)
		}
	}
	sse := one(t, res, "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2")
	rules := get(sse, "rules").ArrayValue()
	if len(rules) != 1 {
		t.Fatalf("%d encryption rules", len(rules))
	}
	byDefault := plain(rules[0]).ObjectValue()["applyServerSideEncryptionByDefault"].ObjectValue()
	if byDefault["sseAlgorithm"].StringValue() != "aws:kms" || byDefault["kmsMasterKeyId"].StringValue() != logsKeyArn {
		t.Errorf("bucket encryption %v", byDefault)
	}
	bp := one(t, res, "aws:s3/bucketPolicy:BucketPolicy")
	bstmts := policy(t, str(bp, "policy"))
	checkLeastPrivilege(t, "bucket policy", bstmts)
	for _, sid := range []string{"CloudTrailAclCheck", "CloudTrailWrite"} {
		s := bstmts[sid]
		if p, _ := s.Principal.(map[string]any); p["Service"] != "cloudtrail.amazonaws.com" || s.Condition["StringEquals"]["aws:SourceArn"] != trailArn {
			t.Errorf("bucket policy %s = %+v, want CloudTrail with aws:SourceArn %s", sid, s, trailArn)
		}
	}
	if got := bstmts["CloudTrailWrite"].Resource; !slices.Equal(got, []string{"arn:aws:s3:::" + bucketName + "/AWSLogs/" + account + "/*"}) {
		t.Errorf("CloudTrail may write %v", got)
	}
	if s := bstmts["TLSOnly"]; s.Effect != "Deny" || s.Condition["Bool"]["aws:SecureTransport"] != "false" {
		t.Errorf("TLSOnly = %+v", s)
	}
	if !slices.Contains(trail.Options.DependsOn, bp.URN) {
		t.Error("trail does not wait for the bucket policy: CreateTrail would fail its bucket check")
	}
	if fmt.Sprint(res.Outputs["trailArn"].Value) != trailArn {
		t.Errorf("trailArn output %v", res.Outputs["trailArn"].Value)
	}
}

// A production environment keeps its secrets and its audit trail.
func TestProductionClassKeepsSecretsAndTrail(t *testing.T) {
	cfg := baseConfig(t)
	cfg["vault-secrets:environmentClass"] = "production"
	res, err := runWith(t, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := one(t, res, "aws:secretsmanager/secret:Secret")
	if num(s, "recoveryWindowInDays") != 30 || !s.Options.Protect {
		t.Errorf("production secret: recovery window %v, protect %v", num(s, "recoveryWindowInDays"), s.Options.Protect)
	}
	bucket := one(t, res, "aws:s3/bucketV2:BucketV2")
	if isTrue(bucket, "forceDestroy") || !isTrue(bucket, "objectLockEnabled") || !bucket.Options.Protect {
		t.Errorf("production trail bucket %v (protect %v): want no forceDestroy, Object Lock, protect", bucket.Inputs, bucket.Options.Protect)
	}
	if v := one(t, res, "aws:s3/bucketVersioningV2:BucketVersioningV2"); str(v, "versioningConfiguration", "status") != "Enabled" {
		t.Errorf("versioning %v", v.Inputs)
	}
	lock := one(t, res, "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2")
	if str(lock, "rule", "defaultRetention", "mode") != "GOVERNANCE" || num(lock, "rule", "defaultRetention", "days") != 365 {
		t.Errorf("object lock %v", lock.Inputs)
	}
	for _, lg := range res.ByType("aws:cloudwatch/logGroup:LogGroup") {
		if num(lg, "retentionInDays") < 365 {
			t.Errorf("%s keeps logs %v days in production", lg.Name, num(lg, "retentionInDays"))
		}
	}
	cfg["vault-secrets:logRetentionDays"] = "30"
	if _, err := runWith(t, cfg, nil); err == nil || !strings.Contains(err.Error(), "a production environment keeps logs at least 365 days") {
		t.Errorf("production with 30 days of logs: %v", err)
	}
	// Ephemeral: nothing protected, nothing locked, deleted at once.
	res = deploy(t)
	for _, typ := range []string{"aws:s3/bucketVersioningV2:BucketVersioningV2", "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2"} {
		if n := len(res.ByType(typ)); n != 0 {
			t.Errorf("%d %s in an ephemeral environment", n, typ)
		}
	}
}

func TestExistingTrailCreatesNone(t *testing.T) {
	res := deployWith(t, map[string]string{"vault-secrets:existingTrailName": "org-trail"})
	for _, typ := range []string{"aws:cloudtrail/trail:Trail", "aws:s3/bucketV2:BucketV2", "aws:s3/bucketPolicy:BucketPolicy"} {
		if n := len(res.ByType(typ)); n != 0 {
			t.Errorf("%d %s with an existing trail", n, typ)
		}
	}
	if n := len(res.ByType("aws:iam/role:Role")); n != 1 {
		t.Errorf("%d roles, want only the rotator's", n)
	}
	if got := res.Outputs["trailArn"].Value; got != "arn:aws:cloudtrail:us-east-1:123456789012:trail/org-trail" {
		t.Errorf("trailArn output %v, want the existing trail's ARN", got)
	}
	res = deployWith(t, map[string]string{"vault-secrets:existingTrailName": "arn:aws:cloudtrail:us-east-1:210987654321:trail/org"})
	if got := res.Outputs["trailArn"].Value; got != "arn:aws:cloudtrail:us-east-1:210987654321:trail/org" {
		t.Errorf("trailArn output %v, want the ARN as given", got)
	}
}

func TestStackReferences(t *testing.T) {
	res := deploy(t)
	want := []string{"organization/vault-database/dev", "organization/vault-kms/dev", "organization/vault-network/dev"}
	if !slices.Equal(res.References, want) {
		t.Errorf("references = %v, want %v", res.References, want)
	}
	cfg := baseConfig(t)
	cfg["vault-secrets:networkStack"] = "acme/vault-network/shared"
	cfg["vault-secrets:kmsStack"] = "acme/vault-kms/shared"
	cfg["vault-secrets:databaseStack"] = "acme/vault-database/blue"
	r := refs()
	res, err := runWith(t, cfg, map[string]map[string]mock.Output{
		"acme/vault-network/shared": r["organization/vault-network/dev"],
		"acme/vault-kms/shared":     r["organization/vault-kms/dev"],
		"acme/vault-database/blue":  r["organization/vault-database/dev"],
	})
	if err != nil {
		t.Fatal(err)
	}
	want = []string{"acme/vault-database/blue", "acme/vault-kms/shared", "acme/vault-network/shared"}
	if !slices.Equal(res.References, want) {
		t.Errorf("references = %v, want %v", res.References, want)
	}
}

func TestOutputsAndNoPassword(t *testing.T) {
	res := deploy(t)
	want := map[string]string{
		"secretName":          "db-credentials-app-dev",
		"masterSecretArn":     masterSecretArn,
		"rotatorFunctionName": "rotator-dev",
		"rotatorFunctionArn":  "arn:aws:lambda:us-east-1:123456789012:function:rotator-dev",
		"rotatorRoleArn":      rotatorRole,
		"alertsTopicArn":      "arn:aws:sns:us-east-1:123456789012:vault-alerts-dev",
	}
	for k, v := range want {
		if o := res.Outputs[k]; o.Value != v || o.Secret {
			t.Errorf("output %s = %+v, want %q", k, o, v)
		}
	}
	secretArn, _ := res.Outputs["secretArn"].Value.(string)
	if !strings.HasPrefix(secretArn, "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-credentials-app-dev-") {
		t.Errorf("secretArn = %q", secretArn)
	}
	if got := fmt.Sprint(res.Outputs["appSecretArns"].Value); got != "map[app:"+secretArn+"]" {
		t.Errorf("appSecretArns = %s, want app -> secretArn", got)
	}
	// Nothing the layer holds is secret: no password enters Pulumi.
	for k, o := range res.Outputs {
		if o.Secret {
			t.Errorf("output %s is a secret", k)
		}
	}
	for _, r := range res.Resources {
		for k, v := range r.Inputs {
			// secretString: the SDK marks it secret whatever it holds
			// (TestSecretAndItsFirstVersion checks it has no password).
			if v.ContainsSecrets() && k != "secretString" {
				t.Errorf("%s %s: input %s is a secret", r.Type, r.Name, k)
			}
		}
	}
}

// usersConfig declares two application users: orders (read by its role, on
// its own database) and reporting (read-only, on the cluster's database).
func usersConfig(t *testing.T) map[string]string {
	cfg := baseConfig(t)
	cfg["vault-secrets:appUsers"] = `[
		{"name": "orders", "database": "orders", "privileges": ["select", "INSERT", "update", "DELETE", "create temporary  tables"], "readers": ["` + ordersReader + `"]},
		{"name": "reporting", "privileges": ["SELECT"]}
	]`
	return cfg
}

func TestApplicationUsersFromConfig(t *testing.T) {
	res, err := runWith(t, usersConfig(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	secretsByName := map[string]mock.Resource{}
	for _, s := range res.ByType("aws:secretsmanager/secret:Secret") {
		secretsByName[str(s, "name")] = s
	}
	if got := slices.Sorted(maps.Keys(secretsByName)); !slices.Equal(got, []string{"db-credentials-orders-dev", "db-credentials-reporting-dev"}) {
		t.Fatalf("secrets %v", got)
	}
	for _, typ := range []string{"aws:secretsmanager/secretVersion:SecretVersion", "aws:secretsmanager/secretRotation:SecretRotation", "aws:lambda/permission:Permission"} {
		if n := len(res.ByType(typ)); n != 2 {
			t.Errorf("%s: %d, want one per user", typ, n)
		}
	}
	if n := len(res.ByType("aws:secretsmanager/secretPolicy:SecretPolicy")); n != 3 {
		t.Errorf("%d secret policies, want one per user and the master's", n)
	}
	// The first user's secret is the layer's secretArn.
	if got := fmt.Sprint(res.Outputs["secretArn"].Value); !strings.Contains(got, ":secret:db-credentials-orders-dev-") {
		t.Errorf("secretArn = %s, want the first user's", got)
	}
	arns, _ := res.Outputs["appSecretArns"].Value.(map[string]any)
	if len(arns) != 2 || !strings.Contains(fmt.Sprint(arns["reporting"]), "db-credentials-reporting-dev") {
		t.Errorf("appSecretArns = %v", arns)
	}
	// The declarations reach the rotator's layer, privileges normalised,
	// the default database resolved to the cluster's.
	var env map[string]struct {
		Username   string
		Database   string
		Privileges []string
	}
	if err := json.Unmarshal([]byte(declarations(t, res)), &env); err != nil {
		t.Fatal(err)
	}
	if o := env["db-credentials-orders-dev"]; o.Username != "orders" || o.Database != "orders" ||
		!slices.Equal(o.Privileges, []string{"SELECT", "INSERT", "UPDATE", "DELETE", "CREATE TEMPORARY TABLES"}) {
		t.Errorf("APP_USERS orders = %+v", o)
	}
	if r := env["db-credentials-reporting-dev"]; r.Username != "reporting" || r.Database != "vault" || !slices.Equal(r.Privileges, []string{"SELECT"}) {
		t.Errorf("APP_USERS reporting = %+v", r)
	}
	// The rotator may rotate both secrets.
	stmts := policy(t, str(named(t, res, "aws:iam/rolePolicy:RolePolicy", "rotator-policy"), "policy"))
	if got := stmts["RotateTheApplicationSecrets"].Resource; len(got) != 2 {
		t.Errorf("the rotator may rotate %v, want both secrets", got)
	}
	// Each secret's first version names its own user and database.
	for _, v := range res.ByType("aws:secretsmanager/secretVersion:SecretVersion") {
		var body map[string]any
		if err := json.Unmarshal([]byte(plain(v.Inputs["secretString"]).StringValue()), &body); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"initial-version-orders": "orders/orders", "initial-version-reporting": "reporting/vault"}[v.Name]
		if got := fmt.Sprintf("%v/%v", body["username"], body["dbname"]); got != want {
			t.Errorf("%s names %s, want %s", v.Name, got, want)
		}
		if _, ok := body["password"]; ok {
			t.Errorf("%s has a password", v.Name)
		}
	}
}

// Each application secret is readable only by its readers, the rotator and
// the administrators (the deployer by default, so Pulumi's refresh keeps
// working), writable only by the last two, managed (policy, rotation,
// deletion, replication, tags, and any action AWS adds) only by the
// administrators, and never public. RDS's master secret: read by the
// rotator, the administrators and RDS, written and managed by the last two.
func TestApplicationSecretPolicies(t *testing.T) {
	res, err := runWith(t, usersConfig(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]mock.Resource{}
	for _, p := range res.ByType("aws:secretsmanager/secretPolicy:SecretPolicy") {
		byName[p.Name] = p
		if !isTrue(p, "blockPublicPolicy") {
			t.Errorf("%s: blockPublicPolicy is off", p.Name)
		}
	}
	orders := policy(t, str(byName["secret-policy-orders"], "policy"))
	allow := orders["ReadersReadThisSecret"]
	if allow.Effect != "Allow" || fmt.Sprint(allow.Principal) != "map[AWS:["+ordersReader+"]]" ||
		!slices.Equal(allow.Action, []string{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}) {
		t.Errorf("orders readers statement %+v", allow)
	}
	checkDeny := func(where string, stmts map[string]statement, sid string, actions, notActions, principals []string) {
		t.Helper()
		d := stmts[sid]
		if d.Effect != "Deny" || d.Principal != "*" || !slices.Equal(d.Action, actions) || !slices.Equal(d.NotAction, notActions) {
			t.Errorf("%s %s = %+v", where, sid, d)
		}
		if got := list(d.Condition["ArnNotEquals"]["aws:PrincipalArn"]); !slices.Equal(got, principals) {
			t.Errorf("%s %s: exempt %v, want %v", where, sid, got, principals)
		}
		if d.Condition["BoolIfExists"]["aws:PrincipalIsAWSService"] != "false" || len(d.Condition) != 2 {
			t.Errorf("%s %s: conditions %v, want ArnNotEquals aws:PrincipalArn and BoolIfExists aws:PrincipalIsAWSService false only", where, sid, d.Condition)
		}
	}
	// Everything but these is denied to all but the managers: a list of
	// what may be done, so that an action AWS adds later is denied too.
	notManaging := []string{"secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage",
		"secretsmanager:DescribeSecret", "secretsmanager:ListSecretVersionIds", "secretsmanager:GetResourcePolicy", "secretsmanager:ValidateResourcePolicy"}
	for _, managing := range []string{"UpdateSecret", "RotateSecret", "CancelRotateSecret", "DeleteSecret", "RestoreSecret", "PutResourcePolicy",
		"DeleteResourcePolicy", "ReplicateSecretToRegions", "RemoveRegionsFromReplication", "StopReplicationToReplica", "TagResource", "UntagResource"} {
		if slices.Contains(notManaging, "secretsmanager:"+managing) {
			t.Errorf("secretsmanager:%s is left to anyone", managing)
		}
	}
	checkDeny("orders", orders, "NoOtherReaders", []string{"secretsmanager:GetSecretValue"}, nil, []string{ordersReader, rotatorRole, deployer})
	checkDeny("orders", orders, "NoOtherWriters", []string{"secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"}, nil, []string{rotatorRole, deployer})
	checkDeny("orders", orders, "OnlyAdministratorsManage", nil, notManaging, []string{deployer})
	if len(orders) != 4 {
		t.Errorf("orders: statements %v", slices.Sorted(maps.Keys(orders)))
	}
	reporting := policy(t, str(byName["secret-policy-reporting"], "policy"))
	if _, ok := reporting["ReadersReadThisSecret"]; ok || len(reporting) != 3 {
		t.Errorf("reporting has no readers, but its policy is %v", slices.Sorted(maps.Keys(reporting)))
	}
	checkDeny("reporting", reporting, "NoOtherReaders", []string{"secretsmanager:GetSecretValue"}, nil, []string{rotatorRole, deployer})
	checkDeny("reporting", reporting, "OnlyAdministratorsManage", nil, notManaging, []string{deployer})

	// RDS's master secret: the rotator, the administrators and RDS read;
	// the administrators and RDS alone write and manage.
	master := byName["master-secret-policy"]
	if str(master, "secretArn") != masterSecretArn {
		t.Errorf("master policy on %q", str(master, "secretArn"))
	}
	mstmts := policy(t, str(master, "policy"))
	slr := "arn:aws:iam::" + account + ":role/aws-service-role/rds.amazonaws.com/AWSServiceRoleForRDS"
	checkDeny("master", mstmts, "NoOtherReaders", []string{"secretsmanager:GetSecretValue"}, nil, []string{rotatorRole, deployer, slr})
	checkDeny("master", mstmts, "NoOtherWriters", []string{"secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"}, nil, []string{deployer, slr})
	checkDeny("master", mstmts, "OnlyAdministratorsManage", nil, notManaging, []string{deployer, slr})
	if len(mstmts) != 3 {
		t.Errorf("master: statements %v", slices.Sorted(maps.Keys(mstmts)))
	}

	// The kms layer's administrators are the secrets' administrators.
	admin := "arn:aws:iam::" + account + ":role/platform-admin"
	r := refs()
	r["organization/vault-kms/dev"]["administrators"] = mock.Output{Value: []any{admin, deployer}}
	res, err = runWith(t, usersConfig(t), r)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.ByType("aws:secretsmanager/secretPolicy:SecretPolicy") {
		stmts := policy(t, str(p, "policy"))
		if got := list(stmts["OnlyAdministratorsManage"].Condition["ArnNotEquals"]["aws:PrincipalArn"])[:2]; !slices.Equal(got, []string{admin, deployer}) {
			t.Errorf("%s: managers %v, want %s and %s", p.Name, got, admin, deployer)
		}
	}
}

// The administrators are declared once, in the kms layer: a secrets stack
// that still sets them is refused with the fix. A preview by a principal
// that is not one of the kms layer's administrators is refused with the
// fix, before any secret is created.
func TestAdministratorsComeFromTheKMSLayer(t *testing.T) {
	cfg := baseConfig(t)
	cfg["vault-secrets:administrators"] = `["` + deployer + `"]`
	_, err := runWith(t, cfg, nil)
	if err == nil || !strings.Contains(err.Error(), "declared once, in the kms layer") || !strings.Contains(err.Error(), "`pulumi config rm administrators` in stacks/secrets") {
		t.Errorf("administrators set in the secrets stack: err = %v", err)
	}
	r := refs()
	r["organization/vault-kms/dev"]["administrators"] = mock.Output{Value: []any{"arn:aws:iam::123456789012:role/someone-else"}}
	_, err = runWith(t, baseConfig(t), r)
	want := "add " + deployer + " to administrators in stacks/kms and run up:kms, or deploy as one of them"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("deployer not an administrator: err = %v, want one containing %q", err, want)
	}
	r = refs()
	delete(r["organization/vault-kms/dev"], "administrators")
	if _, err := runWith(t, baseConfig(t), r); err == nil || !strings.Contains(err.Error(), "organization/vault-kms/dev has no output administrators") {
		t.Errorf("kms stack without administrators: err = %v", err)
	}
}

func TestDefaultZipIsFoundAtTheRepositoryRoot(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "go.work"), []byte("go 1.26\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	zipPath := mock.WriteRotatorZip(t, filepath.Join(root, "functions", "rotator", "dist"), "bootstrap")
	wd := filepath.Join(root, "stacks", "secrets")
	if err := os.MkdirAll(wd, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(wd)
	res, err := runWith(t, map[string]string{"vault-secrets:environmentSuffix": suffix}, nil)
	if err != nil {
		t.Fatal(err)
	}
	fn := one(t, res, "aws:lambda/function:Function")
	if got := fn.Inputs["code"].ArchiveValue().Path; got != zipPath {
		t.Errorf("code from %q, want %q", got, zipPath)
	}
}

func TestBadConfigIsRefused(t *testing.T) {
	cases := []struct {
		name    string
		set     map[string]string
		unset   string
		wantErr string
	}{
		{"missing suffix", nil, "vault-secrets:environmentSuffix", "environmentSuffix is required"},
		{"malformed suffix", map[string]string{"vault-secrets:environmentSuffix": "-dev"}, "", "lower-case letters, digits and single hyphens"},
		{"rotationDays 0", map[string]string{"vault-secrets:rotationDays": "0"}, "", "rotationDays is 0; remove the key for its default"},
		{"rotationDays 31", map[string]string{"vault-secrets:rotationDays": "31"}, "", "RotationDays is 31; it must be from 1 to 30"},
		{"rotationDays word", map[string]string{"vault-secrets:rotationDays": "monthly"}, "", "must be a whole number"},
		{"missing zip", map[string]string{"vault-secrets:rotatorZip": "functions/rotator/dist/missing-for-test.zip"}, "", "build the rotator first: go run mage.go dev:build"},
		{"zip is a directory", map[string]string{"vault-secrets:rotatorZip": os.TempDir()}, "", "is a directory"},
		{"password too long for Aurora", map[string]string{"vault-secrets:passwordLength": "42"}, "", "from 8 to 41"},
		{"exclusions allow @", map[string]string{"vault-secrets:excludeCharacters": `/"'`}, "", "ExcludeCharacters must contain"},
		{"bad e-mail", map[string]string{"vault-secrets:alertEmail": "oncall"}, "", "not an e-mail address"},
		{"bad trail", map[string]string{"vault-secrets:existingTrailName": "a b"}, "", "neither a trail name nor a trail ARN"},
		{"log retention", map[string]string{"vault-secrets:logRetentionDays": "10"}, "", "CloudWatch Logs accepts only"},
		{"appUsers not a list", map[string]string{"vault-secrets:appUsers": `{"name":"app"}`}, "", "appUsers is not valid"},
		{"appUsers misspelt key", map[string]string{"vault-secrets:appUsers": `[{"name":"app","privilege":["SELECT"]}]`}, "", `unknown field "privilege"`},
		{"appUsers empty", map[string]string{"vault-secrets:appUsers": `[]`}, "", "appUsers is empty"},
		{"unknown privilege", users(`{"name":"app","privileges":["SELECT","SUPER"]}`), "", `appUsers[0] (app): privilege "SUPER" is not one the vault grants`},
		{"ALL PRIVILEGES", users(`{"name":"app","privileges":["ALL PRIVILEGES"]}`), "", "is not one the vault grants"},
		{"GRANT OPTION", users(`{"name":"app","privileges":["GRANT OPTION"]}`), "", "is not one the vault grants"},
		{"no privileges", users(`{"name":"app"}`), "", "appUsers[0] (app): privileges is empty"},
		{"privilege twice", users(`{"name":"app","privileges":["SELECT","select"]}`), "", "privilege SELECT is listed twice"},
		{"duplicate user", users(`{"name":"app","privileges":["SELECT"]},{"name":"app","privileges":["INSERT"]}`), "", "appUsers[1] (app): the user is declared twice (also appUsers[0])"},
		{"upper-case name", users(`{"name":"App","privileges":["SELECT"]}`), "", "appUsers[0] (App): name must be lower-case letters"},
		{"name too long", users(`{"name":"` + strings.Repeat("a", 27) + `","privileges":["SELECT"]}`), "", "name is 27 characters; at most 26 leave room for the alternate user"},
		{"reserved name", users(`{"name":"rdsadmin","privileges":["SELECT"]}`), "", "reserved by MySQL or RDS"},
		{"clone name", users(`{"name":"app_clone","privileges":["SELECT"]}`), "", "names the alternate account of another user"},
		{"master's name", users(`{"name":"dbadmin","privileges":["SELECT"]}`), "", "appUsers (dbadmin): the name is the cluster's master user"},
		{"bad database", users(`{"name":"app","database":"my-db","privileges":["SELECT"]}`), "", `database "my-db" must be 1 to 64 letters`},
		{"server database", users(`{"name":"app","database":"mysql","privileges":["SELECT"]}`), "", `database "mysql" belongs to the server`},
		{"reader not a role", users(`{"name":"app","privileges":["SELECT"],"readers":["arn:aws:iam::123456789012:user/bob"]}`), "", "appUsers[0] (app): readers[0]"},
		{"reader of another account", users(`{"name":"app","privileges":["SELECT"],"readers":["arn:aws:iam::999999999999:role/x"]}`), "", "readers[0] is a role of account 999999999999; the vault's secrets key admits only roles of account 123456789012"},
		{"too many users", manyUsers(secrets.MaxAppUsers + 1), "", fmt.Sprintf("appUsers declares %d users; the vault supports at most %d", secrets.MaxAppUsers+1, secrets.MaxAppUsers)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := baseConfig(t)
			maps.Copy(cfg, tc.set)
			delete(cfg, tc.unset)
			_, err := runWith(t, cfg, nil)
			kittest.Refused(t, err, tc.wantErr)
		})
	}
}

// users is an appUsers config of the given JSON entries; %d in an entry is
// replaced by its index, so one entry can stand for many.
func users(entries string) map[string]string {
	var out []string
	for i, e := range strings.Split(entries, "},{") {
		out = append(out, strings.ReplaceAll(e, "%d", fmt.Sprint(i)))
	}
	return map[string]string{"vault-secrets:appUsers": "[" + strings.Join(out, "},{") + "]"}
}

func TestMissingDatabaseOutputIsNamed(t *testing.T) {
	r := refs()
	delete(r["organization/vault-database/dev"], "clusterEndpoint")
	_, err := runWith(t, baseConfig(t), r)
	if err == nil || !strings.Contains(err.Error(), "organization/vault-database/dev has no output clusterEndpoint") {
		t.Fatalf("err = %v, want one naming the stack and output", err)
	}
}

// declarations is the text of the rotator's declarations file, from the
// declarations layer's archive.
func declarations(t *testing.T, res mock.Result) string {
	t.Helper()
	code := one(t, res, "aws:lambda/layerVersion:LayerVersion").Inputs["code"]
	if !code.IsArchive() {
		t.Fatalf("the declarations layer's code is %v, not an archive", code)
	}
	a, ok := code.ArchiveValue().Assets["dbvault/app-users.json"]
	if !ok {
		t.Fatalf("the declarations layer has no dbvault/app-users.json: %v", code.ArchiveValue().Assets)
	}
	text, ok := a.(*asset.Asset)
	if !ok || !text.IsText() {
		t.Fatalf("dbvault/app-users.json is %T, not a text asset", a)
	}
	return text.Text
}

// manyUsers declares n application users, with readers.
func manyUsers(n int) map[string]string {
	var entries []string
	for i := range n {
		entries = append(entries, fmt.Sprintf(`{"name":"u%03d","privileges":["SELECT"],"readers":["arn:aws:iam::123456789012:role/svc-%03d"]}`, i, i))
	}
	return map[string]string{"vault-secrets:appUsers": "[" + strings.Join(entries, ",") + "]"}
}
