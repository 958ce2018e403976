// Package secret parses and writes the JSON that a Secrets Manager secret
// holds for a MySQL-family database, in the format AWS's rotation templates
// use: engine, host, port, username, password, dbname, masterarn,
// dbClusterIdentifier. Keys it does not know are kept, so that a rotation
// never drops what an application stored beside the credentials.
//
// No error of this package contains any part of the secret string: a
// malformed secret is described by its shape (offset, key, JSON type), never
// by its content.
package secret

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// MaxSize is the largest secret string Secrets Manager stores (65,536 bytes).
const MaxSize = 65536

// DefaultPort is the port used when a secret names none.
const DefaultPort = 3306

// Engines lists the values of "engine" that this rotator accepts: AWS's
// values for MySQL, Aurora MySQL and MariaDB secrets ("JSON structure of
// Secrets Manager secrets", Secrets Manager User Guide: "engine": "mariadb").
var Engines = []string{"mysql", "aurora-mysql", "mariadb"}

// Secret is a parsed database secret. The zero value is not valid; use Parse.
type Secret struct {
	Engine              string
	Host                string
	Port                int
	Username            string
	Password            string
	DBName              string
	MasterARN           string
	DBClusterIdentifier string

	// extra holds every key of the original JSON object as it was, so that
	// Marshal writes unknown keys back unchanged.
	extra map[string]json.RawMessage
}

// ErrInvalid is wrapped by every error Parse returns, so callers can tell a
// bad secret (fix the secret) from a failed call (retry).
var ErrInvalid = errors.New("invalid secret")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Parse reads a secret string. It refuses, with an error that names the
// problem but never the content: more than MaxSize bytes, anything but a JSON
// object, a missing or empty engine, host, username or password, an engine
// other than Engines, a port that is not a whole number from 1 to 65535 (a
// JSON number or a string of digits), and known keys of the wrong JSON type.
func Parse(s string) (Secret, error) { return parse(s, modeProvisioned) }

// ParseUnprovisioned is Parse, except that a missing (or null) password is
// accepted: the first version of a declared application user's secret,
// which the deployer writes without any password so that nothing secret is
// in its state. Unprovisioned reports such a secret. An empty password
// string is still refused. Only the rotation of a declared secret reads its
// AWSCURRENT and AWSPREVIOUS with this; every other path uses Parse.
func ParseUnprovisioned(s string) (Secret, error) { return parse(s, modeUnprovisioned) }

// ParseMaster reads a master secret: username and password are required,
// engine, host and port are optional (a secret that RDS manages for the
// cluster's master user, ManageMasterUserPassword, holds only
// {"username": ..., "password": ...}; see "Password management with Amazon
// Aurora and AWS Secrets Manager",
// https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-secrets-manager.html).
// A secret in AWS's full shape is accepted too. Host is empty and Port 0
// when the secret names none: the caller takes them from the secret being
// rotated.
func ParseMaster(s string) (Secret, error) { return parse(s, modeMaster) }

type parseMode int

const (
	modeProvisioned parseMode = iota
	modeUnprovisioned
	modeMaster
)

// Unprovisioned reports a secret parsed by ParseUnprovisioned without a
// password: no database account has been issued for it yet.
func (s Secret) Unprovisioned() bool { return s.Password == "" }

func parse(s string, mode parseMode) (Secret, error) {
	if len(s) > MaxSize {
		return Secret{}, invalid("the secret string is %d bytes, more than the %d that Secrets Manager allows", len(s), MaxSize)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return Secret{}, describeJSONError(s, err)
	}
	if raw == nil {
		return Secret{}, invalid("the secret string is not a JSON object (it is null)")
	}
	sec := Secret{extra: raw}
	master := mode == modeMaster
	fields := []struct {
		key      string
		dst      *string
		required bool
	}{
		{"engine", &sec.Engine, !master},
		{"host", &sec.Host, !master},
		{"username", &sec.Username, true},
		{"password", &sec.Password, true},
		{"dbname", &sec.DBName, false},
		{"masterarn", &sec.MasterARN, false},
		{"dbClusterIdentifier", &sec.DBClusterIdentifier, false},
	}
	for _, f := range fields {
		v, ok := raw[f.key]
		if !ok || isNull(v) {
			if f.key == "password" && mode == modeUnprovisioned {
				continue
			}
			if f.required {
				return Secret{}, invalid("the key %q is missing", f.key)
			}
			continue
		}
		if err := json.Unmarshal(v, f.dst); err != nil {
			return Secret{}, invalid("the key %q must be a JSON string, not %s", f.key, jsonKind(v))
		}
		if (f.required || (master && ok && (f.key == "engine" || f.key == "host"))) && *f.dst == "" {
			return Secret{}, invalid("the key %q is empty", f.key)
		}
	}
	if sec.Host != "" && !ValidHost(sec.Host) {
		return Secret{}, invalid("the key \"host\" is not a host name or IP address (letters, digits, dots and hyphens; no spaces, no port, no credentials)")
	}
	if (!master || sec.Engine != "") && !validEngine(sec.Engine) {
		// The engine is not a credential, but it is still the secret's
		// content: name only what is accepted.
		return Secret{}, invalid("the engine must be one of %s; this rotator handles MySQL-family databases only", strings.Join(Engines, ", "))
	}
	if master && sec.Host == "" && (raw["port"] == nil || isNull(raw["port"])) {
		return sec, nil // Port 0: the caller uses the rotated secret's
	}
	port, err := parsePort(raw["port"])
	if err != nil {
		return Secret{}, err
	}
	sec.Port = port
	return sec, nil
}

// ValidHost accepts a DNS name (labels of letters, digits, hyphens and
// underscores, at most 253 characters) or an IP address: nothing with a
// space, a control character, a port or credentials in it.
func ValidHost(v string) bool {
	if net.ParseIP(v) != nil {
		return true
	}
	if v == "" || len(v) > 253 || strings.HasPrefix(v, ".") || strings.HasSuffix(v, ".") {
		return false
	}
	for _, label := range strings.Split(v, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

func validEngine(e string) bool {
	for _, ok := range Engines {
		if e == ok {
			return true
		}
	}
	return false
}

func parsePort(v json.RawMessage) (int, error) {
	if v == nil || isNull(v) {
		return DefaultPort, nil
	}
	var text string
	switch v[0] {
	case '"':
		if err := json.Unmarshal(v, &text); err != nil {
			return 0, invalid("the key \"port\" is not a valid JSON string")
		}
	default:
		text = string(v)
	}
	n, err := strconv.Atoi(strings.TrimSpace(text))
	if err != nil || n < 1 || n > 65535 {
		return 0, invalid("the key \"port\" must be a whole number from 1 to 65535 (a JSON number or a string of digits)")
	}
	return n, nil
}

func isNull(v json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(v), []byte("null")) }

func jsonKind(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "empty"
	}
	switch v[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

// describeJSONError turns a decoding error into one that says where the JSON
// is broken without quoting it (encoding/json quotes the offending character).
func describeJSONError(s string, err error) error {
	if strings.TrimSpace(s) == "" {
		return invalid("the secret string is empty")
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return invalid("the secret string is not a valid JSON object (syntax error at byte %d)", syn.Offset)
	case errors.As(err, &typ):
		return invalid("the secret string is not a JSON object (it is a JSON %s)", typ.Value)
	default:
		return invalid("the secret string is not valid JSON")
	}
}

// WithCredentials returns a copy of s for another user name and password,
// every other key unchanged.
func (s Secret) WithCredentials(username, password string) Secret {
	out := s
	out.Username = username
	out.Password = password
	return out
}

// Marshal writes the secret as a JSON object: the known keys from the struct,
// every unknown key of the parsed original as it was. Keys come out sorted,
// so equal secrets give equal strings (PutSecretValue is idempotent only for
// an identical value).
func (s Secret) Marshal() (string, error) {
	out := make(map[string]json.RawMessage, len(s.extra)+8)
	for k, v := range s.extra {
		out[k] = v
	}
	set := func(key, val string, keep bool) error {
		if !keep {
			delete(out, key)
			return nil
		}
		b, err := marshalNoHTML(val)
		if err != nil {
			return fmt.Errorf("encode %q: %w", key, err)
		}
		out[key] = b
		return nil
	}
	for _, f := range []struct {
		key, val string
		keep     bool
	}{
		{"engine", s.Engine, true},
		{"host", s.Host, true},
		{"username", s.Username, true},
		{"password", s.Password, true},
		{"dbname", s.DBName, s.DBName != "" || s.extra["dbname"] != nil},
		{"masterarn", s.MasterARN, s.MasterARN != ""},
		{"dbClusterIdentifier", s.DBClusterIdentifier, s.DBClusterIdentifier != "" || s.extra["dbClusterIdentifier"] != nil},
	} {
		if err := set(f.key, f.val, f.keep); err != nil {
			return "", err
		}
	}
	out["port"] = json.RawMessage(strconv.Itoa(s.Port))
	b, err := marshalNoHTML(out)
	if err != nil {
		return "", fmt.Errorf("encode secret: %w", err)
	}
	return string(b), nil
}

func marshalNoHTML(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// Endpoint is "host:port", for messages and comparisons; it holds no credential.
func (s Secret) Endpoint() string {
	return fmt.Sprintf("%s:%d", s.Host, s.Port)
}
