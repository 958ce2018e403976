package redact

import (
	"errors"
	"fmt"
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
