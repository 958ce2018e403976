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
		{nil, map[string]string{"BENCH_ROTATIONS": "lots"}, 2, "BENCH_ROTATIONS"},
		{[]string{"-rotations", "-5"}, nil, 1, "rotations"},
		{[]string{"-cold-starts", "0", "-rotations", "0", "-write", ""}, map[string]string{"BENCH_MYSQL_DSN": "bad dsn"}, 1, "DSN"},
	} {
		var out, errOut bytes.Buffer
		code := run(tc.args, env(tc.env), &out, &errOut)
		if code != tc.code || !strings.Contains(errOut.String(), tc.msg) {
			t.Errorf("%v %v: exit %d, stderr %q; want %d and %q", tc.args, tc.env, code, errOut.String(), tc.code, tc.msg)
		}
	}
}
