// Package appusers is the declaration of the application users that the
// rotator provisions and rotates: the JSON of the function's APP_USERS
// variable, and the database-level privileges a declaration may name.
//
// It is not internal so that the deployer's code (the secrets layer) can
// validate a declaration with the same rules before it deploys it:
// Privileges is the list, Parse the validation the function runs at start.
package appusers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

// Privileges are the privileges a declaration may grant: MySQL's
// database-level privileges (GRANT ... ON `db`.*), without ALL and
// GRANT OPTION, in the order MySQL lists them. Nothing global (SUPER,
// CREATE USER, FILE, PROCESS, ...) can be declared.
var Privileges = []string{
	"SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "REFERENCES", "INDEX", "ALTER",
	"CREATE TEMPORARY TABLES", "LOCK TABLES", "EXECUTE", "CREATE VIEW", "SHOW VIEW",
	"CREATE ROUTINE", "ALTER ROUTINE", "EVENT", "TRIGGER",
}

// SystemDatabases are the server's own databases, which no declaration may
// name (compared without regard to case).
var SystemDatabases = []string{"mysql", "sys", "performance_schema", "information_schema"}

// MaxDatabaseLength is the longest database name MySQL and MariaDB accept.
const MaxDatabaseLength = 64

// User is one declared application user: the user name (its alternate is
// Username plus the rotator's CLONE_SUFFIX), the database its privileges
// are on, and the privileges (each one of Privileges, upper case, sorted,
// without duplicates after Parse).
type User struct {
	Username   string   `json:"username"`
	Database   string   `json:"database"`
	Privileges []string `json:"privileges"`
}

// Parse reads APP_USERS: a JSON object keyed by secret name (the Name of
// the secret in Secrets Manager, not its ARN), each value a User. It
// refuses bad JSON, unknown keys (a typo must not silently grant nothing),
// an empty secret name, user name or database, a system database
// (SystemDatabases), a database name longer than MaxDatabaseLength, a privilege outside Privileges, and two secrets that
// declare the same user name. Privilege names are matched without regard
// to case and spacing ("create  temporary tables" is CREATE TEMPORARY
// TABLES). An empty string is an empty declaration.
func Parse(s string) (map[string]User, error) {
	out := map[string]User{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.DisallowUnknownFields()
	var raw map[string]User
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("APP_USERS is not a JSON object of {\"username\", \"database\", \"privileges\"} keyed by secret name: %v", err)
	}
	if dec.More() {
		return nil, errors.New("APP_USERS has more than one JSON value")
	}
	if raw == nil {
		return nil, errors.New("APP_USERS is null; expected a JSON object keyed by secret name")
	}
	names := make([]string, 0, len(raw))
	for name := range raw {
		names = append(names, name)
	}
	sort.Strings(names)
	owner := map[string]string{}
	for _, name := range names {
		u := raw[name]
		if strings.TrimSpace(name) == "" || strings.HasPrefix(name, "arn:") {
			return nil, fmt.Errorf("APP_USERS: the key %q must be a secret name (not empty, not an ARN)", name)
		}
		if u.Username == "" {
			return nil, fmt.Errorf("APP_USERS[%q]: the username is empty", name)
		}
		if u.Database == "" {
			return nil, fmt.Errorf("APP_USERS[%q]: the database is empty", name)
		}
		if slices.Contains(SystemDatabases, strings.ToLower(u.Database)) {
			return nil, fmt.Errorf("APP_USERS[%q]: the database %s is a system database (%s); privileges on it reach the server's own accounts and state (mysql holds every account's password hash). Declare an application database", name, u.Database, strings.Join(SystemDatabases, ", "))
		}
		if n := utf8.RuneCountInString(u.Database); n > MaxDatabaseLength {
			return nil, fmt.Errorf("APP_USERS[%q]: the database name is %d characters; MySQL allows %d", name, n, MaxDatabaseLength)
		}
		if other, ok := owner[u.Username]; ok {
			return nil, fmt.Errorf("APP_USERS: the secrets %q and %q both declare the user %s; each user belongs to one secret", other, name, u.Username)
		}
		owner[u.Username] = name
		privs, err := normalize(u.Privileges)
		if err != nil {
			return nil, fmt.Errorf("APP_USERS[%q]: %w", name, err)
		}
		u.Privileges = privs
		out[name] = u
	}
	return out, nil
}

// normalize upper-cases and checks each privilege and returns them in the
// order of Privileges, without duplicates.
func normalize(in []string) ([]string, error) {
	seen := map[string]bool{}
	for _, p := range in {
		n := strings.ToUpper(strings.Join(strings.Fields(p), " "))
		if !slices.Contains(Privileges, n) {
			return nil, fmt.Errorf("the privilege %q cannot be declared; allowed are the database-level privileges %s (no ALL, no GRANT OPTION)", p, strings.Join(Privileges, ", "))
		}
		seen[n] = true
	}
	out := make([]string, 0, len(seen))
	for _, p := range Privileges {
		if seen[p] {
			out = append(out, p)
		}
	}
	return out, nil
}
