package sandbox

import (
	"regexp"
	"testing"
)

// TestRandomPasswordFormat: what RandomPassword's comment says it returns.
func TestRandomPasswordFormat(t *testing.T) {
	a, b := RandomPassword(), RandomPassword()
	if !regexp.MustCompile(`^[0-9a-f]{36}$`).MatchString(a) || a == b {
		t.Fatalf("RandomPassword() = %q, %q; want 36 hexadecimal characters, different each time", a, b)
	}
}
