package kms

import (
	"strings"
	"testing"
)

// An ephemeral environment whose administrators are all IAM Identity
// Center roles is warned at preview; production is refused instead (by
// NewKeys), and a restorable administrator beside them silences it.
func TestAdministratorsWarning(t *testing.T) {
	sso := "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-2/AWSReservedSSO_DatabaseAdministrator_1234567890abcdef"
	if w := administratorsWarning([]string{sso}, false); !strings.HasPrefix(w, "kms: ") || !strings.Contains(w, "break-glass") {
		t.Errorf("ephemeral, Identity Center only: %q, want the warning", w)
	}
	if w := administratorsWarning([]string{sso}, true); w != "" {
		t.Errorf("production: %q, want none (NewKeys refuses)", w)
	}
	if w := administratorsWarning([]string{sso, "arn:aws:iam::123456789012:role/vault-break-glass"}, false); w != "" {
		t.Errorf("with a break-glass role: %q, want none", w)
	}
}
