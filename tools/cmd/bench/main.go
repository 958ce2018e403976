// Command bench measures the rotator on this machine (latency through the
// Lambda runtime interface emulator, cold start, peak memory, sizes, calls
// per rotation), prints the figures with the budgets' verdicts and writes
// docs/BENCHMARKS.md.
//
//	go run ./tools/cmd/bench [-rotations N] [-cold-starts N] [-write docs/BENCHMARKS.md]
//
//	    [-app-rotations N] [-app-interval D]
//
// Environment: BENCH_ROTATIONS, BENCH_MYSQL_DSN (default the MariaDB on
// 127.0.0.1:3306; "embedded" for the embedded server), BENCH_APP_ROTATIONS
// and BENCH_APP_INTERVAL (the application simulation: rotations per
// strategy, default 100, and the pause between them, default 400ms). A
// budget that is not met is reported, not an error: the exit status says
// whether the measurement ran, and is also non-zero when alternating users
// lost a login with a cache TTL shorter than the interval (the report is
// written first).
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/dbvault/dbvault/tools/bench"
	"github.com/dbvault/dbvault/tools/internal/cmdenv"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rotDefault, err := cmdenv.Int(getenv, "BENCH_ROTATIONS", 100, 0)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	appRotDefault, err := cmdenv.Int(getenv, "BENCH_APP_ROTATIONS", bench.DefaultAppRotations, 1)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	appIntervalDefault, err := cmdenv.Duration(getenv, "BENCH_APP_INTERVAL", bench.DefaultAppInterval)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	rotations := fs.Int("rotations", rotDefault, "timed rotations per strategy (env BENCH_ROTATIONS)")
	appRotations := fs.Int("app-rotations", appRotDefault, "rotations per strategy during the application simulation, at least 1 (env BENCH_APP_ROTATIONS)")
	appInterval := fs.Duration("app-interval", appIntervalDefault, "pause between those rotations, 40ms to 1m (env BENCH_APP_INTERVAL)")
	cold := fs.Int("cold-starts", 20, "fresh function processes to time")
	write := fs.String("write", "docs/BENCHMARKS.md", "where to write the Markdown report (empty: do not write)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	// 0 would mean the default inside the bench package: refuse it here.
	if *appRotations < 1 {
		fmt.Fprintf(stderr, "-app-rotations %d: expected at least 1\n", *appRotations)
		return 2
	}
	if *appInterval <= 0 {
		fmt.Fprintf(stderr, "-app-interval %s: expected a positive duration\n", *appInterval)
		return 2
	}
	ctx, stop := cmdenv.Context()
	defer stop()
	rep, err := bench.Run(ctx, bench.Options{Rotations: *rotations, ColdStarts: *cold, MySQLDSN: getenv("BENCH_MYSQL_DSN"),
		AppRotations: *appRotations, AppInterval: *appInterval, Out: stdout})
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout)
	fmt.Fprint(stdout, rep.Text())
	if *write != "" {
		if err := os.WriteFile(*write, []byte(rep.Markdown()), 0o600); err != nil {
			fmt.Fprintf(stderr, "bench: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "wrote %s\n", *write)
	}
	if v := rep.App.Violations(); len(v) > 0 {
		for _, s := range v {
			fmt.Fprintf(stderr, "bench: lost logins: %s\n", s)
		}
		return 1
	}
	return 0
}
