package failpoint

import "testing"

func TestParse(t *testing.T) {
	for in, want := range map[string]struct {
		name string
		n    int
	}{
		"setSecret:after-alter":   {"setSecret:after-alter", 1},
		"setSecret:after-alter:3": {"setSecret:after-alter", 3},
		"setSecret:after-alter:0": {"setSecret:after-alter:0", 1},
		"":                        {"", 1},
	} {
		if name, n := Parse(in); name != want.name || n != want.n {
			t.Errorf("Parse(%q) = %q, %d", in, name, n)
		}
	}
}

func TestNamesAreUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, n := range Names {
		if seen[n] {
			t.Errorf("%s twice", n)
		}
		seen[n] = true
	}
}
