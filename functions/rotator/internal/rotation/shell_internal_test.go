package rotation

import "testing"

func TestShellWord(t *testing.T) {
	for in, want := range map[string]string{
		"arn:aws:secretsmanager:us-east-1:123456789012:secret:db-credentials-app-dev-AbCdEf": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-credentials-app-dev-AbCdEf",
		"arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-x":                 "'arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-x'",
		"it's": `'it'\''s'`,
	} {
		if got := shellWord(in); got != want {
			t.Errorf("shellWord(%q) = %s, want %s", in, got, want)
		}
	}
}
