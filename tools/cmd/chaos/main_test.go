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
		{nil, map[string]string{"CHAOS_SEED": "-1"}, 2, "CHAOS_SEED"},
		{nil, map[string]string{"CHAOS_ROTATIONS": "many"}, 2, "CHAOS_ROTATIONS"},
		{[]string{"-strategy", "every"}, nil, 2, "-strategy"},
		{nil, map[string]string{"CHAOS_STRATEGY": "every"}, 2, "CHAOS_STRATEGY"},
		{[]string{"-rotations", "951"}, nil, 1, "1 to 950"},
		{[]string{"-rotations", "0"}, nil, 2, "1 to 950"},
		{nil, map[string]string{"CHAOS_ROTATIONS": "0"}, 2, "1 to 950"},
	} {
		var out, errOut bytes.Buffer
		code := run(tc.args, env(tc.env), &out, &errOut)
		if code != tc.code || !strings.Contains(errOut.String(), tc.msg) {
			t.Errorf("%v %v: exit %d, stderr %q; want %d and %q", tc.args, tc.env, code, errOut.String(), tc.code, tc.msg)
		}
	}
}
