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

// A secret named ...-<suffix> must not end in a hyphen and six characters,
// which Secrets Manager's partial-ARN lookup takes for its own suffix.
func TestSuffixNeverEndsInSixCharacters(t *testing.T) {
	for _, bad := range []string{"review", "pr-123456", "abcdef"} {
		err := ValidateSuffix(bad)
		if err == nil || !strings.Contains(err.Error(), "confuses with an ARN suffix") {
			t.Errorf("ValidateSuffix(%q) = %v, want the ARN-suffix error", bad, err)
		}
	}
	for _, ok := range []string{"review1", "pr-12345", "review-1", "abcde"} {
		if err := ValidateSuffix(ok); err != nil {
			t.Errorf("ValidateSuffix(%q) = %v", ok, err)
		}
	}
}

// Global names carry the region, so one environment can live in two
// regions of an account, and still end in -<suffix>.
func TestGlobalName(t *testing.T) {
	if got := GlobalName("rotator-role", "eu-west-1", "dev"); got != "rotator-role-eu-west-1-dev" {
		t.Fatalf("GlobalName = %q", got)
	}
	longest := GlobalName("vpc-flow-logs-role", "ap-southeast-2", strings.Repeat("a", MaxSuffixLen))
	if len(longest) > 64 {
		t.Errorf("%s is %d characters; IAM role names allow 64", longest, len(longest))
	}
}

func TestName(t *testing.T) {
	if got := Name("rotator", "dev"); got != "rotator-dev" {
		t.Fatalf("Name = %q", got)
	}
}
