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
		{nil, map[string]string{"BENCH_APP_ROTATIONS": "0"}, 2, "BENCH_APP_ROTATIONS"},
		{nil, map[string]string{"BENCH_APP_ROTATIONS": "-3"}, 2, "BENCH_APP_ROTATIONS"},
		{nil, map[string]string{"BENCH_APP_INTERVAL": "soon"}, 2, "BENCH_APP_INTERVAL"},
		{nil, map[string]string{"BENCH_APP_INTERVAL": "0s"}, 2, "BENCH_APP_INTERVAL"},
		{[]string{"-app-rotations", "0"}, nil, 2, "-app-rotations"},
		{[]string{"-app-rotations", "-1"}, nil, 2, "-app-rotations"},
		{[]string{"-app-interval", "-1s"}, nil, 2, "-app-interval"},
		{[]string{"-app-interval", "1ms", "-write", ""}, nil, 1, "application interval"},
		{[]string{"-app-strategies", "single,round-robin"}, nil, 1, "application strategy"},
		{[]string{"-app-only"}, map[string]string{"BENCH_APP_STRATEGIES": "round-robin"}, 1, "application strategy"},
		{[]string{"-cold-starts", "0", "-rotations", "0", "-write", ""}, map[string]string{"BENCH_MYSQL_DSN": "bad dsn"}, 1, "DSN"},
	} {
		var out, errOut bytes.Buffer
		code := run(tc.args, env(tc.env), &out, &errOut)
		if code != tc.code || !strings.Contains(errOut.String(), tc.msg) {
			t.Errorf("%v %v: exit %d, stderr %q; want %d and %q", tc.args, tc.env, code, errOut.String(), tc.code, tc.msg)
		}
	}
}
