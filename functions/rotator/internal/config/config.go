// Package config reads the rotation function's settings from its
// environment. Every setting has a safe default; a value that cannot be
// understood is an error (the function refuses to start) rather than a
// silent fallback.
//
// The declared application users come from two variables that the
// deployer (the secrets layer) sets and only the deployer can change
// (lambda:UpdateFunctionConfiguration):
//
//   - MASTER_SECRET_ARN (optional): the ARN of the RDS-managed master
//     secret. When set, a declared secret whose masterarn is another ARN
//     is refused.
//   - APP_USERS (optional): a JSON object keyed by secret name (not ARN),
//     e.g. {"db-credentials-app-dev": {"username": "app", "database":
//     "vault", "privileges": ["SELECT", "INSERT", "UPDATE", "DELETE"]}};
//     see package appusers for the rules and the privileges allowed
//     (appusers.Privileges). A declared user name must not end with
//     CLONE_SUFFIX, and no declared name may be another's clone.
//   - APP_USERS_FILE (optional, instead of APP_USERS): the absolute path
//     of a file that holds the same JSON. The secrets layer ships it in a
//     Lambda layer of its own (/opt/dbvault/app-users.json), which only
//     the deployer can publish and attach: the declarations of a hundred
//     users do not fit the 4 KB that Lambda allows a function's whole
//     environment.
//   - DECLARED_ONLY (optional, true or false, default false): true
//     refuses every secret that is not declared, before reading its value;
//     the secrets layer sets it, so the vault's function rotates only the
//     vault's secrets.
//   - DB_HOST and DB_PORT (optional; DB_PORT defaults to 3306 and needs
//     DB_HOST): the cluster's writer endpoint. When set, every login of a
//     declared secret's rotation goes to DB_HOST:DB_PORT, whatever the
//     secret names, and the new version carries it; an AWSPENDING naming
//     another address is refused before any login. The RDS-managed master
//     secret names no host: without these, a principal that can write a
//     declared secret could point its host at another server and be sent
//     the master password.
package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dbvault/dbvault/functions/rotator/appusers"
	"github.com/dbvault/dbvault/functions/rotator/internal/mysqldb"
	"github.com/dbvault/dbvault/functions/rotator/internal/rotation"
	"github.com/dbvault/dbvault/functions/rotator/internal/secret"
)

// DefaultExcludeCharacters are left out of generated passwords: characters
// that break connection strings, shell quoting and naive SQL (/ @ " ' \) and
// the space.
const DefaultExcludeCharacters = ` /@"'\`

// The TLS modes of DB_TLS.
const (
	TLSVerifyFull = "verify-full"
	TLSDisabled   = "disabled"
)

// Config is everything the function reads from its environment.
type Config struct {
	// SecretsManagerEndpoint overrides the Secrets Manager endpoint
	// (SECRETS_MANAGER_ENDPOINT), as AWS's templates allow.
	SecretsManagerEndpoint string
	Rotation               rotation.Config
	// TLSMode is DB_TLS: verify-full (default) or disabled.
	TLSMode string
	// CAFile is DB_TLS_CA_FILE: a PEM file of extra trusted CAs.
	CAFile string
	// ConnectTimeout is DB_CONNECT_TIMEOUT (default 5s).
	ConnectTimeout time.Duration
	// StatementTimeout is DB_STATEMENT_TIMEOUT (default 10s).
	StatementTimeout time.Duration
}

// appUsersText is the declarations' JSON from APP_USERS or the file
// APP_USERS_FILE names, and where it came from ("" when neither is set).
func appUsersText(getenv func(string) string) (text, from string, err error) {
	inline, hasInline := lookup(getenv, "APP_USERS")
	path, hasFile := lookup(getenv, "APP_USERS_FILE")
	switch {
	case hasInline && hasFile:
		return "", "", fmt.Errorf("both APP_USERS and APP_USERS_FILE are set; the declarations come from one place: set one")
	case hasInline:
		return inline, "APP_USERS", nil
	case !hasFile:
		return "", "", nil
	case !filepath.IsAbs(path):
		return "", "", fmt.Errorf("APP_USERS_FILE=%q: expected an absolute path (the layer's file under /opt)", path)
	}
	b, err := os.ReadFile(path) // #nosec G304 -- the path is the deployer's, from the function's configuration
	if err != nil {
		return "", "", fmt.Errorf("APP_USERS_FILE: %w", err)
	}
	return string(b), "APP_USERS_FILE " + path, nil
}

// FromEnv reads the configuration with getenv (os.Getenv in the function).
func FromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		SecretsManagerEndpoint: getenv("SECRETS_MANAGER_ENDPOINT"),
		TLSMode:                TLSVerifyFull,
		CAFile:                 getenv("DB_TLS_CA_FILE"),
		ConnectTimeout:         5 * time.Second,
		StatementTimeout:       10 * time.Second,
		Rotation: rotation.Config{
			CloneSuffix: "_clone",
			Password: rotation.PasswordPolicy{
				Length:                  32,
				ExcludeCharacters:       DefaultExcludeCharacters,
				RequireEachIncludedType: true,
			},
		},
	}
	if v, ok := lookup(getenv, "EXCLUDE_CHARACTERS"); ok {
		c.Rotation.Password.ExcludeCharacters = v
	}
	if v, ok := lookup(getenv, "CLONE_SUFFIX"); ok {
		if v == "" {
			return c, fmt.Errorf("CLONE_SUFFIX must not be empty")
		}
		c.Rotation.CloneSuffix = v
	}
	if v, ok := lookup(getenv, "MASTER_SECRET_ARN"); ok {
		if !isSecretARN(v) {
			return c, fmt.Errorf("MASTER_SECRET_ARN=%q: expected a Secrets Manager secret ARN (arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME)", v)
		}
		c.Rotation.MasterSecretARN = v
	}
	text, from, err := appUsersText(getenv)
	if err != nil {
		return c, err
	}
	if from != "" {
		users, err := appusers.Parse(text)
		if err != nil {
			return c, fmt.Errorf("%s: %w", from, err)
		}
		for name, u := range users {
			if strings.HasSuffix(u.Username, c.Rotation.CloneSuffix) {
				return c, fmt.Errorf("%s: APP_USERS[%q]: the username %s ends with CLONE_SUFFIX %s; the rotator names the alternate user that way", from, name, u.Username, c.Rotation.CloneSuffix)
			}
		}
		c.Rotation.AppUsers = users
	}
	switch v := getenv("DECLARED_ONLY"); v {
	case "", "false":
	case "true":
		if len(c.Rotation.AppUsers) == 0 {
			return c, fmt.Errorf("DECLARED_ONLY=true without declarations (APP_USERS or APP_USERS_FILE): the function would refuse every secret")
		}
		c.Rotation.DeclaredOnly = true
	default:
		return c, fmt.Errorf("DECLARED_ONLY=%q: expected true or false", v)
	}
	if v, ok := lookup(getenv, "DB_HOST"); ok {
		if !secret.ValidHost(v) {
			return c, fmt.Errorf("DB_HOST=%q: expected a host name (letters, digits, dots and hyphens) or an IP address, without spaces", v)
		}
		c.Rotation.DBHost = v
		c.Rotation.DBPort = 3306
	}
	if v, ok := lookup(getenv, "DB_PORT"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 65535 {
			return c, fmt.Errorf("DB_PORT=%q: expected a whole number from 1 to 65535", v)
		}
		if c.Rotation.DBHost == "" {
			return c, fmt.Errorf("DB_PORT is set but DB_HOST is not; set both (the cluster's writer endpoint and port) or neither")
		}
		c.Rotation.DBPort = n
	}
	if v, ok := lookup(getenv, "DB_TLS"); ok {
		if v != TLSVerifyFull && v != TLSDisabled {
			return c, fmt.Errorf("DB_TLS=%q: expected %s (the default) or %s", v, TLSVerifyFull, TLSDisabled)
		}
		c.TLSMode = v
	}
	if v, ok := lookup(getenv, "PASSWORD_LENGTH"); ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 8 || n > 4096 {
			return c, fmt.Errorf("PASSWORD_LENGTH=%q: expected a whole number from 8 to 4096", v)
		}
		c.Rotation.Password.Length = n
	}
	p := &c.Rotation.Password
	for _, b := range []struct {
		name string
		dst  *bool
	}{
		{"EXCLUDE_NUMBERS", &p.ExcludeNumbers},
		{"EXCLUDE_PUNCTUATION", &p.ExcludePunctuation},
		{"EXCLUDE_UPPERCASE", &p.ExcludeUppercase},
		{"EXCLUDE_LOWERCASE", &p.ExcludeLowercase},
		{"INCLUDE_SPACE", &p.IncludeSpace},
		{"REQUIRE_EACH_INCLUDED_TYPE", &p.RequireEachIncludedType},
	} {
		if v, ok := lookup(getenv, b.name); ok {
			x, err := strconv.ParseBool(v)
			if err != nil {
				return c, fmt.Errorf("%s=%q: expected true or false", b.name, v)
			}
			*b.dst = x
		}
	}
	for _, d := range []struct {
		name string
		dst  *time.Duration
	}{
		{"DB_CONNECT_TIMEOUT", &c.ConnectTimeout},
		{"DB_STATEMENT_TIMEOUT", &c.StatementTimeout},
	} {
		if v, ok := lookup(getenv, d.name); ok {
			x, err := time.ParseDuration(v)
			if err != nil || x <= 0 || x > 5*time.Minute {
				return c, fmt.Errorf("%s=%q: expected a duration such as 5s, at most 5m", d.name, v)
			}
			*d.dst = x
		}
	}
	return c, nil
}

// isSecretARN checks the shape arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME.
func isSecretARN(v string) bool {
	p := strings.SplitN(v, ":", 7)
	return len(p) == 7 && p[0] == "arn" && p[1] != "" && p[2] == "secretsmanager" && p[3] != "" && len(p[4]) == 12 && p[5] == "secret" && p[6] != "" && !strings.ContainsAny(v, " \t\n")
}

// lookup treats an empty variable like an unset one: an empty value is
// never a meaningful setting here, and often the trace of a template that
// left a field blank.
func lookup(getenv func(string) string, name string) (string, bool) {
	v := getenv(name)
	return v, v != ""
}

// DBOptions builds the database options: TLS per TLSMode with the embedded
// RDS bundle and CAFile, and the timeouts.
func (c Config) DBOptions() (mysqldb.Options, error) {
	o := mysqldb.Options{ConnectTimeout: c.ConnectTimeout, StatementTimeout: c.StatementTimeout}
	if c.TLSMode == TLSDisabled {
		return o, nil
	}
	var extra []byte
	if c.CAFile != "" {
		b, err := os.ReadFile(c.CAFile)
		if err != nil {
			return o, fmt.Errorf("DB_TLS_CA_FILE: %w", err)
		}
		extra = b
	}
	t, err := mysqldb.TLSConfig(extra)
	if err != nil {
		return o, fmt.Errorf("DB_TLS_CA_FILE: %w", err)
	}
	o.TLS = t
	return o, nil
}
