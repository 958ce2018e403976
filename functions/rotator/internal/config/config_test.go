package config

import (
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
