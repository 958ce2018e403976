package accesstable

import (
	"strings"
	"testing"

	"github.com/dbvault/dbvault/ops/access"
)

const (
	testAccount = "123456789012"
	readerArn   = "arn:aws:iam::123456789012:role/reader"
	secretA     = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-credentials-a-dev-AbCdEf"
	secretB     = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-credentials-b-dev-GhIjKl"
)

func parsed(t *testing.T, name, doc string) access.Policy {
	t.Helper()
	p, err := access.Parse(name, doc)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A hand-written vault: both secrets' policies let the reader read, but the
// key lets it decrypt only secret A, only through Secrets Manager, and
// denies every direct use.
func smallVault(t *testing.T) Vault {
	readable := parsed(t, "secret policy", `{"Statement":[{"Sid":"Reader","Effect":"Allow","Principal":{"AWS":"`+readerArn+`"},"Action":["secretsmanager:GetSecretValue","secretsmanager:PutSecretValue"],"Resource":"*"}]}`)
	return Vault{
		Account: testAccount, Region: "us-east-1",
		KeyArn: "arn:aws:kms:us-east-1:123456789012:key/k",
		KeyPolicy: parsed(t, "key policy", `{"Statement":[`+
			`{"Sid":"ReaderDecryptsA","Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"secretsmanager.us-east-1.amazonaws.com","kms:CallerAccount":"`+testAccount+`"},"ArnEquals":{"aws:PrincipalArn":"`+readerArn+`","kms:EncryptionContext:SecretARN":"`+secretA+`"}}},`+
			`{"Sid":"OnlyThroughSecretsManager","Effect":"Deny","Principal":{"AWS":"*"},"Action":"kms:*","Resource":"*","Condition":{"StringNotEquals":{"kms:ViaService":"secretsmanager.us-east-1.amazonaws.com"}}}]}`),
		AppSecrets: []Secret{
			{User: "a", Arn: secretA, Readers: []string{readerArn}, Policy: &readable},
			{User: "b", Arn: secretB, Policy: &readable},
		},
	}
}

func action(t *testing.T, name string) Action {
	t.Helper()
	for _, a := range Actions {
		if a.Name == name {
			return a
		}
	}
	t.Fatalf("no column %s", name)
	return Action{}
}

// GetSecretValue is allowed only when KMS also allows the Decrypt that
// Secrets Manager makes for the caller, with kms:ViaService and the
// secret's ARN as encryption context; PutSecretValue needs
// GenerateDataKey. A direct KMS call carries no kms:ViaService.
func TestDecideJoinsSecretsManagerAndKMS(t *testing.T) {
	v := smallVault(t)
	reader := Row{Kind: Reader, Label: "reader", Principal: access.Principal{ARN: readerArn, Account: testAccount}}
	for _, tc := range []struct {
		action string
		secret Secret
		allow  bool
		by     string
		why    string
	}{
		{"secretsmanager:GetSecretValue", v.AppSecrets[0], true, "secret policy/Reader", ""},
		{"secretsmanager:GetSecretValue", v.AppSecrets[1], false, "", "kms:Decrypt through Secrets Manager"},
		{"secretsmanager:PutSecretValue", v.AppSecrets[0], false, "", "kms:GenerateDataKey through Secrets Manager"},
		{"kms:Decrypt", v.AppSecrets[0], false, "key policy/OnlyThroughSecretsManager", ""},
	} {
		d, err := v.Decide(reader, action(t, tc.action), tc.secret)
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed != tc.allow || d.By != tc.by || !strings.Contains(d.Why, tc.why) {
			t.Errorf("%s on %s: got %s, want allowed=%v by %q (%q)", tc.action, tc.secret.User, d, tc.allow, tc.by, tc.why)
		}
	}
}

// A condition key the request model does not supply shows up in
// TestedKeys, so the contract test can refuse to judge it as absent.
func TestTestedKeysFindsUnsuppliedKeys(t *testing.T) {
	v := smallVault(t)
	v.RotatorPolicy = parsed(t, "rotator", `{"Statement":[`+
		`{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}},`+
		`{"Effect":"Allow","Action":"ec2:CreateNetworkInterface","Resource":"*","Condition":{"StringEquals":{"ec2:Vpc":"vpc-1"}}}]}`)
	keys := strings.Join(v.TestedKeys(), ",")
	if !strings.Contains(keys, "aws:sourceip") {
		t.Errorf("TestedKeys = %s, want aws:sourceip", keys)
	}
	if strings.Contains(keys, "ec2:vpc") {
		t.Errorf("TestedKeys = %s: ec2:Vpc is on a statement no column's action reaches", keys)
	}
	for _, k := range strings.Split(keys, ",") {
		if k != "aws:sourceip" && !containsKey(k) {
			t.Errorf("key %s is tested but not supplied", k)
		}
	}
}

func containsKey(k string) bool {
	for _, s := range suppliedKeys {
		if s == k {
			return true
		}
	}
	return false
}

// The documented table has one row per label and kind of secret: cells
// that disagree within one would be hidden, so render refuses them.
func TestRenderRefusesDisagreeingCells(t *testing.T) {
	get := action(t, "secretsmanager:GetSecretValue")
	row := Row{Kind: Administrator, Label: "administrators"}
	cells := []Cell{
		{Row: row, Action: get, Secret: Secret{User: "a"}, Decision: access.Decision{Allowed: true}},
		{Row: row, Action: get, Secret: Secret{User: "b"}, Decision: access.Decision{Allowed: false}},
	}
	if _, err := render(cells); err == nil {
		t.Fatal("render accepted two outcomes for one cell")
	}
	out, err := render(cells[:1])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "| administrators | allow |") {
		t.Errorf("rendered:\n%s", out)
	}
}
