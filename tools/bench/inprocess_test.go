package bench

import (
	"strings"
	"testing"
	"time"
)

// realOutput is go test -bench output as the rotator's benchmarks print it.
const realOutput = `goos: linux
goarch: amd64
pkg: github.com/dbvault/dbvault/functions/rotator/internal/rotation
cpu: AMD EPYC
BenchmarkRotationSingleUser-2         	     100	  26248948 ns/op	        20.08 p50-ms	        32.08 p95-ms	       171.6 p99-ms
BenchmarkRotationAlternatingUsers-2   	     100	  34483838 ns/op	        28.42 p50-ms	        60.36 p95-ms	       126.1 p99-ms
PASS
ok  	github.com/dbvault/dbvault/functions/rotator/internal/rotation	8.782s
`

func TestParseBenchOutput(t *testing.T) {
	got, err := parseBenchOutput(realOutput)
	if err != nil {
		t.Fatal(err)
	}
	msf := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	want := map[string]Latency{
		"single":      {N: 100, P50: msf(20.08), P95: msf(32.08), P99: msf(171.6)},
		"alternating": {N: 100, P50: msf(28.42), P95: msf(60.36), P99: msf(126.1)},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %+v, want %+v", k, got[k], w)
		}
	}
}

// A benchmark that was skipped, failed or lacks a metric is an error, never
// an empty figure in the report.
func TestParseBenchOutputRefusesIncomplete(t *testing.T) {
	single := "BenchmarkRotationSingleUser-2 100 26248948 ns/op 20.08 p50-ms 32.08 p95-ms 171.6 p99-ms\n"
	for name, tc := range map[string]struct{ out, msg string }{
		"nothing":        {"PASS\n", "no result for"},
		"one skipped":    {single + "--- SKIP: BenchmarkRotationAlternatingUsers\n", "BenchmarkRotationAlternatingUsers"},
		"one failed":     {single + "--- FAIL: BenchmarkRotationAlternatingUsers-2\n    bench_test.go:40: AWSCURRENT does not log in\nFAIL\n", "BenchmarkRotationAlternatingUsers"},
		"missing metric": {single + "BenchmarkRotationAlternatingUsers-2 100 34483838 ns/op 28.42 p50-ms 60.36 p95-ms\n", "p99-ms"},
		"bad number":     {single + "BenchmarkRotationAlternatingUsers-2 100 34483838 ns/op x p50-ms 60.36 p95-ms 1 p99-ms\n", "not a number"},
	} {
		_, err := parseBenchOutput(tc.out)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v, want an error with %q", name, err, tc.msg)
		}
	}
}

func TestInProcessCommand(t *testing.T) {
	want := "go test -run '^$' -bench '^BenchmarkRotation' -benchtime 100x ./functions/rotator/internal/rotation/"
	if got := InProcessCommand(100); got != want {
		t.Fatalf("%s, want %s", got, want)
	}
}

// The in-process rows sit next to the harness rows when measured, and the
// report says so when they were not.
func TestMarkdownInProcessRows(t *testing.T) {
	r := &Report{Strategies: []StrategyResult{
		{Strategy: "single", InProcess: Latency{N: 100, P50: 20 * time.Millisecond, P95: 30 * time.Millisecond, P99: 40 * time.Millisecond}},
		{Strategy: "alternating", InProcess: Latency{N: 100, P50: 25 * time.Millisecond, P95: 35 * time.Millisecond, P99: 45 * time.Millisecond}},
	}, InProcessCommand: InProcessCommand(100)}
	md := r.Markdown()
	for _, s := range []string{"| full rotation in-process p50 | 20.0 ms | 25.0 ms |", "| full rotation in-process p99 | 40.0 ms | 45.0 ms |", InProcessCommand(100)} {
		if !strings.Contains(md, s) {
			t.Errorf("Markdown lacks %q", s)
		}
	}
	if !strings.Contains(r.Text(), "full rotation (in-process, n=100): p50 20.0 ms") {
		t.Errorf("Text lacks the in-process line:\n%s", r.Text())
	}
	r.InProcessCommand = ""
	if md := r.Markdown(); strings.Contains(md, "in-process p50") || !strings.Contains(md, "not measured") {
		t.Error("unmeasured in-process rows are shown as figures")
	}
}
