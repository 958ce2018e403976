package status

import (
	"strings"
	"testing"
)

// A version id is the caller's ClientRequestToken: the fix PendingFix
// prints quotes it, so that pasting it into a shell runs nothing.
func TestPendingFixQuotesTheVersionID(t *testing.T) {
	const id = "v1' $(touch /tmp/pwned) x"
	got := PendingFix(State{RotatorARN: "arn:aws:lambda:us-east-1:123456789012:function:rotator-dev"}, Version{ID: id, Stages: []string{Pending}})
	quoted := `'v1'\'' $(touch /tmp/pwned) x'`
	if strings.Count(got, quoted) != 2 || strings.Contains(strings.ReplaceAll(got, quoted, ""), "$(touch") {
		t.Fatalf("PendingFix = %s\nwant the version id only as %s", got, quoted)
	}
	if !strings.Contains(got, "aws logs tail /aws/lambda/rotator-dev --since 2h") {
		t.Fatalf("PendingFix = %s", got)
	}
	for in, want := range map[string]string{"abc-123": "abc-123", "a b": "'a b'", "it's": `'it'\''s'`} {
		if got := shellWord(in); got != want {
			t.Errorf("shellWord(%q) = %s, want %s", in, got, want)
		}
	}
}
