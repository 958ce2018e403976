package bench

import (
	"bufio"
	"context"
	"fmt"
	"github.com/dbvault/dbvault/tools/workspace"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// The in-process rotation latency comes from Go benchmarks inside the
// rotator's module (functions/rotator/internal/rotation/bench_test.go):
// the handler is internal there, so the tools module cannot call it, but
// `go test -bench` can run it and print its percentiles as metrics.

// inProcessPackage is the benchmarks' package, relative to the workspace root.
const inProcessPackage = "./functions/rotator/internal/rotation/"

// inProcessBenchmarks maps each benchmark to its strategy.
var inProcessBenchmarks = map[string]string{
	"BenchmarkRotationSingleUser":       "single",
	"BenchmarkRotationAlternatingUsers": "alternating",
}

// inProcessArgs is the go command that runs the benchmarks n rotations each.
func inProcessArgs(n int) []string {
	return []string{"go", "test", "-run", "^$", "-bench", "^BenchmarkRotation", "-benchtime", strconv.Itoa(n) + "x", inProcessPackage}
}

// InProcessCommand is the command line, as run from the workspace root.
func InProcessCommand(n int) string {
	args := inProcessArgs(n)
	for i, a := range args {
		if strings.ContainsAny(a, "^$") {
			args[i] = "'" + a + "'"
		}
	}
	return strings.Join(args, " ")
}

// runInProcess runs the benchmarks from the workspace root and returns
// each strategy's latency.
func runInProcess(ctx context.Context, n int) (map[string]Latency, error) {
	root, err := workspace.Root()
	if err != nil {
		return nil, err
	}
	args := inProcessArgs(n)
	// #nosec G204 -- a fixed go command; only the rotation count varies, and it is an integer
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%s: %w\n%s", InProcessCommand(n), err, tail(string(out), 20))
	}
	res, err := parseBenchOutput(string(out))
	if err != nil {
		return nil, fmt.Errorf("%s: %w\n%s", InProcessCommand(n), err, tail(string(out), 20))
	}
	return res, nil
}

// parseBenchOutput reads the rotation benchmarks' result lines, e.g.
//
//	BenchmarkRotationSingleUser-2   100   26248948 ns/op   20.08 p50-ms   32.08 p95-ms   171.6 p99-ms
//
// and returns each strategy's N, p50, p95 and p99. Both benchmarks must be
// there with all three metrics: a skipped or failed benchmark is an error,
// not an empty figure.
func parseBenchOutput(out string) (map[string]Latency, error) {
	res := map[string]Latency{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		name, _, _ := strings.Cut(f[0], "-") // the -GOMAXPROCS suffix
		strategy, ok := inProcessBenchmarks[name]
		if !ok {
			continue
		}
		n, err := strconv.Atoi(f[1])
		if err != nil {
			continue // a line that names the benchmark but is not its result (e.g. "--- FAIL")
		}
		l := Latency{N: n}
		seen := 0
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%s: metric %q is not a number", name, f[i])
			}
			d := time.Duration(v * float64(time.Millisecond))
			switch f[i+1] {
			case "p50-ms":
				l.P50, seen = d, seen|1
			case "p95-ms":
				l.P95, seen = d, seen|2
			case "p99-ms":
				l.P99, seen = d, seen|4
			}
		}
		if seen != 7 {
			return nil, fmt.Errorf("%s: p50-ms, p95-ms and p99-ms expected", name)
		}
		res[strategy] = l
	}
	for name, strategy := range inProcessBenchmarks {
		if _, ok := res[strategy]; !ok {
			return nil, fmt.Errorf("no result for %s (skipped or failed?)", name)
		}
	}
	return res, nil
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
