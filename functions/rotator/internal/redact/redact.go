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
	"encoding/json"
	"sort"
	"strings"
	"sync"
)

// Placeholder replaces every secret value found.
const Placeholder = "[redacted]"

// minLen is the shortest value that is redacted. Shorter values (a one-letter
// password is refused by every policy we deploy) would blank out ordinary
// words of the message and make it useless.
const minLen = 4

// Redactor holds the secret values of one invocation. The zero value is ready
// to use; it is safe for concurrent use.
type Redactor struct {
	mu     sync.Mutex
	values []string
}

// Add registers secret values. Each value is also registered in the forms in
// which a library may print it: JSON-escaped (inside a secret string) and
// SQL-escaped (inside a statement).
func (r *Redactor) Add(values ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range values {
		for _, form := range forms(v) {
			if len(form) >= minLen && !contains(r.values, form) {
				r.values = append(r.values, form)
			}
		}
	}
	// Longest first, so that a value containing another is removed whole.
	sort.Slice(r.values, func(i, j int) bool { return len(r.values[i]) > len(r.values[j]) })
}

func forms(v string) []string {
	out := []string{v}
	if b, err := json.Marshal(v); err == nil {
		out = append(out, strings.Trim(string(b), `"`))
	}
	out = append(out,
		strings.NewReplacer(`\`, `\\`, `'`, `\'`, `"`, `\"`).Replace(v),
		strings.ReplaceAll(v, `'`, `''`),
	)
	return out
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// String returns s with every registered value replaced by Placeholder.
func (r *Redactor) String(s string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range r.values {
		s = strings.ReplaceAll(s, v, Placeholder)
	}
	return s
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
