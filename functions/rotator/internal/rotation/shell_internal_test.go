package rotation

import (
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

func TestShellWord(t *testing.T) {
	for in, want := range map[string]string{
		"arn:aws:secretsmanager:us-east-1:123456789012:secret:db-credentials-app-dev-AbCdEf": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-credentials-app-dev-AbCdEf",
		"arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-x":                 "'arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-x'",
		"it's":             `'it'\''s'`,
		"a b $(x) `y` 'z'": `'a b $(x) ` + "`y`" + ` '\''z'\'''`,
	} {
		if got := shellWord(in); got != want {
			t.Errorf("shellWord(%q) = %s, want %s", in, got, want)
		}
	}
}

// The command a stuck rotation's error suggests quotes the secret id and
// the version id: a caller chooses the version id (ClientRequestToken).
func TestStuckCommandQuotesIDs(t *testing.T) {
	const token = "v1' $(touch /tmp/pwned) x"
	r := &run{deps: &deps{
		ev: events.SecretsManagerSecretRotationEvent{SecretID: "my secret", ClientRequestToken: "other"},
		desc: &secretsmanager.DescribeSecretOutput{VersionIdsToStages: map[string][]string{
			"cur": {StageCurrent}, token: {StagePending},
		}},
	}}
	got := r.stuck()
	want := `--secret-id 'my secret' --version-stage AWSPENDING --remove-from-version-id 'v1'\'' $(touch /tmp/pwned) x'`
	if !strings.HasSuffix(got, want) {
		t.Fatalf("stuck() = %s\nwant it to end with %s", got, want)
	}
}
