package awsfake

import "testing"

// The matcher itself: the semantics the pattern tests rely on.
func TestMatcher(t *testing.T) {
	const ev = `{"source":"aws.x","detail":{"a":"1","list":["p","q"],"none":null}}`
	for _, c := range []struct {
		pattern string
		want    bool
	}{
		{`{"source":["aws.x"]}`, true},
		{`{"source":["aws.y","aws.x"]}`, true},
		{`{"source":["aws.y"]}`, false},
		{`{"missing":["aws.x"]}`, false},
		{`{"detail":{"a":["1"]}}`, true},
		{`{"detail":{"a":["2"]}}`, false},
		{`{"detail":{"none":{"a":["1"]}}}`, false},
		{`{"detail":{"list":["q"]}}`, true},
		{`{"detail":{"list":["r"]}}`, false},
		{`{"source":["aws.x"],"detail":{"a":["2"]}}`, false},
		{`{"detail":{"$or":[{"a":["2"]},{"list":["p"]}]}}`, true},
		{`{"detail":{"$or":[{"a":["2"]},{"list":["r"]}]}}`, false},
		{`{"source":[{"prefix":"aws."}]}`, true},
		{`{"source":[{"prefix":"aws.y"}]}`, false},
		{`{"source":[{"equals-ignore-case":"AWS.X"}]}`, true},
		{`{"source":[{"equals-ignore-case":"aws.x2"}]}`, false},
		{`{"detail":{"list":[{"prefix":"q"}]}}`, true},
		{`{"source":[{"wildcard":"aws.*"}]}`, true},
		{`{"source":[{"wildcard":"*.y"}]}`, false},
		{`{"$or":[{"source":["aws.y"]},{"detail":{"a":["1"]}}]}`, true},
	} {
		got, err := MatchesPattern(c.pattern, ev)
		if err != nil || got != c.want {
			t.Errorf("%s: %v, %v; want %v", c.pattern, got, err, c.want)
		}
	}
}

// A pattern with an operator the matcher does not know is an error, not a
// guess.
func TestMatcherRefusesUnknownOperators(t *testing.T) {
	for _, p := range []string{`{"source":[{"suffix":".x"}]}`, `{"source":[{"anything-but":"aws.y"}]}`, `{"source":"aws.x"}`, `{"$or":{"source":["aws.x"]}}`} {
		if _, err := MatchesPattern(p, `{"source":"aws.x"}`); err == nil {
			t.Errorf("%s: no error", p)
		}
	}
}
