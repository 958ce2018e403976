package rotation_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/dbvault/dbvault/functions/rotator/internal/config"
	"github.com/dbvault/dbvault/functions/rotator/internal/mysqldb"
)

var smtypesRules = smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func jsonEscaped(s string) string {
	b, _ := json.Marshal(s)
	return strings.Trim(string(b), `"`)
}

// everyChar is every character GetRandomPassword can emit under the
// rotator's default exclusions (printable ASCII without space / @ " ' \).
func everyChar() string {
	var b strings.Builder
	for c := byte(33); c <= 126; c++ {
		if !strings.ContainsRune(`/@"'\`, rune(c)) {
			b.WriteByte(c)
		}
	}
	return b.String()
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// configWithCA is the function's verify-full database configuration with
// caFile as DB_TLS_CA_FILE.
func configWithCA(caFile string) (mysqldb.Options, error) {
	cfg, err := config.FromEnv(func(k string) string {
		if k == "DB_TLS_CA_FILE" {
			return caFile
		}
		return ""
	})
	if err != nil {
		return mysqldb.Options{}, err
	}
	return cfg.DBOptions()
}
