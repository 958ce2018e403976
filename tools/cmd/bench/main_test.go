package main

import (
	"testing"

	"github.com/dbvault/dbvault/tools/internal/cmdtest"
)

// Bad flags and environment are refused before anything starts.
func TestBadInput(t *testing.T) {
	refused := cmdtest.Refuses(t, run)
	refused(nil, map[string]string{"BENCH_ROTATIONS": "lots"}, 2, "BENCH_ROTATIONS")
	refused([]string{"-rotations", "-5"}, nil, 1, "rotations")
	refused(nil, map[string]string{"BENCH_APP_ROTATIONS": "0"}, 2, "BENCH_APP_ROTATIONS")
	refused(nil, map[string]string{"BENCH_APP_ROTATIONS": "-3"}, 2, "BENCH_APP_ROTATIONS")
	refused(nil, map[string]string{"BENCH_APP_INTERVAL": "soon"}, 2, "BENCH_APP_INTERVAL")
	refused(nil, map[string]string{"BENCH_APP_INTERVAL": "0s"}, 2, "BENCH_APP_INTERVAL")
	refused([]string{"-app-rotations", "0"}, nil, 2, "-app-rotations")
	refused([]string{"-app-rotations", "-1"}, nil, 2, "-app-rotations")
	refused([]string{"-app-interval", "-1s"}, nil, 2, "-app-interval")
	refused([]string{"-app-interval", "1ms", "-write", ""}, nil, 1, "application interval")
	refused([]string{"-app-strategies", "single,round-robin"}, nil, 1, "application strategy")
	refused([]string{"-app-only"}, map[string]string{"BENCH_APP_STRATEGIES": "round-robin"}, 1, "application strategy")
	refused([]string{"-cold-starts", "0", "-rotations", "0", "-write", ""}, map[string]string{"BENCH_MYSQL_DSN": "bad dsn"}, 1, "DSN")
}
