package main

import (
	"bytes"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// Bad flags and environment are refused before anything starts.
func TestBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		code int
		msg  string
	}{
		{nil, map[string]string{"SANDBOX_ROTATIONS": "three"}, 2, "SANDBOX_ROTATIONS"},
		{[]string{"-rotations", "x"}, nil, 2, "invalid value"},
		{[]string{"-strategy", "round-robin"}, nil, 1, "strategy"},
		{[]string{"-rotations", "1"}, map[string]string{"SANDBOX_STRATEGY": "nope"}, 1, "strategy"},
		{[]string{"-rotations", "0"}, nil, 2, "expected at least 1"},
		{[]string{"-rotations", "-2"}, nil, 2, "expected at least 1"},
		{nil, map[string]string{"SANDBOX_ROTATIONS": "0"}, 2, "expected at least 1"},
		{nil, map[string]string{"SANDBOX_MYSQL_DSN": "not a dsn"}, 1, "DSN"},
	} {
		var out, errOut bytes.Buffer
		code := run(tc.args, env(tc.env), &out, &errOut)
		if code != tc.code || !strings.Contains(errOut.String(), tc.msg) {
			t.Errorf("%v %v: exit %d, stderr %q; want %d and %q", tc.args, tc.env, code, errOut.String(), tc.code, tc.msg)
		}
	}
}
