package rotation_test

import (
	"encoding/json"
	"fmt"
	"net/url"
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

// encodings are the forms in which a library might print a secret value:
// raw, JSON (with and without HTML escaping), Go %q and %+q, URL-escaped
// (query and path). Written independently of the redactor's own list.
func encodings(v string) []string {
	var noHTML strings.Builder
	enc := json.NewEncoder(&noHTML)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return []string{v, jsonEscaped(v), strings.Trim(strings.TrimSpace(noHTML.String()), `"`),
		strings.Trim(fmt.Sprintf("%q", v), `"`), strings.Trim(fmt.Sprintf("%+q", v), `"`), url.QueryEscape(v), url.PathEscape(v)}
}

// leakForms quotes a password in every one of encodings, as the worst
// driver would.
func leakForms(v string) string { return strings.Join(encodings(v), " | ") }

func jsonEscaped(s string) string {
	b, _ := json.Marshal(s)
	return strings.Trim(string(b), `"`)
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
