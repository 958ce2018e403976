package config

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := FromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	p := c.Rotation.Password
	if p.Length != 32 || !p.RequireEachIncludedType || p.IncludeSpace || p.ExcludeNumbers || p.ExcludePunctuation || p.ExcludeUppercase || p.ExcludeLowercase {
		t.Fatalf("password policy %+v", p)
	}
	for _, ch := range ` /@"'\` {
		if !strings.ContainsRune(p.ExcludeCharacters, ch) {
			t.Errorf("the default exclusions lack %q", ch)
		}
	}
	if c.TLSMode != TLSVerifyFull || c.Rotation.CloneSuffix != "_clone" || c.ConnectTimeout != 5*time.Second || c.StatementTimeout != 10*time.Second || c.SecretsManagerEndpoint != "" {
		t.Fatalf("defaults %+v", c)
	}
	o, err := c.DBOptions()
	if err != nil || o.TLS == nil || o.TLS.InsecureSkipVerify || o.TLS.RootCAs == nil {
		t.Fatalf("verify-full options %+v, %v", o, err)
	}
}

func TestEverySetting(t *testing.T) {
	ca := filepath.Join(t.TempDir(), "ca.pem")
	bundle, err := os.ReadFile("../mysqldb/rds-ca-bundle.pem")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ca, bundle[:strings.Index(string(bundle), "-----END CERTIFICATE-----")+26], 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := FromEnv(env(map[string]string{
		"SECRETS_MANAGER_ENDPOINT": "https://vpce.example", "PASSWORD_LENGTH": "48", "EXCLUDE_CHARACTERS": "xyz",
		"EXCLUDE_NUMBERS": "true", "EXCLUDE_PUNCTUATION": "1", "EXCLUDE_UPPERCASE": "true", "EXCLUDE_LOWERCASE": "false",
		"INCLUDE_SPACE": "true", "REQUIRE_EACH_INCLUDED_TYPE": "false", "DB_TLS": "verify-full", "DB_TLS_CA_FILE": ca,
		"CLONE_SUFFIX": "_b", "DB_CONNECT_TIMEOUT": "2s", "DB_STATEMENT_TIMEOUT": "3s",
	}))
	if err != nil {
		t.Fatal(err)
	}
	p := c.Rotation.Password
	if c.SecretsManagerEndpoint != "https://vpce.example" || p.Length != 48 || p.ExcludeCharacters != "xyz" || !p.ExcludeNumbers ||
		!p.ExcludePunctuation || !p.ExcludeUppercase || p.ExcludeLowercase || !p.IncludeSpace || p.RequireEachIncludedType ||
		c.Rotation.CloneSuffix != "_b" || c.ConnectTimeout != 2*time.Second || c.StatementTimeout != 3*time.Second {
		t.Fatalf("%+v", c)
	}
	if _, err := c.DBOptions(); err != nil {
		t.Fatal(err)
	}
	c, err = FromEnv(env(map[string]string{"DB_TLS": "disabled"}))
	if err != nil {
		t.Fatal(err)
	}
	if o, err := c.DBOptions(); err != nil || o.TLS != nil {
		t.Fatalf("disabled: %+v, %v", o, err)
	}
}

func TestRefusesWhatItCannotRead(t *testing.T) {
	for _, m := range []map[string]string{
		{"DB_TLS": "prefer"}, {"DB_TLS": "VERIFY-FULL"}, {"PASSWORD_LENGTH": "7"}, {"PASSWORD_LENGTH": "x"},
		{"EXCLUDE_PUNCTUATION": "yes please"}, {"DB_CONNECT_TIMEOUT": "-1s"}, {"DB_STATEMENT_TIMEOUT": "1h"},
	} {
		if _, err := FromEnv(env(m)); err == nil {
			t.Errorf("accepted %v", m)
		}
	}
	c, _ := FromEnv(env(map[string]string{"DB_TLS_CA_FILE": "/nonexistent"}))
	if _, err := c.DBOptions(); err == nil {
		t.Error("accepted a missing CA file")
	}
}

func TestDeclaredUsers(t *testing.T) {
	const master = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!cluster-abc-XyZ123"
	c, err := FromEnv(env(map[string]string{
		"MASTER_SECRET_ARN": master,
		"APP_USERS":         `{"db-credentials-app-dev": {"username": "app", "database": "vault", "privileges": ["SELECT","INSERT","UPDATE","DELETE"]}}`,
	}))
	if err != nil {
		t.Fatal(err)
	}
	u, ok := c.Rotation.AppUsers["db-credentials-app-dev"]
	if c.Rotation.MasterSecretARN != master || !ok || u.Username != "app" || u.Database != "vault" || len(u.Privileges) != 4 {
		t.Fatalf("declared users %+v, master %q", c.Rotation.AppUsers, c.Rotation.MasterSecretARN)
	}
	if c.Rotation.DeclaredOnly {
		t.Error("DeclaredOnly without DECLARED_ONLY")
	}
	c, err = FromEnv(env(map[string]string{"APP_USERS": `{"s": {"username": "a", "database": "d"}}`, "DECLARED_ONLY": "true"}))
	if err != nil || !c.Rotation.DeclaredOnly {
		t.Fatalf("DECLARED_ONLY=true: %+v, %v", c.Rotation.DeclaredOnly, err)
	}
	if c, err := FromEnv(env(nil)); err != nil || len(c.Rotation.AppUsers) != 0 || c.Rotation.MasterSecretARN != "" {
		t.Fatalf("without the variables: %+v, %v", c.Rotation, err)
	}
}

// A hundred declarations, too many for Lambda's 4 KB environment, come
// from the file APP_USERS_FILE names (the secrets layer's Lambda layer).
func TestDeclaredUsersFromFile(t *testing.T) {
	decl := map[string]any{}
	for i := range 100 {
		decl[fmt.Sprintf("db-credentials-svc%03d-dev", i)] = map[string]any{"username": fmt.Sprintf("svc%03d", i), "database": "vault", "privileges": []string{"SELECT", "INSERT", "UPDATE", "DELETE"}}
	}
	b, err := json.Marshal(decl)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) <= 4096 {
		t.Fatalf("the declarations are %d bytes; the test needs more than Lambda's 4 KB environment", len(b))
	}
	path := filepath.Join(t.TempDir(), "app-users.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := FromEnv(env(map[string]string{"APP_USERS_FILE": path}))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(c.Rotation.AppUsers); n != 100 || c.Rotation.AppUsers["db-credentials-svc042-dev"].Username != "svc042" {
		t.Fatalf("%d declared users from the file, want 100 with svc042", n)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"s": {"username": "a_clone", "database": "d"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"APP_USERS_FILE": path, "APP_USERS": "{}"}, "both APP_USERS and APP_USERS_FILE"},
		{map[string]string{"APP_USERS_FILE": "app-users.json"}, "absolute path"},
		{map[string]string{"APP_USERS_FILE": filepath.Join(t.TempDir(), "missing.json")}, "APP_USERS_FILE: open"},
		{map[string]string{"APP_USERS_FILE": bad}, "APP_USERS_FILE " + bad + ": APP_USERS[\"s\"]: the username a_clone ends with CLONE_SUFFIX"},
	} {
		if _, err := FromEnv(env(tc.env)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("FromEnv(%v) = %v; want an error saying %q", tc.env, err, tc.want)
		}
	}
}

func TestBadDeclaredUsers(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"APP_USERS": `{"s": `}, "APP_USERS is not a JSON object"},
		{map[string]string{"APP_USERS": `{"s": {"username": "", "database": "d"}}`}, "username is empty"},
		{map[string]string{"APP_USERS": `{"s": {"username": "a", "database": "d", "privileges": ["ALL PRIVILEGES"]}}`}, "cannot be declared"},
		{map[string]string{"APP_USERS": `{"s": {"username": "a_clone", "database": "d"}}`}, "ends with CLONE_SUFFIX"},
		{map[string]string{"APP_USERS": `{"s": {"username": "a-x", "database": "d"}}`, "CLONE_SUFFIX": "-x"}, "ends with CLONE_SUFFIX"},
		{map[string]string{"DECLARED_ONLY": "true"}, "DECLARED_ONLY=true without declarations"},
		{map[string]string{"DECLARED_ONLY": "yes", "APP_USERS": `{"s": {"username": "a", "database": "d"}}`}, "DECLARED_ONLY=\"yes\": expected true or false"},
		{map[string]string{"MASTER_SECRET_ARN": "rds!cluster-abc"}, "MASTER_SECRET_ARN"},
		{map[string]string{"MASTER_SECRET_ARN": "arn:aws:rds:eu-west-1:123456789012:cluster:c"}, "MASTER_SECRET_ARN"},
		{map[string]string{"MASTER_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:1234:secret:x"}, "MASTER_SECRET_ARN"},
	} {
		if _, err := FromEnv(env(tc.env)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("FromEnv(%v) = %v; want an error saying %q", tc.env, err, tc.want)
		}
	}
}

func TestDBHostAndPort(t *testing.T) {
	c, err := FromEnv(env(map[string]string{"DB_HOST": "vault.cluster-abc.eu-west-1.rds.amazonaws.com", "DB_PORT": "3307"}))
	if err != nil || c.Rotation.DBHost != "vault.cluster-abc.eu-west-1.rds.amazonaws.com" || c.Rotation.DBPort != 3307 {
		t.Fatalf("%+v, %v", c.Rotation, err)
	}
	if c, err := FromEnv(env(map[string]string{"DB_HOST": "10.0.1.5"})); err != nil || c.Rotation.DBPort != 3306 {
		t.Fatalf("DB_HOST alone: %+v, %v", c.Rotation, err)
	}
	if c, err := FromEnv(env(nil)); err != nil || c.Rotation.DBHost != "" || c.Rotation.DBPort != 0 {
		t.Fatalf("unset: %+v, %v", c.Rotation, err)
	}
	for _, m := range []map[string]string{
		{"DB_HOST": "db.example.com ", "DB_PORT": "3306"}, {"DB_HOST": "db example.com"}, {"DB_HOST": "db.example.com:3306"},
		{"DB_HOST": "user@db.example.com"}, {"DB_HOST": "db..example.com"}, {"DB_HOST": "db.example.com\n"},
		{"DB_HOST": "db.example.com", "DB_PORT": "0"}, {"DB_HOST": "db.example.com", "DB_PORT": "65536"},
		{"DB_HOST": "db.example.com", "DB_PORT": "33o6"}, {"DB_PORT": "3306"},
	} {
		if _, err := FromEnv(env(m)); err == nil {
			t.Errorf("accepted %q", m)
		}
	}
}
