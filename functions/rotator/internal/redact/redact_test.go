package redact

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

func TestRedactsEveryForm(t *testing.T) {
	var r Redactor
	pw := `a'b"c\d-Secret1`
	r.Add(pw, "", "abc") // empty and short values are ignored
	err := fmt.Errorf("step: %w", fmt.Errorf(`raw %s json %q sql 'a\'b\"c\\d-Secret1' doubled a''b"c\d-Secret1 and abc`, pw, pw))
	got := r.Error(err).Error()
	for _, leak := range []string{pw, `a\'b\"c\\d-Secret1`, `a''b"c\d-Secret1`, `a'b\"c\\d-Secret1`, "Secret1"} {
		if strings.Contains(got, leak) {
			t.Errorf("%q survives in %q", leak, got)
		}
	}
	if !strings.Contains(got, "step: raw "+Placeholder) || !strings.Contains(got, "and abc") {
		t.Errorf("redacted too much or too little: %q", got)
	}
	if errors.Unwrap(r.Error(err)) != nil {
		t.Error("a redacted error unwraps to the original")
	}
	if r.Error(nil) != nil {
		t.Error("nil error became non-nil")
	}
}

func TestLongestValueFirst(t *testing.T) {
	var r Redactor
	r.Add("pass", "password-long")
	if got := r.String("x password-long y pass"); got != "x "+Placeholder+" y "+Placeholder {
		t.Fatalf("got %q", got)
	}
}

// TestRedactsEveryEncoding: a value printed URL-escaped, Go-quoted (%q),
// JSON-encoded without HTML escaping, or with control characters escaped
// (JSON \u000a, Go \n and \x00, the MySQL driver's \n and \0) is removed too.
func TestRedactsEveryEncoding(t *testing.T) {
	pw := "p&w<d>?=+ %/#x\n\x00\t\u00e9-Secret-1"
	var r Redactor
	r.Add(pw)
	var noHTML strings.Builder
	enc := json.NewEncoder(&noHTML)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(pw); err != nil {
		t.Fatal(err)
	}
	htmlJSON, _ := json.Marshal(pw)
	sqlEscaped := strings.NewReplacer("\x00", `\0`, "\n", `\n`, `\`, `\\`).Replace(pw)
	for name, form := range map[string]string{
		"raw": pw, "url query": url.QueryEscape(pw), "url path": url.PathEscape(pw), "go %q": fmt.Sprintf("%q", pw),
		"go %+q": fmt.Sprintf("%+q", pw), "json": string(htmlJSON), "json without HTML escaping": noHTML.String(), "sql": sqlEscaped,
	} {
		got := r.String("before " + form + " after")
		if strings.Contains(got, "Secret-1") || !strings.HasPrefix(got, "before ") || !strings.HasSuffix(got, " after") {
			t.Errorf("%s: %q", name, got)
		}
	}
}

// TestShortValuesOnlyAsWholeTokens: a short value (under 8 characters) is
// removed where it stands alone, not inside a longer word or number, so an
// ARN or an account id stays readable.
func TestShortValuesOnlyAsWholeTokens(t *testing.T) {
	var r Redactor
	r.Add("12345", "pw-12")
	in := "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-12345x; password 12345, user pw-12 and pw-123"
	want := "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-12345x; password " + Placeholder + ", user " + Placeholder + " and pw-123"
	if got := r.String(in); got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	// Long values are removed wherever they appear.
	r.Add("longsecret99")
	if got := r.String("xlongsecret99y"); got != "x"+Placeholder+"y" {
		t.Fatalf("long value inside a word: %q", got)
	}
}
