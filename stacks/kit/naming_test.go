package kit

import (
	"strings"
	"testing"
)

func TestValidateSuffix(t *testing.T) {
	for _, ok := range []string{"dev", "pr-42", "a", "x1-y2-z3", strings.Repeat("a", MaxSuffixLen)} {
		if err := ValidateSuffix(ok); err != nil {
			t.Errorf("ValidateSuffix(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"", "Dev", "dev_1", "-dev", "dev-", "de--v", "dev 1", "dév", strings.Repeat("a", MaxSuffixLen+1)} {
		if err := ValidateSuffix(bad); err == nil {
			t.Errorf("ValidateSuffix(%q) = nil, want an error", bad)
		}
	}
}

func TestName(t *testing.T) {
	if got := Name("rotator", "dev"); got != "rotator-dev" {
		t.Fatalf("Name = %q", got)
	}
}
