// Command bench measures the rotator on this machine (latency through the
// Lambda runtime interface emulator, cold start, peak memory, sizes, calls
// per rotation), prints the figures with the budgets' verdicts and writes
// docs/BENCHMARKS.md.
//
//	go run ./tools/cmd/bench [-rotations N] [-cold-starts N] [-write docs/BENCHMARKS.md]
//
//	    [-app-rotations N] [-app-interval D] [-app-strategies LIST] [-app-only]
//
// Environment: BENCH_ROTATIONS, BENCH_MYSQL_DSN (default the MariaDB on
// 127.0.0.1:3306; "embedded" for the embedded server), BENCH_APP_ROTATIONS,
// BENCH_APP_INTERVAL and BENCH_APP_STRATEGIES (the application simulation:
// rotations per strategy, default 100, the pause between them, default
// 400ms, and the strategies, default single,alternating,declared). With
// -app-only (BENCH_APP_ONLY=1) only the application simulation runs, its
// figures are printed and nothing is written. A budget that is not met is
// reported, not an error: the exit status says whether the measurement
// ran, and is also non-zero when alternating or declared users lost a
// login with a cache TTL shorter than the interval (the report is written
// first).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/dbvault/dbvault/tools/bench"
	"github.com/dbvault/dbvault/tools/internal/cmdenv"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := cmdenv.Env{Getenv: getenv}
	rotDefault := env.Int("BENCH_ROTATIONS", 100, 0)
	appRotDefault := env.Int("BENCH_APP_ROTATIONS", bench.DefaultAppRotations, 1)
	fleetDefault := env.Int("BENCH_FLEET", bench.DefaultFleet, 0)
	appIntervalDefault := env.Duration("BENCH_APP_INTERVAL", bench.DefaultAppInterval)
	if env.Err != nil {
		fmt.Fprintln(stderr, env.Err)
		return 2
	}
	rotations := fs.Int("rotations", rotDefault, "timed rotations per strategy (env BENCH_ROTATIONS)")
	appRotations := fs.Int("app-rotations", appRotDefault, "rotations per strategy during the application simulation, at least 1 (env BENCH_APP_ROTATIONS)")
	appInterval := fs.Duration("app-interval", appIntervalDefault, "pause between those rotations, 40ms to 1m (env BENCH_APP_INTERVAL)")
	appStrategies := fs.String("app-strategies", getenv("BENCH_APP_STRATEGIES"), "comma-separated strategies of the application simulation: single, alternating, declared (env BENCH_APP_STRATEGIES; default all)")
	appOnly := fs.Bool("app-only", getenv("BENCH_APP_ONLY") == "1", "run the application simulation alone, print it, write nothing (env BENCH_APP_ONLY=1)")
	cold := fs.Int("cold-starts", 20, "fresh function processes to time")
	fleet := fs.Int("fleet", fleetDefault, "declared users the fleet measurement issues and rotates, 0 to skip it (env BENCH_FLEET)")
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
	var strategies []string
	if *appStrategies != "" {
		strategies = strings.Split(*appStrategies, ",")
	}
	opts := bench.Options{Rotations: *rotations, ColdStarts: *cold, MySQLDSN: getenv("BENCH_MYSQL_DSN"),
		AppRotations: *appRotations, AppInterval: *appInterval, AppStrategies: strategies, Out: stdout, Fleet: *fleet}
	if *fleet == 0 {
		opts.Fleet = -1 // 0 in Options is the default
	}
	ctx, stop := cmdenv.Context()
	defer stop()
	if *appOnly {
		return appOnlyRun(ctx, opts, stdout, stderr)
	}
	rep, err := bench.Run(ctx, opts)
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
	return lostLogins(rep.App, stderr)
}

// appOnlyRun runs the application simulation alone and prints it.
func appOnlyRun(ctx context.Context, opts bench.Options, stdout, stderr io.Writer) int {
	app, err := bench.RunApp(ctx, opts)
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout)
	fmt.Fprint(stdout, app.Text())
	return lostLogins(app, stderr)
}

// lostLogins prints the application simulation's violations and returns
// the exit code: 1 if there are any.
func lostLogins(app *bench.AppReport, stderr io.Writer) int {
	v := app.Violations()
	for _, s := range v {
		fmt.Fprintf(stderr, "bench: lost logins: %s\n", s)
	}
	if len(v) > 0 {
		return 1
	}
	return 0
}
