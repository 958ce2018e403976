package kit

import "testing"

func TestWildcardMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, name string
		want          bool
	}{
		{"db-credentials-*-dev", "db-credentials-app-dev", true},
		{"db-credentials-*-dev", "db-credentials-app-dev-eu", false},
		{"db-credentials-*-dev", "db-credentials--dev", true},
		{"db-credentials-*-dev", "db-credentials-dev", false},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "aXcYb", false},
		{"exact", "exact", true},
		{"exact", "exactly", false},
	} {
		if got := WildcardMatch(c.pattern, c.name); got != c.want {
			t.Errorf("WildcardMatch(%q, %q) = %v, want %v", c.pattern, c.name, got, c.want)
		}
	}
}
