package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/dbvault/dbvault/ops/internal/verifytest"
	"github.com/dbvault/dbvault/ops/verify"
	"github.com/dbvault/dbvault/stacks/secrets"
)

// withFakes makes verify use f's fakes (and the emulator for Secrets
// Manager) for the test.
func withFakes(t *testing.T, f *verifytest.Fixture) {
	c := f.Clients()
	fakeClients = &c
	t.Cleanup(func() { fakeClients = nil })
}

// snapshot is what the emulator holds of each secret: a write would change it.
func snapshot(t *testing.T, em *verifytest.Emulator) string {
	t.Helper()
	var b strings.Builder
	for _, arn := range append([]string{em.Master}, em.Apps["app"], em.Apps["reporting"]) {
		d, err := em.Client.DescribeSecret(context.Background(), &secretsmanager.DescribeSecretInput{SecretId: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %v %v %v\n", arn, d.LastChangedDate, d.LastRotatedDate, d.VersionIdsToStages)
	}
	return b.String()
}

func TestVerifyHealthyEnvironment(t *testing.T) {
	f := verifytest.Healthy()
	em := verifytest.StartEmulator(t, f)
	withFakes(t, f)
	path := verifytest.WriteOutputs(t, f.Outputs)
	before := snapshot(t, em)
	var out, stderr bytes.Buffer
	code := run(context.Background(), []string{"verify", "-outputs", path},
		envOf(map[string]string{"ENV": "dev", "SECRETS_MANAGER_ENDPOINT": em.URL}), nil, &out, &stderr)
	if code != 0 {
		t.Fatalf("exit %d:\n%s%s", code, out.String(), stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 18 {
		t.Fatalf("want 18 lines:\n%s", out.String())
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "PASS ") {
			t.Errorf("not a PASS line: %s", l)
		}
	}
	if !strings.Contains(out.String(), "PASS secrets/app: "+em.Apps["app"]) {
		t.Errorf("the application secret was not read from the emulator:\n%s", out.String())
	}
	if w := f.Calls.Writes(); len(w) > 0 {
		t.Errorf("writes: %v", w)
	}
	if after := snapshot(t, em); after != before {
		t.Errorf("the emulator's secrets changed:\n%s\n%s", before, after)
	}
	t.Logf("\n%s", out.String())
}

// One broken fixture per check: the command exits non-zero and exactly
// that check's line fails, with its fix.
func TestVerifyBrokenEnvironmentExitsNonZero(t *testing.T) {
	for _, c := range []struct {
		check, want string
		failUsers   []string
		brk         func(f *verifytest.Fixture, em *verifytest.Emulator)
	}{
		{"trail", "is not logging", nil, func(f *verifytest.Fixture, _ *verifytest.Emulator) { f.Trail.IsLogging = aws.Bool(false) }},
		{"alerts", "rule rotation-failed-dev is DISABLED, not ENABLED; fix: deploy the secrets layer (ENV=dev go run mage.go up:secrets, after (cd stacks/secrets && pulumi refresh --yes --stack <org>/vault-secrets/dev))", nil,
			func(f *verifytest.Fixture, _ *verifytest.Emulator) { f.Rule.State = ebtypes.RuleStateDisabled }},
		{"alerts", "output rotationFailedRuleName missing: deploy layer secrets again; fix: ENV=dev go run mage.go up:secrets", nil,
			func(f *verifytest.Fixture, _ *verifytest.Emulator) {
				delete(f.Outputs["secrets"], "rotationFailedRuleName")
			}},
		{"alerts-event-shape", "no RotationSucceeded event of secretsmanager.amazonaws.com for this vault's secrets in the last 32 days", nil,
			func(f *verifytest.Fixture, _ *verifytest.Emulator) { f.History = nil }},
		{"alerts-event-shape", "at requestParameters.secretId; its additionalEventData.SecretId missing; fix: align FailurePattern in stacks/secrets/alerts.go with that path", nil,
			func(f *verifytest.Fixture, _ *verifytest.Emulator) {
				// The emulator's ARN (UseSecrets) is in History[1]: move it.
				var r map[string]any
				if err := json.Unmarshal([]byte(aws.ToString(f.History[1].CloudTrailEvent)), &r); err != nil {
					t.Fatal(err)
				}
				aed := r["additionalEventData"].(map[string]any)
				delete(r, "additionalEventData")
				r["requestParameters"] = map[string]any{"secretId": aed["SecretId"]}
				f.History[1] = verifytest.EventOf(r)
			}},
		{"rotator", "are not the network's privateSubnetIds", nil, func(f *verifytest.Fixture, _ *verifytest.Emulator) {
			f.Function.VpcConfig.SubnetIds = []string{"subnet-0z"}
		}},
		{"secrets/reporting", "unfinished rotation", []string{"reporting"}, func(*verifytest.Fixture, *verifytest.Emulator) {}},
		{"secrets/master", "rotated by the Lambda function", nil, func(_ *verifytest.Fixture, em *verifytest.Emulator) {
			if _, err := em.Client.RotateSecret(context.Background(), &secretsmanager.RotateSecretInput{SecretId: aws.String(em.Master),
				RotationLambdaARN: aws.String(verifytest.FunctionArn)}); err != nil {
				t.Fatal(err)
			}
		}},
		{"app-secret-policies", "reporting (", nil, func(_ *verifytest.Fixture, em *verifytest.Emulator) {
			if _, err := em.Client.DeleteResourcePolicy(context.Background(), &secretsmanager.DeleteResourcePolicyInput{SecretId: aws.String(em.Apps["reporting"])}); err != nil {
				t.Fatal(err)
			}
		}},
		{"master-secret-policy", "lacks the Deny statement(s) OnlyAdministratorsManage", nil, func(_ *verifytest.Fixture, em *verifytest.Emulator) {
			policy := strings.Replace(verifytest.Policy, `"Sid":"OnlyAdministratorsManage"`, `"Sid":"Manage"`, 1)
			if _, err := em.Client.PutResourcePolicy(context.Background(), &secretsmanager.PutResourcePolicyInput{SecretId: aws.String(em.Master), ResourcePolicy: aws.String(policy)}); err != nil {
				t.Fatal(err)
			}
		}},
		{"secrets-key-direct-use", "KMS authorized it", nil, func(f *verifytest.Fixture, _ *verifytest.Emulator) { f.KeyAnswer = nil }},
		{"database", "require_secure_transport is OFF", nil, func(f *verifytest.Fixture, _ *verifytest.Emulator) {
			f.Parameters[0].ParameterValue = aws.String("OFF")
		}},
		{"tls-version", "pending-reboot", nil, func(f *verifytest.Fixture, _ *verifytest.Emulator) {
			f.Cluster.DBClusterMembers[0].DBClusterParameterGroupStatus = aws.String("pending-reboot")
		}},
		{"audit-log", "whose password is written out", nil, func(f *verifytest.Fixture, _ *verifytest.Emulator) {
			f.AuditLog = append(f.AuditLog, verifytest.AuditLine(`ALTER USER \'app\'@\'%\' IDENTIFIED BY \'Pw-Leaked-1\'`))
		}},
		{"flow-log", "Access error", nil, func(f *verifytest.Fixture, _ *verifytest.Emulator) {
			f.FlowLogs[0].DeliverLogsStatus, f.FlowLogs[0].DeliverLogsErrorMessage = aws.String("FAILED"), aws.String("Access error")
		}},
		{"endpoints", "has private DNS off", nil, func(f *verifytest.Fixture, _ *verifytest.Emulator) {
			f.Endpoints[0].PrivateDnsEnabled = aws.Bool(false)
		}},
		{"zones", "span 1 zone", nil, func(f *verifytest.Fixture, _ *verifytest.Emulator) {
			f.Subnets[1].AvailabilityZoneId = f.Subnets[0].AvailabilityZoneId
		}},
	} {
		t.Run(c.check+"/"+c.want[:min(len(c.want), 24)], func(t *testing.T) {
			f := verifytest.Healthy()
			em := verifytest.StartEmulator(t, f, c.failUsers...)
			c.brk(f, em)
			withFakes(t, f)
			var out, stderr bytes.Buffer
			code := run(context.Background(), []string{"verify"},
				envOf(map[string]string{"ENV": "dev", "SECRETS_MANAGER_ENDPOINT": em.URL, "VERIFY_OUTPUTS": verifytest.WriteOutputs(t, f.Outputs)}), nil, &out, &stderr)
			if code == 0 {
				t.Fatalf("exit 0:\n%s", out.String())
			}
			var failed []string
			for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
				if strings.HasPrefix(l, "FAIL ") {
					failed = append(failed, l)
				}
			}
			if len(failed) != 1 || !strings.HasPrefix(failed[0], "FAIL "+c.check+": ") || !strings.Contains(failed[0], c.want) || !strings.Contains(failed[0], "; fix: ") {
				t.Fatalf("want exactly one FAIL %s line with %q:\n%s", c.check, c.want, out.String())
			}
			if !strings.Contains(stderr.String(), "1 of 18 checks failed") {
				t.Fatalf("stderr: %s", stderr.String())
			}
			if w := f.Calls.Writes(); len(w) > 0 {
				t.Errorf("writes: %v", w)
			}
		})
	}
}

// The fakes' rule pattern is the one the secrets layer writes: the
// alerts checks test what is deployed.
func TestFakePatternIsFailurePattern(t *testing.T) {
	arns := verifytest.VaultSecrets()
	want, err := secrets.FailurePattern(arns)
	if err != nil {
		t.Fatal(err)
	}
	if got := verifytest.PatternFor(arns); got != want {
		t.Fatalf("verifytest.PatternFor\n%s\nsecrets.FailurePattern\n%s", got, want)
	}
}

// Without fakes, verify talks to AWS and so needs credentials: the
// preflight says so before any call.
func TestVerifyWithoutCredentialsFailsPreflight(t *testing.T) {
	noTools(t)
	f := verifytest.Healthy()
	path := verifytest.WriteOutputs(t, f.Outputs)
	var out, stderr bytes.Buffer
	code := run(context.Background(), []string{"verify", "-outputs", path},
		envOf(map[string]string{"ENV": "dev", "SECRETS_MANAGER_ENDPOINT": "https://vpce-0sm-1a2b.secretsmanager.us-east-1.vpce.amazonaws.com"}), nil, &out, &stderr)
	if code == 0 || !strings.Contains(stderr.String(), "no AWS credentials") || out.Len() != 0 {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out.String(), stderr.String())
	}
}

// The emulator's endpoint, left set from the runbooks' local steps, would
// make the secrets' lines read the emulator while the rest reads AWS:
// refused before anything is read.
func TestVerifyRefusesTheEmulatorsEndpoint(t *testing.T) {
	f := verifytest.Healthy()
	path := verifytest.WriteOutputs(t, f.Outputs)
	var out, stderr bytes.Buffer
	code := run(context.Background(), []string{"verify", "-outputs", path},
		envOf(map[string]string{"ENV": "dev", "SECRETS_MANAGER_ENDPOINT": "http://127.0.0.1:4566"}), nil, &out, &stderr)
	if code == 0 || !strings.Contains(stderr.String(), "SECRETS_MANAGER_ENDPOINT is http://127.0.0.1:4566, not an AWS endpoint") || out.Len() != 0 {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out.String(), stderr.String())
	}
	for _, name := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SECRETS_MANAGER"} {
		stderr.Reset()
		code = run(context.Background(), []string{"verify", "-outputs", path},
			envOf(map[string]string{"ENV": "dev", name: "https://localhost:4566"}), nil, &out, &stderr)
		if code == 0 || !strings.Contains(stderr.String(), name+" is set") || out.Len() != 0 {
			t.Fatalf("%s: exit %d, stdout %q, stderr %q", name, code, out.String(), stderr.String())
		}
	}
}

func TestVerifyWithoutEnvOrOutputs(t *testing.T) {
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"verify"}, envOf(nil), nil, &bytes.Buffer{}, &stderr); code == 0 ||
		!strings.Contains(stderr.String(), "set ENV to read the environment's stacks, or -outputs FILE") {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
}

// verify reads the region the environment's secrets and keys are in, and
// refuses an AWS_REGION that names another before any call.
func TestVerifyReadsTheEnvironmentsRegion(t *testing.T) {
	f := verifytest.Healthy()
	withFakes(t, f)
	path := verifytest.WriteOutputs(t, f.Outputs)
	var out, stderr bytes.Buffer
	code := run(context.Background(), []string{"verify", "-outputs", path},
		envOf(map[string]string{"ENV": "dev", "AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y"}), nil, &out, &stderr)
	if code == 0 || !strings.Contains(stderr.String(), "AWS_REGION is eu-west-1, but the environment's secrets and keys are in us-east-1") {
		t.Fatalf("exit %d, want the region refused:\n%s%s", code, out.String(), stderr.String())
	}
	if calls := f.Calls.List(); len(calls) != 0 {
		t.Errorf("calls before the refusal: %v", calls)
	}
	for env, want := range map[string]string{"": "us-east-1", "us-east-1": "us-east-1"} {
		if got, err := verifyRegion(f.Outputs, env); err != nil || got != want {
			t.Errorf("AWS_REGION %q: region %q, %v; want %s", env, got, err, want)
		}
	}
	if got, err := verifyRegion(verify.Outputs{}, "ap-south-1"); err != nil || got != "ap-south-1" {
		t.Errorf("no ARN in the outputs: region %q, %v; want AWS_REGION's", got, err)
	}
}
