package verify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/dbvault/dbvault/ops/internal/verifytest"
	"github.com/dbvault/dbvault/ops/verify"
	"github.com/dbvault/dbvault/stacks/kit"
	"github.com/dbvault/dbvault/stacks/secrets"
)

// allChecks are the lines of the healthy fixture, in order.
var allChecks = []string{"trail", "alerts", "alerts-event-shape", "alerts-rotator", "alerts-silencing", "rotator", "secrets/app", "secrets/reporting", "secrets/master", "app-secret-policies", "master-secret-policy", "secrets-key-direct-use", "database", "tls-version", "audit-log", "flow-log", "endpoints", "zones"}

func run(t *testing.T, f *verifytest.Fixture, clients verify.Clients) ([]verify.Result, string) {
	t.Helper()
	v := &verify.Verifier{Clients: clients, Outputs: f.Outputs, Env: "dev"}
	res := v.Run(context.Background())
	var out bytes.Buffer
	verify.Print(&out, res)
	if w := f.Calls.Writes(); len(w) > 0 {
		t.Errorf("verify made calls that are not reads: %v", w)
	}
	return res, out.String()
}

// failures are the lines of res that failed.
func failures(res []verify.Result) []verify.Result {
	var out []verify.Result
	for _, r := range res {
		if !r.OK {
			out = append(out, r)
		}
	}
	return out
}

func checks(res []verify.Result) []string {
	var out []string
	for _, r := range res {
		out = append(out, r.Check)
	}
	return out
}

func TestHealthyEnvironmentPassesEveryCheck(t *testing.T) {
	f := verifytest.Healthy()
	res, out := run(t, f, f.Clients())
	if got := strings.Join(checks(res), " "); got != strings.Join(allChecks, " ") {
		t.Fatalf("checks %s, want %s", got, strings.Join(allChecks, " "))
	}
	for _, r := range res {
		if !r.OK {
			t.Errorf("%s", r.Line())
		}
	}
	for _, want := range []string{
		"PASS alerts: rule rotation-failed-dev is ENABLED", "a real one cannot be sent: PutEvents refuses sources beginning with aws.",
		"shaped as the real RotationSucceeded event",
		"PASS alerts-event-shape: RotationSucceeded event", "names " + verifytest.AppSecrets["app"] + " at additionalEventData.SecretId",
		"confirms: the rule's SecretId filter matches what Secrets Manager emits",
		"PASS secrets/master:", "confirms: RDS rotates it itself", "require_secure_transport is ON",
		"PASS app-secret-policies: the resource policies of app, reporting each have the Deny statements NoOtherReaders, NoOtherWriters, OnlyAdministratorsManage",
		"PASS master-secret-policy: the master secret " + verifytest.MasterSecret + " has a resource policy", "confirms: Secrets Manager keeps a resource policy on RDS's managed secret",
		"PASS secrets-key-direct-use:", "answered AccessDeniedException with an explicit deny in a resource-based policy — confirms: the key refuses use outside Secrets Manager",
		"span zones use1-az1, use1-az2",
		"PASS tls-version: tls_version is TLSv1.2,TLSv1.3 in aurora-params-dev, in sync on the cluster's 2 instances",
		"it records [eventCategory Equals [Management], eventSource NotEquals [kms.amazonaws.com rdsdata.amazonaws.com], readOnly Equals [true]] or [eventCategory Equals [Management], eventSource NotEquals [rdsdata.amazonaws.com], readOnly Equals [false]] (GetEventSelectors: the secrets layer's advanced selectors)",
		"its bucket " + verifytest.TrailBucket + " expires the log files under AWSLogs/ after 90 days, noncurrent versions after 1 (rule expire-trail-log-files;",
		"PASS flow-log: flow log fl-0a1b2c3d4e5f60718 of vpc-0a1b2c3d is ACTIVE and delivers to vpc-flow-logs-dev (SUCCESS)",
		"PASS alerts-rotator: rule rotator-changes-dev is ENABLED, targets " + verifytest.TopicArn + "; the role filter matches the real CreateFunction20150331 event",
		"; the function filter matches the real AddPermission20150331v2 event",
		"PASS alerts-silencing: rule alert-changes-dev is ENABLED, targets " + verifytest.TopicArn + "; the rules filter matches the real PutRule event",
		"PASS audit-log: 1 statement(s) with a password (" + verify.AuditFilter + ") in /aws/rds/cluster/aurora-cluster-dev/audit in the last 30 days, every password masked",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	calls := strings.Join(f.Calls.List(), " ")
	for _, want := range []string{"CloudTrail.GetTrailStatus", "CloudTrail.LookupEvents", "EventBridge.DescribeRule", "EventBridge.ListTargetsByRule", "EventBridge.TestEventPattern",
		"CloudWatch.GetMetricStatistics", "Lambda.GetFunctionConfiguration", "SecretsManager.DescribeSecret", "SecretsManager.ListSecretVersionIds",
		"SecretsManager.GetResourcePolicy", "KMS.Decrypt(dry run)", "RDS.DescribeDBClusters", "RDS.DescribeDBClusterParameters", "EC2.DescribeVpcEndpoints", "EC2.DescribeSubnets", "EC2.DescribeFlowLogs",
		"Logs.FilterLogEvents", "CloudTrail.GetEventSelectors", "CloudTrail.DescribeTrails", "S3.GetBucketLifecycleConfiguration"} {
		if !strings.Contains(calls, want) {
			t.Errorf("no %s call: %s", want, calls)
		}
	}
	t.Logf("\n%s", out)
}

// Each broken fixture makes exactly its check's line FAIL, with its fix.
func TestEachBrokenFixtureFailsExactlyItsLine(t *testing.T) {
	app := verifytest.AppSecrets["app"]
	for _, c := range []struct {
		name, check, want string
		brk               func(f *verifytest.Fixture)
	}{
		{"trail stopped", "trail", "is not logging", func(f *verifytest.Fixture) { f.Trail.IsLogging = aws.Bool(false) }},
		{"trail delivery error", "trail", "last delivery of log files to S3 failed: AccessDenied", func(f *verifytest.Fixture) { f.Trail.LatestDeliveryError = aws.String("AccessDenied") }},
		{"trail records KMS reads", "trail", "has the event selectors [eventCategory Equals [Management], eventSource NotEquals [rdsdata.amazonaws.com], readOnly Equals [false]] or [eventCategory Equals [Management], eventSource NotEquals [rdsdata.amazonaws.com], readOnly Equals [true]], not the secrets layer's advanced selectors", func(f *verifytest.Fixture) {
			f.Selectors.AdvancedEventSelectors[0].FieldSelectors[0].NotEquals = []string{"rdsdata.amazonaws.com"}
		}},
		{"trail leaves out KMS's writes", "trail", "has the event selectors [eventCategory Equals [Management], eventSource NotEquals [kms.amazonaws.com rdsdata.amazonaws.com]], not the secrets layer's advanced selectors", func(f *verifytest.Fixture) {
			f.Selectors.AdvancedEventSelectors = []cttypes.AdvancedEventSelector{{FieldSelectors: []cttypes.AdvancedFieldSelector{
				{Field: aws.String("eventCategory"), Equals: []string{"Management"}}, {Field: aws.String("eventSource"), NotEquals: []string{"kms.amazonaws.com", "rdsdata.amazonaws.com"}}}}}
		}},
		{"trail with the default basic selector", "trail", "has the event selectors [basic: ReadWriteType All, IncludeManagementEvents true, 0 data resources, ExcludeManagementEventSources none]", func(f *verifytest.Fixture) {
			f.Selectors.AdvancedEventSelectors = nil
			f.Selectors.EventSelectors = []cttypes.EventSelector{{ReadWriteType: cttypes.ReadWriteTypeAll, IncludeManagementEvents: aws.Bool(true)}}
		}},
		{"trail with a data event selector too", "trail", "not the secrets layer's advanced selectors", func(f *verifytest.Fixture) {
			f.Selectors.AdvancedEventSelectors = append(f.Selectors.AdvancedEventSelectors, cttypes.AdvancedEventSelector{FieldSelectors: []cttypes.AdvancedFieldSelector{
				{Field: aws.String("eventCategory"), Equals: []string{"Data"}}, {Field: aws.String("resources.type"), Equals: []string{"AWS::S3::Object"}}}})
		}},
		{"trail bucket without lifecycle", "trail", "the trail bucket " + verifytest.TrailBucket + " has no lifecycle configuration: its log files never expire", func(f *verifytest.Fixture) { f.Lifecycle = nil }},
		{"trail bucket rule disabled", "trail", "has no enabled lifecycle rule that expires the log files under AWSLogs/ after a number of days (of its 1 rule(s))", func(f *verifytest.Fixture) {
			f.Lifecycle[0].Status = s3types.ExpirationStatusDisabled
		}},
		{"trail bucket rule on another prefix", "trail", "has no enabled lifecycle rule that expires the log files under AWSLogs/", func(f *verifytest.Fixture) {
			f.Lifecycle[0].Filter.Prefix = aws.String("logs/")
		}},
		{"rule disabled", "alerts", "is DISABLED, not ENABLED", func(f *verifytest.Fixture) { f.Rule.State = ebtypes.RuleStateDisabled }},
		{"rule without topic", "alerts", "does not target the alerts topic", func(f *verifytest.Fixture) {
			f.Targets = []ebtypes.Target{{Id: aws.String("x"), Arn: aws.String("arn:aws:sns:us-east-1:123456789012:other")}}
		}},
		{"topic is the second target", "", "", func(f *verifytest.Fixture) {
			f.Targets = append([]ebtypes.Target{{Id: aws.String("x"), Arn: aws.String("arn:aws:sqs:us-east-1:123456789012:q")}}, f.Targets...)
		}},
		{"pattern of another event", "alerts", "does not match a RotationFailed event", func(f *verifytest.Fixture) {
			f.Rule.EventPattern = aws.String(`{"source":["aws.secretsmanager"],"detail":{"eventName":["RotationSucceeded"]}}`)
		}},
		{"pattern filters another path", "alerts", "does not match a RotationFailed event", func(f *verifytest.Fixture) {
			f.Rule.EventPattern = aws.String(`{"source":["aws.secretsmanager"],"detail":{"eventName":["RotationFailed"],"requestParameters":{"secretId":["` + app + `"]}}}`)
		}},
		{"pattern leaves out the master secret", "alerts", "does not match a RotationFailed event of " + verifytest.MasterSecret + " (", func(f *verifytest.Fixture) {
			f.Rule.EventPattern = aws.String(verifytest.PatternFor(slices.DeleteFunc(verifytest.VaultSecrets(), func(s string) bool { return s == verifytest.MasterSecret })))
		}},
		{"pattern leaves out an application secret", "alerts", "does not match a RotationFailed event of " + verifytest.AppSecrets["reporting"] + " (", func(f *verifytest.Fixture) {
			f.Rule.EventPattern = aws.String(verifytest.PatternFor(slices.DeleteFunc(verifytest.VaultSecrets(), func(s string) bool { return s == verifytest.AppSecrets["reporting"] })))
		}},
		{"failed invocations", "alerts", "3 invocations of rule rotation-failed-dev failed", func(f *verifytest.Fixture) { f.FailedInvocations = []float64{0, 2, 1} }},
		{"rotator pending", "rotator", "is Pending", func(f *verifytest.Fixture) { f.Function.State = lambdatypes.StatePending }},
		{"rotator failed", "rotator", "is Failed: no ENI", func(f *verifytest.Fixture) {
			f.Function.State, f.Function.StateReason = lambdatypes.StateFailed, aws.String("no ENI")
		}},
		{"rotator update failed", "rotator", "last update is Failed", func(f *verifytest.Fixture) { f.Function.LastUpdateStatus = lambdatypes.LastUpdateStatusFailed }},
		{"rotator in other subnets", "rotator", "are not the network's privateSubnetIds", func(f *verifytest.Fixture) { f.Function.VpcConfig.SubnetIds = []string{"subnet-0a", "subnet-0z"} }},
		{"rotator not invocable for a secret", "rotator", "does not let Secrets Manager invoke it for the secrets of reporting, so their rotation fails", func(f *verifytest.Fixture) {
			f.FunctionPolicy = verifytest.InvokePolicy(verifytest.AppSecrets["app"])
		}},
		{"rotator invocable by another account's Secrets Manager only", "rotator", "for the secrets of app, reporting", func(f *verifytest.Fixture) {
			f.FunctionPolicy = strings.ReplaceAll(verifytest.InvokePolicy(verifytest.AppSecrets["app"], verifytest.AppSecrets["reporting"]), `"AWS:SourceAccount":"`+verifytest.Account, `"AWS:SourceAccount":"210987654321`)
		}},
		{"rotator invocable by pattern for another vault", "rotator", "for the secrets of app, reporting", func(f *verifytest.Fixture) {
			f.FunctionPolicy = verifytest.InvokePolicy("arn:aws:secretsmanager:us-east-1:123456789012:secret:db-credentials-*-staging-??????")
		}},
		// Past ExactSecretsLimit the layer names the secrets by one pattern.
		{"rotator invocable by the vault's pattern", "", "", func(f *verifytest.Fixture) {
			f.FunctionPolicy = verifytest.InvokePolicy("arn:aws:secretsmanager:us-east-1:123456789012:secret:db-credentials-*-dev-??????")
		}},
		{"rotator policy verify cannot evaluate", "rotator", "inconclusive: its resource-based policy cannot be evaluated for the secrets of app (", func(f *verifytest.Fixture) {
			f.FunctionPolicy = strings.ReplaceAll(verifytest.InvokePolicy(verifytest.AppSecrets["app"], verifytest.AppSecrets["reporting"]), "StringEquals", "NumericEquals")
		}},
		{"rotator without a policy", "rotator", "has no resource-based policy, so Secrets Manager may not invoke it", func(f *verifytest.Fixture) { f.FunctionPolicy = verifytest.NoFunctionPolicy }},
		{"rotation off", "secrets/app", "rotation is off", func(f *verifytest.Fixture) { f.Secrets[app].Describe.RotationEnabled = aws.Bool(false) }},
		{"schedule too long", "secrets/app", "every 45 days, more than 30", func(f *verifytest.Fixture) {
			f.Secrets[app].Describe.RotationRules.AutomaticallyAfterDays = aws.Int64(45)
		}},
		{"schedule not rotationDays", "secrets/app", "not the stack's rotationDays 30", func(f *verifytest.Fixture) {
			f.Secrets[app].Describe.RotationRules.AutomaticallyAfterDays = aws.Int64(14)
		}},
		{"never rotated", "secrets/app", "never been rotated", func(f *verifytest.Fixture) { f.Secrets[app].Describe.LastRotatedDate = nil }},
		{"unfinished rotation", "secrets/app", "unfinished rotation: version 33333333-3333-3333-3333-333333333333 holds AWSPENDING", func(f *verifytest.Fixture) {
			f.Secrets[app].Describe.VersionIdsToStages["33333333-3333-3333-3333-333333333333"] = []string{"AWSPENDING"}
		}},
		{"untagged secret", "secrets/app", "it has no CostCenter tag", func(f *verifytest.Fixture) {
			f.Secrets[app].Describe.Tags = f.Secrets[app].Describe.Tags[:1]
		}},
		{"no resource policy", "app-secret-policies", "app (" + app + ") has no resource policy", func(f *verifytest.Fixture) { f.Secrets[app].Policy = "" }},
		{"policy without deny", "app-secret-policies", "lacks the Deny statement(s) NoOtherReaders, NoOtherWriters, OnlyAdministratorsManage", func(f *verifytest.Fixture) {
			f.Secrets[app].Policy = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}}`
		}},
		{"policy without OnlyAdministratorsManage", "app-secret-policies", "reporting (" + verifytest.AppSecrets["reporting"] + ")'s resource policy lacks the Deny statement(s) OnlyAdministratorsManage", func(f *verifytest.Fixture) {
			f.Secrets[verifytest.AppSecrets["reporting"]].Policy = strings.Replace(verifytest.Policy, `"Sid":"OnlyAdministratorsManage","Effect":"Deny"`, `"Sid":"OnlyAdministratorsManage","Effect":"Allow"`, 1)
		}},
		{"master secret without policy", "master-secret-policy", "only the secrets key's MasterSecretOnlyForRotatorAdministratorsAndRDS statement guards it", func(f *verifytest.Fixture) {
			f.Secrets[verifytest.MasterSecret].Policy = ""
		}},
		{"a Deny gutted", "app-secret-policies", "has Deny statement(s) that differ from the secrets layer's: NoOtherReaders has Action [secretsmanager:ListSecrets] NotAction [], not Action [secretsmanager:GetSecretValue] NotAction []", func(f *verifytest.Fixture) {
			f.Secrets[app].Policy = mustReplace(t, verifytest.Policy, `"Sid":"NoOtherReaders","Effect":"Deny","Principal":"*","Action":"secretsmanager:GetSecretValue"`, `"Sid":"NoOtherReaders","Effect":"Deny","Principal":"*","Action":"secretsmanager:ListSecrets"`)
		}},
		{"a Deny that spares a wildcard", "app-secret-policies", "NoOtherReaders spares [arn:aws:iam::123456789012:role/*], a wildcard", func(f *verifytest.Fixture) {
			var doc map[string]any
			if err := json.Unmarshal([]byte(verifytest.Policy), &doc); err != nil {
				t.Fatal(err)
			}
			for _, st := range doc["Statement"].([]any) {
				if st := st.(map[string]any); st["Sid"] == "NoOtherReaders" {
					st["Condition"].(map[string]any)["ArnNotEquals"] = map[string]any{"aws:PrincipalArn": []any{"arn:aws:iam::123456789012:role/*"}}
				}
			}
			b, _ := json.Marshal(doc)
			f.Secrets[app].Policy = string(b)
		}},
		{"a Deny without the AWS services' exemption's condition", "master-secret-policy", "OnlyAdministratorsManage has BoolIfExists aws:PrincipalIsAWSService [true], not false", func(f *verifytest.Fixture) {
			i := strings.Index(verifytest.Policy, `"Sid":"OnlyAdministratorsManage"`)
			f.Secrets[verifytest.MasterSecret].Policy = verifytest.Policy[:i] + mustReplace(t, verifytest.Policy[i:], `"aws:PrincipalIsAWSService":"false"`, `"aws:PrincipalIsAWSService":"true"`)
		}},
		{"a Deny narrowed by a key more", "app-secret-policies", "NoOtherWriters has condition BoolIfExists [aws:PrincipalIsAWSService aws:ViaAWSService]", func(f *verifytest.Fixture) {
			i := strings.Index(verifytest.Policy, `"Sid":"NoOtherWriters"`)
			f.Secrets[app].Policy = verifytest.Policy[:i] + mustReplace(t, verifytest.Policy[i:], `"aws:PrincipalIsAWSService":"false"`, `"aws:PrincipalIsAWSService":"false","aws:ViaAWSService":"true"`)
		}},
		{"master policy without NoOtherWriters", "master-secret-policy", "lacks the Deny statement(s) NoOtherWriters", func(f *verifytest.Fixture) {
			f.Secrets[verifytest.MasterSecret].Policy = strings.Replace(verifytest.Policy, `"Sid":"NoOtherWriters"`, `"Sid":"Writers"`, 1)
		}},
		{"endpoints swapped", "endpoints", "the Secrets Manager endpoint " + verifytest.SMEndpointID + " is an endpoint of com.amazonaws.us-east-1.kms, not of com.amazonaws.us-east-1.secretsmanager", func(f *verifytest.Fixture) {
			f.Endpoints[0].ServiceName, f.Endpoints[1].ServiceName = f.Endpoints[1].ServiceName, f.Endpoints[0].ServiceName
		}},
		{"endpoint of another region", "endpoints", "is an endpoint of com.amazonaws.eu-west-1.kms, not of com.amazonaws.us-east-1.kms", func(f *verifytest.Fixture) {
			f.Endpoints[1].ServiceName = aws.String("com.amazonaws.eu-west-1.kms")
		}},
		{"key used directly", "secrets-key-direct-use", "answered DryRunOperationException: KMS authorized it, so the OnlyThroughSecretsManager Deny did not apply", func(f *verifytest.Fixture) {
			f.KeyAnswer = nil
		}},
		{"key parsed the ciphertext", "secrets-key-direct-use", "answered InvalidCiphertextException: KMS authorized it", func(f *verifytest.Fixture) {
			f.KeyAnswer = &kmstypes.InvalidCiphertextException{}
		}},
		{"another policy's deny hides the key's", "secrets-key-direct-use", "inconclusive: a direct kms:Decrypt dry run on " + verifytest.SecretsKeyArn + " was refused by an explicit deny in another policy than the key's", func(f *verifytest.Fixture) {
			f.KeyAnswer = &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "User: arn:aws:iam::123456789012:role/ops is not authorized to perform: kms:Decrypt on resource: " + verifytest.SecretsKeyArn + " with an explicit deny in a service control policy"}
		}},
		{"KMS's answer that names no policy", "secrets-key-direct-use", "inconclusive: a direct kms:Decrypt dry run on " + verifytest.SecretsKeyArn + " answered AccessDeniedException without saying which policy refused it", func(f *verifytest.Fixture) {
			f.KeyAnswer = &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "User: arn:aws:iam::123456789012:role/ops is not authorized to perform: kms:Decrypt on resource: " + verifytest.SecretsKeyArn + " because the resource does not exist in this Region, no resource-based policies allow access, or a resource-based policy explicitly denies access"}
		}},
		{"verify's principal lacks an Allow", "secrets-key-direct-use", "without an explicit deny", func(f *verifytest.Fixture) {
			f.KeyAnswer = &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "User: arn:aws:iam::123456789012:role/ops is not authorized to perform: kms:Decrypt on resource: " + verifytest.SecretsKeyArn + " because no identity-based policy allows the kms:Decrypt action"}
		}},
		// A scheduled rotation that never started leaves no AWSPENDING:
		// its date, a day past, is what shows it.
		{"scheduled rotation missed", "secrets/app", "has not happened: a scheduled rotation failed or did not start", func(f *verifytest.Fixture) {
			s := f.Secrets[verifytest.AppSecrets["app"]]
			s.Describe.NextRotationDate = aws.Time(time.Now().Add(-27 * time.Hour))
		}},
		// Another function rotating a secret gets its passwords.
		{"rotated by another function", "secrets/app", "it is rotated by arn:aws:lambda:us-east-1:123456789012:function:evil, not the vault's rotator", func(f *verifytest.Fixture) {
			f.Secrets[verifytest.AppSecrets["app"]].Describe.RotationLambdaARN = aws.String("arn:aws:lambda:us-east-1:123456789012:function:evil")
		}},
		// An alias runs its own version's code and configuration, which
		// the rotator line, reading the function itself, does not see.
		{"rotated by an alias of the rotator", "secrets/app", "it is rotated by " + verifytest.FunctionArn + ":live, not the vault's rotator", func(f *verifytest.Fixture) {
			f.Secrets[verifytest.AppSecrets["app"]].Describe.RotationLambdaARN = aws.String(verifytest.FunctionArn + ":live")
		}},
		{"master's scheduled rotation missed", "secrets/master", "has not happened: a scheduled rotation failed or did not start (for a secret RDS manages, unconfirmed offline", func(f *verifytest.Fixture) {
			f.Secrets[verifytest.MasterSecret].Describe.NextRotationDate = aws.Time(time.Now().Add(-27 * time.Hour))
		}},
		{"encrypted with the AWS managed key", "secrets/app", "encrypted with the AWS managed key aws/secretsmanager, not the vault's secrets key", func(f *verifytest.Fixture) {
			f.Secrets[verifytest.AppSecrets["app"]].Describe.KmsKeyId = nil
		}},
		{"encrypted with the key named by its id", "", "", func(f *verifytest.Fixture) {
			f.Secrets[verifytest.AppSecrets["app"]].Describe.KmsKeyId = aws.String(verifytest.SecretsKeyArn[strings.LastIndex(verifytest.SecretsKeyArn, "/")+1:])
		}},
		{"master secret under another key", "database", "the master secret is encrypted with arn:aws:kms:us-east-1:123456789012:key/other", func(f *verifytest.Fixture) {
			f.Cluster.MasterUserSecret.KmsKeyId = aws.String("arn:aws:kms:us-east-1:123456789012:key/other")
		}},
		// A principal added to a Deny's exemptions is exempt from it while
		// every Deny is still there: whoever may write the policy could
		// spare a crony that way.
		{"app secret's writers spare a crony", "app-secret-policies", "spares arn:aws:iam::123456789012:role/crony in NoOtherWriters, neither an administrator", func(f *verifytest.Fixture) {
			f.Secrets[verifytest.AppSecrets["app"]].Policy = strings.Replace(verifytest.Policy, `"`+verifytest.RotatorRole+`"`, `"`+verifytest.RotatorRole+`","arn:aws:iam::123456789012:role/crony"`, 2)
		}},
		{"master secret's readers spare a crony", "master-secret-policy", "spares arn:aws:iam::123456789012:role/crony in NoOtherReaders", func(f *verifytest.Fixture) {
			f.Secrets[verifytest.MasterSecret].Policy = strings.Replace(verifytest.MasterPolicy, `"`+verifytest.RotatorRole+`"`, `"`+verifytest.RotatorRole+`","arn:aws:iam::123456789012:role/crony"`, 1)
		}},
		// A single-region trail of another region records none of the
		// vault's calls; a multi-region one homed there does.
		{"trail of another region", "trail", "records only eu-west-1, not us-east-1", func(f *verifytest.Fixture) {
			f.TrailInfo.HomeRegion = aws.String("eu-west-1")
		}},
		{"multi-region trail homed elsewhere", "", "", func(f *verifytest.Fixture) {
			f.TrailInfo.HomeRegion, f.TrailInfo.IsMultiRegionTrail = aws.String("eu-west-1"), aws.Bool(true)
		}},
		{"trail pointed at another bucket", "trail", "delivers to someone-elses-bucket, not the secrets layer's bucket cloudtrail-us-east-1-dev-123456789012", func(f *verifytest.Fixture) {
			f.TrailInfo.S3BucketName = aws.String("someone-elses-bucket")
		}},
		// Code changed outside Pulumi: a refresh does not see it, a
		// deploy does not put it back.
		{"rotator's code changed", "rotator", "its code (CodeSha256 AAAA) is not the package the secrets layer deployed", func(f *verifytest.Fixture) {
			f.Function.CodeSha256 = aws.String("AAAA")
		}},
		{"master rotated by a function", "secrets/master", "rotated by the Lambda function", func(f *verifytest.Fixture) {
			f.Secrets[verifytest.MasterSecret].Describe.RotationLambdaARN = aws.String(verifytest.FunctionArn)
		}},
		{"master schedule too long", "secrets/master", "every 60 days, more than 30", func(f *verifytest.Fixture) {
			f.Secrets[verifytest.MasterSecret].Describe.RotationRules = &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(60)}
		}},
		{"cluster modifying", "database", "is modifying, not available", func(f *verifytest.Fixture) { f.Cluster.Status = aws.String("modifying") }},
		{"master secret of another cluster", "database", "is not the stack's masterSecretArn", func(f *verifytest.Fixture) {
			f.Cluster.MasterUserSecret.SecretArn = aws.String("arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-other-AAAAAA")
		}},
		{"master secret impaired", "database", "status is impaired, not active", func(f *verifytest.Fixture) { f.Cluster.MasterUserSecret.SecretStatus = aws.String("impaired") }},
		{"TLS not required", "database", "require_secure_transport is OFF", func(f *verifytest.Fixture) { f.Parameters[0].ParameterValue = aws.String("OFF") }},
		{"TLS left at the default", "database", "require_secure_transport is none", func(f *verifytest.Fixture) { f.Parameters = f.Parameters[1:] }},
		{"TLS 1.1 allowed", "tls-version", "tls_version is TLSv1.1,TLSv1.2 in the cluster parameter group aurora-params-dev", func(f *verifytest.Fixture) {
			f.Parameters[1].ParameterValue = aws.String("TLSv1.1,TLSv1.2")
		}},
		{"tls_version left at the default", "tls-version", "tls_version is none", func(f *verifytest.Fixture) { f.Parameters = f.Parameters[:1] }},
		{"reboot pending", "tls-version", "not in effect on aurora-instance-2-dev (pending-reboot)", func(f *verifytest.Fixture) {
			f.Cluster.DBClusterMembers[1].DBClusterParameterGroupStatus = aws.String("pending-reboot")
		}},
		{"flow log access error", "flow-log", "delivery to vpc-flow-logs-dev is FAILED: Access error", func(f *verifytest.Fixture) {
			f.FlowLogs[0].DeliverLogsStatus, f.FlowLogs[0].DeliverLogsErrorMessage = aws.String("FAILED"), aws.String("Access error")
		}},
		{"flow log of another VPC", "flow-log", "records vpc-0other, not the network's VPC vpc-0a1b2c3d", func(f *verifytest.Fixture) { f.FlowLogs[0].ResourceId = aws.String("vpc-0other") }},
		{"flow log gone", "flow-log", "flow log fl-0a1b2c3d4e5f60718 not found", func(f *verifytest.Fixture) { f.FlowLogs = nil }},
		{"rotator rule disabled", "alerts-rotator", "rule rotator-changes-dev is DISABLED, not ENABLED", func(f *verifytest.Fixture) { f.RotatorRule.State = ebtypes.RuleStateDisabled }},
		{"rotator rule without the topic", "alerts-rotator", "rule rotator-changes-dev does not target the alerts topic", func(f *verifytest.Fixture) { f.RotatorTargets = nil }},
		// A pattern that looks for the role under another name misses the
		// deploy's CreateFunction: the line shows what the record holds.
		{"rotator rule that misses the real call", "alerts-rotator", `does not match the real CreateFunction20150331 event 1a`, func(f *verifytest.Fixture) {
			f.RotatorRule.EventPattern = aws.String(strings.Replace(verifytest.RotatorPattern(), `"role":`, `"roleArn":`, 1))
		}},
		{"silencing rule without the topic", "alerts-silencing", "rule alert-changes-dev does not target the alerts topic", func(f *verifytest.Fixture) { f.SilencingTargets = nil }},
		{"silencing rule disabled", "alerts-silencing", "rule alert-changes-dev is DISABLED, not ENABLED", func(f *verifytest.Fixture) { f.SilencingRule.State = ebtypes.RuleStateDisabled }},
		// A pattern that looks for EventBridge's rule under another
		// parameter misses the deploy's PutRule.
		{"silencing rule that misses the deploy's PutRule", "alerts-silencing", `does not match the real PutRule event`, func(f *verifytest.Fixture) {
			f.SilencingRule.EventPattern = aws.String(strings.Replace(verifytest.SilencingPattern(), `"requestParameters":{"name":`, `"requestParameters":{"ruleName":`, 1))
		}},
		{"rotator rule gone", "alerts-rotator", "DescribeRule rotator-changes-dev: ResourceNotFoundException", func(f *verifytest.Fixture) { f.RotatorRule.Name = aws.String("other") }},
		// No Lambda call on the rotator in the history: nothing to test
		// the pattern with, which the line says.
		{"no Lambda call on the rotator", "", "", func(f *verifytest.Fixture) { f.History = f.History[:4] }},
		// The rotator changed within the history read, yet none of its
		// calls was found: the names looked up are wrong, and the rule's
		// pattern went untested.
		{"the rotator changed, no call found", "alerts-rotator", "changed at ", func(f *verifytest.Fixture) {
			f.History = f.History[:4]
			f.Function.LastModified = aws.String(time.Now().Add(-48 * time.Hour).UTC().Format("2006-01-02T15:04:05.000-0700"))
		}},
		// A change older than the history, or minutes old, proves nothing.
		{"the rotator changed long ago", "", "", func(f *verifytest.Fixture) {
			f.History = f.History[:4]
			f.Function.LastModified = aws.String(time.Now().Add(-100 * 24 * time.Hour).UTC().Format("2006-01-02T15:04:05.000-0700"))
		}},
		{"the rotator changed minutes ago", "", "", func(f *verifytest.Fixture) {
			f.History = f.History[:4]
			f.Function.LastModified = aws.String(time.Now().Add(-5 * time.Minute).UTC().Format("2006-01-02T15:04:05.000-0700"))
		}},
		// With the calls found, a recent change is the expected state.
		{"the rotator changed, calls found", "", "", func(f *verifytest.Fixture) {
			f.Function.LastModified = aws.String(time.Now().Add(-3 * time.Hour).UTC().Format("2006-01-02T15:04:05.000-0700"))
		}},
		{"password in the audit log", "audit-log", "the audit log /aws/rds/cluster/aurora-cluster-dev/audit holds 2 statement(s) whose password is written out (aurora-instance-1-dev.audit.log.0 at ", func(f *verifytest.Fixture) {
			f.AuditLog = append(f.AuditLog, verifytest.AuditLine(`ALTER USER \'app\'@\'%\' IDENTIFIED BY \'Pw-Leaked-1\'`), verifytest.AuditLine(`CREATE USER 'app_clone'@'%' IDENTIFIED BY "Pw-Leaked-2"`))
		}},
		{"audit log group gone", "audit-log", "FilterLogEvents /aws/rds/cluster/aurora-cluster-dev/audit: ResourceNotFoundException", func(f *verifytest.Fixture) { f.AuditLog = nil }},
		// No password change in the audit log: nothing there to expose.
		{"no password change audited", "", "", func(f *verifytest.Fixture) { f.AuditLog = f.AuditLog[:1] }},
		{"endpoint pending", "endpoints", "endpoint vpce-0sm is pending, not available", func(f *verifytest.Fixture) { f.Endpoints[0].State = "pending" }},
		{"endpoint without private DNS", "endpoints", "KMS endpoint vpce-0kms has private DNS off", func(f *verifytest.Fixture) { f.Endpoints[1].PrivateDnsEnabled = aws.Bool(false) }},
		{"endpoint gone", "endpoints", "DescribeVpcEndpoints vpce-0kms, vpce-0sm: api error InvalidVpcEndpointId.NotFound", func(f *verifytest.Fixture) { f.Endpoints = f.Endpoints[:1] }},
		// An existing VPC's endpoints without private DNS, called by
		// their own names (the network stack's URLs): they pass.
		{"endpoints called by their own names", "", "", func(f *verifytest.Fixture) {
			for i := range f.Endpoints {
				f.Endpoints[i].PrivateDnsEnabled = aws.Bool(false)
			}
			f.Outputs["network"]["secretsManagerEndpointUrl"] = "https://vpce-0sm-1a2b.secretsmanager.us-east-1.vpce.amazonaws.com"
			f.Outputs["network"]["kmsEndpointUrl"] = "https://vpce-0kms-3c4d.kms.us-east-1.vpce.amazonaws.com"
		}},
		{"endpoint without the name its clients call", "endpoints", "KMS endpoint vpce-0kms by vpce-0kms-ffff.kms.us-east-1.vpce.amazonaws.com (the network stack's output), not by its regional name vpce-0kms-3c4d.kms.us-east-1.vpce.amazonaws.com", func(f *verifytest.Fixture) {
			f.Endpoints[1].PrivateDnsEnabled = aws.Bool(false)
			f.Outputs["network"]["kmsEndpointUrl"] = "https://vpce-0kms-ffff.kms.us-east-1.vpce.amazonaws.com"
		}},
		{"endpoint called by a zone's name", "endpoints", "not by its regional name vpce-0kms-3c4d.kms.us-east-1.vpce.amazonaws.com", func(f *verifytest.Fixture) {
			f.Endpoints[1].PrivateDnsEnabled = aws.Bool(false)
			f.Outputs["network"]["kmsEndpointUrl"] = "https://vpce-0kms-3c4d-us-east-1a.kms.us-east-1.vpce.amazonaws.com"
		}},
		{"subnet in another zone", "zones", "subnet-0b is in zone use1-az4, not among availabilityZoneIds", func(f *verifytest.Fixture) {
			f.Subnets[1].AvailabilityZoneId = aws.String("use1-az4")
		}},
		{"one zone", "zones", "span 1 zone (use1-az1)", func(f *verifytest.Fixture) { f.Subnets[1].AvailabilityZoneId = aws.String("use1-az1") }},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := verifytest.Healthy()
			c.brk(f)
			res, out := run(t, f, f.Clients())
			failed := failures(res)
			if c.check == "" {
				if len(failed) != 0 {
					t.Fatalf("want every line to pass:\n%s", out)
				}
				return
			}
			if len(failed) != 1 || failed[0].Check != c.check {
				t.Fatalf("want exactly %s to fail:\n%s", c.check, out)
			}
			line := failed[0].Line()
			if !strings.HasPrefix(line, "FAIL "+c.check+": ") || !strings.Contains(line, c.want) || !strings.Contains(line, "; fix: ") || failed[0].Fix == "" {
				t.Fatalf("line %q lacks %q or its fix", line, c.want)
			}
			t.Log(line)
		})
	}
}

// A missing output is one clear FAIL line naming the output and the layer
// to deploy again; the checks that do not need it still pass.
func TestMissingOutputsFailClearly(t *testing.T) {
	for _, c := range []struct {
		layer, name string
		fails       []string
	}{
		{"secrets", "rotationFailedRuleName", []string{"alerts"}},
		{"secrets", "alertChangesRuleName", []string{"alerts-silencing"}},
		{"secrets", "rotatorChangesRuleName", []string{"alerts-rotator"}},
		{"secrets", "rotatorRoleArn", []string{"alerts-rotator", "app-secret-policies", "master-secret-policy"}},
		{"kms", "administrators", []string{"app-secret-policies", "master-secret-policy"}},
		{"secrets", "rotatorCodeSha256", []string{"rotator"}},
		{"secrets", "trailArn", []string{"trail"}},
		{"secrets", "rotationDays", []string{"secrets/app", "secrets/reporting"}},
		{"network", "availabilityZoneIds", []string{"zones"}},
		{"network", "kmsEndpointId", []string{"endpoints"}},
		{"network", "privateSubnetIds", []string{"rotator", "zones"}},
		{"database", "clusterIdentifier", []string{"database", "tls-version", "audit-log"}},
		{"database", "flowLogId", []string{"flow-log"}},
		{"secrets", "appSecretArns", []string{"alerts", "alerts-event-shape", "rotator", "secrets", "app-secret-policies"}},
		{"database", "masterSecretArn", []string{"master-secret-policy", "database"}},
		{"kms", "secretsKeyArn", []string{"secrets/app", "secrets/reporting", "secrets-key-direct-use", "database"}},
		{"secrets", "rotatorFunctionArn", []string{"secrets/app", "secrets/reporting"}},
		{"secrets", "masterSecretArn", []string{"alerts", "alerts-event-shape", "secrets/master"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := verifytest.Healthy()
			delete(f.Outputs[c.layer], c.name)
			res, out := run(t, f, f.Clients())
			for _, r := range failures(res) {
				want := "output " + c.name + " missing: deploy layer " + c.layer + " again; fix: ENV=dev go run mage.go up:" + c.layer
				if !strings.Contains(r.Line(), want) {
					t.Errorf("line %q lacks %q", r.Line(), want)
				}
			}
			if failed := checks(failures(res)); strings.Join(failed, " ") != strings.Join(c.fails, " ") {
				t.Fatalf("failed %v, want %v:\n%s", failed, c.fails, out)
			}
		})
	}
}

func TestOutputsFile(t *testing.T) {
	f := verifytest.Healthy()
	path := verifytest.WriteOutputs(t, f.Outputs)
	o, err := verify.ReadOutputsFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, out := run(t, f, f.Clients())
	v := &verify.Verifier{Clients: f.Clients(), Outputs: o, Env: "dev"}
	var b bytes.Buffer
	if n := verify.Print(&b, v.Run(context.Background())); n != 0 || b.String() != out {
		t.Fatalf("from the file (%d failed):\n%s\nwant:\n%s", n, b.String(), out)
	}
}

// The Secrets Manager checks against the real emulator: the vault's
// secrets as a deploy leaves them pass; a secret whose rotation failed
// fails its own line with the fix for the AWSPENDING left behind.
func TestSecretsAgainstEmulator(t *testing.T) {
	f := verifytest.Healthy()
	em := verifytest.StartEmulator(t, f)
	clients := f.Clients()
	clients.SecretsManager = verifytest.Recording(em.Client, f.Calls)
	res, out := run(t, f, clients)
	for _, r := range res {
		if !r.OK {
			t.Errorf("%s", r.Line())
		}
	}
	if !strings.Contains(out, "PASS secrets/app: "+em.Apps["app"]) || !strings.Contains(out, "PASS secrets/master: "+verifytest.MasterSecret) {
		t.Fatalf("output:\n%s", out)
	}
	t.Logf("\n%s", out)

	f = verifytest.Healthy()
	em = verifytest.StartEmulator(t, f, "reporting")
	clients = f.Clients()
	clients.SecretsManager = verifytest.Recording(em.Client, f.Calls)
	res, out = run(t, f, clients)
	failed := failures(res)
	if len(failed) != 1 || failed[0].Check != "secrets/reporting" ||
		!strings.Contains(failed[0].Line(), "unfinished rotation") || !strings.Contains(failed[0].Line(), "docs/runbooks.md#stuck-awspending") {
		t.Fatalf("want only secrets/reporting to fail with the AWSPENDING fix:\n%s", out)
	}
	t.Log(failed[0].Line())
}

// The statements app-secret-policies and master-secret-policy look for are
// the Denies the secrets layer writes into both kinds of policy.
func TestPolicyStatementsAreTheSecretsLayers(t *testing.T) {
	for name, doc := range map[string]kit.PolicyDocument{
		"AppSecretPolicy":    secrets.AppSecretPolicy([]string{"arn:aws:iam::123456789012:role/app"}, "arn:aws:iam::123456789012:role/rotator", []string{"arn:aws:iam::123456789012:role/admin"}),
		"MasterSecretPolicy": secrets.MasterSecretPolicy("arn:aws:iam::123456789012:role/rotator", []string{"arn:aws:iam::123456789012:role/admin"}, "arn:aws:iam::123456789012:role/aws-service-role/rds.amazonaws.com/AWSServiceRoleForRDS"),
	} {
		var denies []string
		for _, st := range doc.Statement {
			if st.Effect == "Deny" {
				denies = append(denies, st.Sid)
			}
		}
		if strings.Join(denies, " ") != strings.Join(verify.PolicyStatements, " ") {
			t.Errorf("%s denies %v, verify looks for %v", name, denies, verify.PolicyStatements)
		}
	}
}

// The healthy fixture's trail, bucket and rotator carry the names the
// layers give them (kit.Names), from which the trail line tells the vault's
// own trail from the account's.
func TestFixtureNamesAreTheLayers(t *testing.T) {
	n := kit.DefaultNames("dev")
	for got, want := range map[string]string{
		"arn:aws:cloudtrail:" + verifytest.Region + ":" + verifytest.Account + ":trail/" + n.TrailName(): verifytest.TrailArn,
		n.TrailBucketName(verifytest.Region, verifytest.Account):                                         verifytest.TrailBucket,
		n.RotatorName(): verifytest.FunctionName,
	} {
		if got != want {
			t.Errorf("the layers name it %s, the fixture %s", got, want)
		}
	}
}

// lineOf is the result of check.
func lineOf(t *testing.T, res []verify.Result, check string) verify.Result {
	t.Helper()
	for _, r := range res {
		if r.Check == check {
			return r
		}
	}
	t.Fatalf("no %s line", check)
	return verify.Result{}
}

// wantLines fails the test unless exactly the checks in failing fail, and
// every line of want contains its text.
func wantLines(t *testing.T, res []verify.Result, out string, failing []string, want map[string][]string) {
	t.Helper()
	for _, r := range failures(res) {
		if r.Fix == "" {
			t.Errorf("%s fails without a fix", r.Check)
		}
	}
	if failed := checks(failures(res)); strings.Join(failed, " ") != strings.Join(failing, " ") {
		t.Fatalf("failed %v, want %v:\n%s", failed, failing, out)
	}
	for check, texts := range want {
		line := lineOf(t, res, check).Line()
		for _, w := range texts {
			if !strings.Contains(line, w) {
				t.Errorf("line %q lacks %q", line, w)
			}
		}
	}
}

// With the account's trail (existingTrailName) the trail line checks that
// it logs and delivers and still records every management event (the
// alert rules see nothing else), says whose it is, and leaves its bucket,
// which is not the vault's, unread; a trail that no longer records them
// fails.
func TestAccountTrail(t *testing.T) {
	f := verifytest.Healthy()
	f.UseAccountTrail("arn:aws:cloudtrail:us-east-1:123456789012:trail/org-trail")
	f.Selectors = cloudtrail.GetEventSelectorsOutput{EventSelectors: []cttypes.EventSelector{{IncludeManagementEvents: aws.Bool(true), ReadWriteType: cttypes.ReadWriteTypeAll}}}
	f.Lifecycle = nil
	res, out := run(t, f, f.Clients())
	wantLines(t, res, out, nil, map[string][]string{"trail": {
		"PASS trail: trail arn:aws:cloudtrail:us-east-1:123456789012:trail/org-trail is logging",
		"it is the account's trail (existingTrailName), not one the secrets layer created: it records every management event, read and write; its bucket's lifecycle is the account's, so it is not checked",
	}})
	for _, c := range f.Calls.List() {
		if c == "S3.GetBucketLifecycleConfiguration" {
			t.Errorf("the account's trail's bucket was read: %s", c)
		}
	}

	f.Selectors = cloudtrail.GetEventSelectorsOutput{EventSelectors: []cttypes.EventSelector{{IncludeManagementEvents: aws.Bool(true), ReadWriteType: cttypes.ReadWriteTypeWriteOnly}}}
	res, out = run(t, f, f.Clients())
	wantLines(t, res, out, []string{"trail"}, map[string][]string{"trail": {
		"FAIL trail: the account's trail arn:aws:cloudtrail:us-east-1:123456789012:trail/org-trail no longer records every management event",
	}})
}

// On a team's existing cluster whose master password RDS manages, the
// master secret keeps the team's policy (none here) and master-secret-policy
// says the vault promises nothing about its readers; RDS's expectations
// about rotating it still hold, with the team's fixes.
func TestExistingClusterWithRDSManagedSecret(t *testing.T) {
	f := verifytest.Healthy()
	f.UseExistingCluster()
	res, out := run(t, f, f.Clients())
	wantLines(t, res, out, nil, map[string][]string{
		"master-secret-policy": {"PASS master-secret-policy: the master secret " + verifytest.MasterSecret + " is the team's", "keeps the team's resource policy", "the vault makes no promise about who may read it"},
		"secrets/master":       {"confirms: RDS rotates it itself", "RDS keeps the team's schedule"},
		"database":             {"PASS database: the team's cluster aurora-cluster-dev is available, its master secret " + verifytest.MasterSecret + " is active, require_secure_transport is ON"},
		"tls-version":          {"PASS tls-version: tls_version is TLSv1.2,TLSv1.3 in the team's cluster parameter group aurora-params-dev"},
	})

	f = verifytest.Healthy()
	f.UseExistingCluster()
	f.Secrets[verifytest.MasterSecret].Describe.RotationLambdaARN = aws.String(verifytest.FunctionArn)
	f.Secrets[verifytest.MasterSecret].Describe.RotationRules.AutomaticallyAfterDays = aws.Int64(60)
	res, out = run(t, f, f.Clients())
	wantLines(t, res, out, []string{"secrets/master"}, map[string][]string{"secrets/master": {
		"rotated by the Lambda function " + verifytest.FunctionArn + ", not by RDS", "every 60 days, more than 30",
		"the team that runs the cluster sets it (aws secretsmanager rotate-secret --secret-id " + verifytest.MasterSecret,
	}})
}

// The team's own master secret (RDS does not manage the password): the
// cluster has no MasterUserSecret, the team rotates the secret with its own
// function every 90 days, the secret has no policy of the vault's, and no
// line fails for any of it.
func TestExistingClusterWithTeamMasterSecret(t *testing.T) {
	f := verifytest.Healthy()
	f.UseTeamMasterSecret()
	res, out := run(t, f, f.Clients())
	wantLines(t, res, out, nil, map[string][]string{
		"database":             {"RDS does not manage its master password, whose secret is the team's " + verifytest.TeamMasterSecret},
		"secrets/master":       {"PASS secrets/master: " + verifytest.TeamMasterSecret + " is the team's secret of the master credentials", "rotation on every 90 days by the Lambda function " + verifytest.TeamRotator, "its rotation is the team's"},
		"master-secret-policy": {"the master secret " + verifytest.TeamMasterSecret + " is the team's"},
		"alerts-event-shape":   {"the team's master secret's RotationSucceeded event"},
	})

	// Never rotated, rotation off, no event: reported, not failed.
	f = verifytest.Healthy()
	f.UseTeamMasterSecret()
	f.Secrets[verifytest.TeamMasterSecret].Describe.RotationEnabled = aws.Bool(false)
	f.Secrets[verifytest.TeamMasterSecret].Describe.LastRotatedDate = nil
	f.History = f.History[:2]
	res, out = run(t, f, f.Clients())
	wantLines(t, res, out, nil, map[string][]string{
		"secrets/master":     {"rotation off by the Lambda function " + verifytest.TeamRotator + ", last rotated never"},
		"alerts-event-shape": {"the team's master secret " + verifytest.TeamMasterSecret + " has no RotationSucceeded event in the last 32 days"},
	})
	// The same with more events of that name than the lookup reads: the
	// team's secret that does not rotate is still no failure, and the line
	// says how far it looked.
	other := f.History[0]
	f.History = []cttypes.Event{f.History[1], other, other, other}
	res, out = run(t, f, f.Clients())
	wantLines(t, res, out, nil, map[string][]string{
		"alerts-event-shape": {"the team's master secret " + verifytest.TeamMasterSecret + " has no RotationSucceeded event among the newest 3 of that name (more left unread)"},
	})

	// What the rotator cannot work with fails: no AWSCURRENT.
	f = verifytest.Healthy()
	f.UseTeamMasterSecret()
	f.Secrets[verifytest.TeamMasterSecret].Describe.VersionIdsToStages = map[string][]string{"22222222-2222-2222-2222-222222222222": {"AWSPREVIOUS"}}
	res, out = run(t, f, f.Clients())
	wantLines(t, res, out, []string{"secrets/master"}, map[string][]string{"secrets/master": {"holds AWSCURRENT: the rotator cannot read the master credentials", "update-secret-version-stage"}})
}

// require_secure_transport off on the team's cluster is the team's setting:
// the database line passes with a warning that says how to turn it on; on
// the vault's own cluster it still fails.
func TestExistingClusterWithoutRequiredTLSWarns(t *testing.T) {
	f := verifytest.Healthy()
	f.UseExistingCluster()
	f.Parameters[0].ParameterValue = aws.String("OFF")
	res, out := run(t, f, f.Clients())
	wantLines(t, res, out, nil, map[string][]string{"database": {
		"PASS database: the team's cluster aurora-cluster-dev is available",
		"warning: require_secure_transport is OFF in the team's cluster parameter group aurora-params-dev, not ON",
		"the rotator, which always connects with verified TLS",
		"set require_secure_transport=ON in the team's cluster parameter group (dynamic, no reboot)",
	}})

	// The warning rides along when the line fails for something else.
	f.Cluster.Status = aws.String("modifying")
	res, out = run(t, f, f.Clients())
	wantLines(t, res, out, []string{"database"}, map[string][]string{"database": {"is modifying, not available", "warning: require_secure_transport is OFF"}})
}

// The team's parameter group and instances: tls-version checks them as
// before and names them as the team's, with the team's fixes.
func TestExistingClusterTLSVersionIsTheTeams(t *testing.T) {
	f := verifytest.Healthy()
	f.UseExistingCluster()
	f.Parameters[1].ParameterValue = aws.String("TLSv1.1,TLSv1.2")
	f.Cluster.DBClusterMembers = []rdstypes.DBClusterMember{}
	res, out := run(t, f, f.Clients())
	wantLines(t, res, out, []string{"tls-version"}, map[string][]string{"tls-version": {
		"tls_version is TLSv1.1,TLSv1.2 in the team's cluster parameter group aurora-params-dev",
		"fix: the team sets tls_version=TLSv1.2,TLSv1.3 in its cluster parameter group aurora-params-dev",
		"the team adds an instance to its cluster",
	}})
}

// The master secret's state on the team's cluster that the database layer
// would no longer accept: RDS stopped managing the password that the
// stack's masterSecretArn, RDS's secret, held.
func TestExistingClusterThatStoppedManagingTheMasterPassword(t *testing.T) {
	f := verifytest.Healthy()
	f.UseExistingCluster()
	f.Cluster.MasterUserSecret = nil
	res, out := run(t, f, f.Clients())
	wantLines(t, res, out, []string{"database"}, map[string][]string{"database": {
		"has no MasterUserSecret, but the stack's masterSecretArn " + verifytest.MasterSecret + " is RDS's managed secret",
		"set existingMasterSecretArn in stacks/database",
	}})
}

// existingCluster that is not a boolean fails the lines that read it,
// naming the layer to deploy again.
func TestExistingClusterOutputMustBeABoolean(t *testing.T) {
	f := verifytest.Healthy()
	f.Outputs["database"]["existingCluster"] = "yes"
	res, out := run(t, f, f.Clients())
	wantLines(t, res, out, []string{"alerts-event-shape", "secrets/master", "master-secret-policy", "database", "tls-version", "audit-log"}, nil)
	if !strings.Contains(lineOf(t, res, "database").Line(), "output existingCluster missing: deploy layer database again (it is yes, not true or false)") {
		t.Fatalf("output:\n%s", out)
	}
}

// audit-log says where a written-out password is, never the line or the
// password; a team's cluster that does not export its audit log passes,
// and a fresh environment without a password change yet is pending.
func TestAuditLogCheck(t *testing.T) {
	f := verifytest.Healthy()
	f.AuditLog = append(f.AuditLog, verifytest.AuditLine(`ALTER USER \'app\'@\'%\' IDENTIFIED BY \'Pw-Leaked-1\'`))
	res, out := run(t, f, f.Clients())
	wantLines(t, res, out, []string{"audit-log"}, map[string][]string{"audit-log": {"holds 1 statement(s) whose password is written out"}})
	if strings.Contains(out, "Pw-Leaked") || strings.Contains(out, "ALTER USER") {
		t.Fatalf("verify printed the audit line:\n%s", out)
	}

	// A MariaDB-style SET PASSWORD carries the password too; masks,
	// quoted or not, are not passwords.
	f = verifytest.Healthy()
	f.AuditLog = append(f.AuditLog, verifytest.AuditLine(`SET PASSWORD FOR \'app\'@\'%\' = PASSWORD(\'Pw-Leaked-3\')`))
	res, out = run(t, f, f.Clients())
	wantLines(t, res, out, []string{"audit-log"}, map[string][]string{"audit-log": {"holds 1 statement(s) whose password is written out"}})
	// MySQL 8's SET PASSWORD FOR ... = '...', the rotator's fallback there.
	f = verifytest.Healthy()
	f.AuditLog = append(f.AuditLog, verifytest.AuditLine(`SET PASSWORD FOR \'app\'@\'%\' = \'Pw-Leaked-4\'`))
	res, out = run(t, f, f.Clients())
	wantLines(t, res, out, []string{"audit-log"}, map[string][]string{"audit-log": {"holds 1 statement(s) whose password is written out"}})
	f = verifytest.Healthy()
	f.AuditLog = append(f.AuditLog, verifytest.AuditLine(`CREATE USER \'app\'@\'%\' IDENTIFIED BY \'***\'`), verifytest.AuditLine(`ALTER USER 'app'@'%' IDENTIFIED BY '<secret>'`))
	res, out = run(t, f, f.Clients())
	wantLines(t, res, out, nil, map[string][]string{"audit-log": {"3 statement(s) with a password", "every password masked"}})

	// More pages than verify reads: inconclusive, which fails.
	f = verifytest.Healthy()
	for range verify.AuditMaxPages {
		f.AuditLog = append(f.AuditLog, verifytest.AuditLine(`ALTER USER \'app\'@\'%\' IDENTIFIED BY *****`))
	}
	res, out = run(t, f, f.Clients())
	wantLines(t, res, out, []string{"audit-log"}, map[string][]string{"audit-log": {"read 20 page(s) of /aws/rds/cluster/aurora-cluster-dev/audit (20 statement(s) with a password, all masked) and more remain: inconclusive"}})

	f = verifytest.Healthy()
	f.UseExistingCluster()
	f.AuditLog = nil
	res, out = run(t, f, f.Clients())
	wantLines(t, res, out, nil, map[string][]string{"audit-log": {"PASS audit-log: the team's cluster aurora-cluster-dev does not export its audit log"}})

	f = verifytest.Healthy()
	f.AuditLog = f.AuditLog[:1]
	v := &verify.Verifier{Clients: f.Clients(), Outputs: f.Outputs, Env: "dev", Fresh: true}
	if r := lineOf(t, v.Run(context.Background()), "audit-log"); !r.OK || !strings.HasPrefix(r.Detail, "pending: no statement with a password") {
		t.Fatalf("fresh: %s", r.Line())
	}
}

// alerts-rotator tests each half of the pattern with a real call: the
// role filter with a CreateFunction giving the rotator's role, the function
// filter with the newest change of the rotator itself (another function's,
// even one whose name extends the rotator's or one of another account, is
// passed over); what it cannot find is unconfirmed, or pending in a fresh
// environment, and a lookup that stops with pages left is inconclusive.
func TestAlertsRotatorTestsEachHalf(t *testing.T) {
	lambda := func(name string, params map[string]any) cttypes.Event {
		return verifytest.EventOf(verifytest.LambdaRecord(name, params, time.Now().Add(-time.Hour)))
	}
	f := verifytest.Healthy()
	f.History = append(f.History[:5:5],
		lambda("UpdateFunctionCode20150331v2", map[string]any{"functionName": "arn:aws:lambda:us-east-1:123456789012:function:rotator-dev-eu"}),
		lambda("UpdateFunctionCode20150331v2", map[string]any{"functionName": "arn:aws:lambda:us-east-1:999999999999:function:rotator-dev"}))
	res, out := run(t, f, f.Clients())
	wantLines(t, res, out, nil, map[string][]string{"alerts-rotator": {"the role filter matches the real CreateFunction20150331 event",
		"no UpdateFunctionCode20150331v2 or UpdateFunctionConfiguration20150331v2 or AddPermission20150331v2 of rotator-dev in the last 90 days: the function filter is unconfirmed"}})

	f = verifytest.Healthy()
	f.History = append(f.History, lambda("UpdateFunctionCode20150331v2", map[string]any{"functionName": "123456789012:function:rotator-dev:$LATEST"}))
	res, out = run(t, f, f.Clients())
	wantLines(t, res, out, nil, map[string][]string{"alerts-rotator": {"the function filter matches the real UpdateFunctionCode20150331v2 event"}})

	f = verifytest.Healthy()
	f.History = f.History[:3]
	v := &verify.Verifier{Clients: f.Clients(), Outputs: f.Outputs, Env: "dev", Fresh: true}
	if r := lineOf(t, v.Run(context.Background()), "alerts-rotator"); !r.OK || strings.Count(r.Detail, "pending: no ") != 2 {
		t.Fatalf("fresh: %s", r.Line())
	}

	f = verifytest.Healthy()
	f.History = f.History[:3]
	for i := range verify.ShapeMaxPages + 1 {
		f.History = append(f.History, lambda("CreateFunction20150331", map[string]any{"functionName": fmt.Sprintf("other-%d", i), "role": "arn:aws:iam::123456789012:role/other"}))
	}
	res, out = run(t, f, f.Clients())
	wantLines(t, res, out, []string{"alerts-rotator"}, map[string][]string{"alerts-rotator": {"the role filter: read 3 page(s) of each of CreateFunction20150331 and found no call on rotator-dev, with more left: inconclusive"}})
}

// mustReplace replaces old in s once, failing t when s does not hold it.
func mustReplace(t *testing.T, s, old, new string) string {
	t.Helper()
	if !strings.Contains(s, old) {
		t.Fatalf("%q not found in %s", old, s)
	}
	return strings.Replace(s, old, new, 1)
}

// A policy as Secrets Manager may give it back, reformatted (a one-element
// list as a string, actions in another order and case), passes.
func TestReformattedPolicyPasses(t *testing.T) {
	f := verifytest.Healthy()
	p := mustReplace(t, verifytest.Policy, `"Action":["secretsmanager:PutSecretValue","secretsmanager:UpdateSecretVersionStage"]`, `"Action":["SecretsManager:UpdateSecretVersionStage","secretsmanager:PutSecretValue"]`)
	p = strings.ReplaceAll(p, `"Principal":"*"`, `"Principal":{"AWS":"*"}`)
	p = strings.ReplaceAll(p, `"Resource":"*"`, `"Resource":["*"]`)
	f.Secrets[verifytest.AppSecrets["app"]].Policy = p
	res, out := run(t, f, f.Clients())
	if failed := failures(res); len(failed) != 0 {
		t.Fatalf("a reformatted policy fails:\n%s", out)
	}
}
