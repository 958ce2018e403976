package appusers

import (
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	got, err := Parse(`{"db-credentials-app-dev": {"username": "app", "database": "vault", "privileges": ["select", "INSERT", "create  temporary tables", "SELECT"]}}`)
	if err != nil {
		t.Fatal(err)
	}
	u := got["db-credentials-app-dev"]
	if u.Username != "app" || u.Database != "vault" || !slices.Equal(u.Privileges, []string{"SELECT", "INSERT", "CREATE TEMPORARY TABLES"}) {
		t.Fatalf("Parse = %+v", got)
	}
	if got, err := Parse(""); err != nil || len(got) != 0 {
		t.Fatalf("Parse(\"\") = %v, %v", got, err)
	}
}

func TestParseRefuses(t *testing.T) {
	for in, want := range map[string]string{
		`{"s": {"username": "app"`: "not a JSON object",
		`[]`:                       "not a JSON object",
		`null`:                     "null",
		`{"s": {"username": "", "database": "d", "privileges": []}}`:                                     "username is empty",
		`{"s": {"username": "a", "database": "", "privileges": []}}`:                                     "database is empty",
		`{"s": {"username": "a", "database": "d", "privileges": ["ALL"]}}`:                               `"ALL" cannot be declared`,
		`{"s": {"username": "a", "database": "d", "privileges": ["GRANT OPTION"]}}`:                      `"GRANT OPTION" cannot be declared`,
		`{"s": {"username": "a", "database": "d", "privileges": ["SUPER"]}}`:                             `"SUPER" cannot be declared`,
		`{"s": {"username": "a", "database": "d", "privilege": ["SELECT"]}}`:                             "unknown field",
		`{"arn:aws:secretsmanager:us-east-1:123456789012:secret:s": {"username": "a", "database": "d"}}`: "secret name",
		`{"s": {"username": "a", "database": "d"}, "t": {"username": "a", "database": "e"}}`:             "both declare the user a",
		`{"s": {"username": "a", "database": "` + strings.Repeat("d", 65) + `"}}`:                        "MySQL allows 64",
		`{"s": {"username": "a", "database": "d"}} {}`:                                                   "more than one",
	} {
		if _, err := Parse(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%s) = %v; want an error saying %q", in, err, want)
		}
	}
}

// A system database gives its user the server's own state (mysql holds
// every account's password hash): refused here, not only by the deployer.
func TestParseRefusesSystemDatabases(t *testing.T) {
	for _, db := range []string{"mysql", "MySQL", "sys", "performance_schema", "INFORMATION_SCHEMA"} {
		in := `{"s": {"username": "a", "database": "` + db + `", "privileges": ["SELECT"]}}`
		if _, err := Parse(in); err == nil || !strings.Contains(err.Error(), "is a system database") {
			t.Errorf("Parse with the database %s = %v; want a refusal", db, err)
		}
	}
	if _, err := Parse(`{"s": {"username": "a", "database": "mysql_app", "privileges": ["SELECT"]}}`); err != nil {
		t.Errorf("an application database whose name starts with mysql was refused: %v", err)
	}
}
