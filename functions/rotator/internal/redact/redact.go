// Package redact removes secret values from text before it leaves the
// rotator: every error the handler returns and every error it logs passes
// through a Redactor that knows each password and secret string the
// invocation has seen.
//
// It is the last line of defence, not the only one: the rotator's own errors
// never format a secret, and database errors from statements that carry a
// password are reduced to their error number. The Redactor catches what a
// library might echo anyway.
package redact

import (
	"bytes"
	"encoding/json"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Placeholder replaces every secret value found.
const Placeholder = "[redacted]"

// minLen is the shortest value that is redacted. Shorter values (a one-letter
// password is refused by every policy we deploy) would blank out ordinary
// words of the message and make it useless.
const minLen = 4

// tokenLen: a value shorter than this (4 to 7 characters: never a
// generated password, which has at least 8) is redacted only as a whole
// token, not inside a longer run of letters and digits, so that a short
// value such as 12345 does not blank out an ARN or an account id that
// happens to contain it.
const tokenLen = 8

// Redactor holds the secret values of one invocation. The zero value is ready
// to use; it is safe for concurrent use.
type Redactor struct {
	mu     sync.Mutex
	values []string
}

// Add registers secret values. Each value is also registered in the forms in
// which a library may print it: JSON-escaped (with and without HTML
// escaping, control characters as \uXXXX), Go-quoted (%q, control
// characters as \n or \x00), URL-escaped (query and path), and
// SQL-escaped (inside a statement, control characters as the MySQL
// driver writes them).
func (r *Redactor) Add(values ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range values {
		for _, form := range Forms(v) {
			if len(form) >= minLen && !slices.Contains(r.values, form) {
				r.values = append(r.values, form)
			}
		}
	}
	// Longest first, so that a value containing another is removed whole.
	sort.Slice(r.values, func(i, j int) bool { return len(r.values[i]) > len(r.values[j]) })
}

// Forms lists v and its encodings that the Redactor removes.
func Forms(v string) []string {
	out := []string{v}
	if b, err := json.Marshal(v); err == nil {
		out = append(out, strings.Trim(string(b), `"`))
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) == nil {
		out = append(out, strings.Trim(strings.TrimSpace(buf.String()), `"`))
	}
	out = append(out,
		strings.Trim(strconv.Quote(v), `"`),
		strings.Trim(strconv.QuoteToASCII(v), `"`),
		url.QueryEscape(v),
		url.PathEscape(v),
		strings.NewReplacer(`\`, `\\`, `'`, `\'`, `"`, `\"`).Replace(v),
		strings.NewReplacer("\x00", `\0`, "\n", `\n`, "\r", `\r`, "\x1a", `\Z`, `\`, `\\`, `'`, `\'`, `"`, `\"`).Replace(v),
		strings.ReplaceAll(v, `'`, `''`),
	)
	return out
}

// String returns s with every registered value replaced by Placeholder.
func (r *Redactor) String(s string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range r.values {
		if len(v) >= tokenLen {
			s = strings.ReplaceAll(s, v, Placeholder)
		} else {
			s = replaceToken(s, v)
		}
	}
	return s
}

// replaceToken replaces v where it is not part of a longer run of letters
// and digits.
func replaceToken(s, v string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, v)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		end := i + len(v)
		whole := (i == 0 || !isAlnum(s[i-1]) || !isAlnum(v[0])) && (end == len(s) || !isAlnum(s[end]) || !isAlnum(v[len(v)-1]))
		b.WriteString(s[:i])
		if whole {
			b.WriteString(Placeholder)
		} else {
			b.WriteString(v)
		}
		s = s[end:]
	}
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// Error returns an error whose message is err's with every registered value
// replaced, or nil for nil. The result does not unwrap to err: nothing that
// inspects the chain (a %+v, a logger that walks causes) can reach the
// unredacted text.
func (r *Redactor) Error(err error) error {
	if err == nil {
		return nil
	}
	return &Error{msg: r.String(err.Error())}
}

// Error is an error whose message has been redacted.
type Error struct{ msg string }

func (e *Error) Error() string { return e.msg }
