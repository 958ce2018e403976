// Command bench measures the rotator on this machine (latency through the
// Lambda runtime interface emulator, cold start, peak memory, sizes, calls
// per rotation), prints the figures with the budgets' verdicts and writes
// docs/BENCHMARKS.md.
//
//	go run ./tools/cmd/bench [-rotations N] [-cold-starts N] [-write docs/BENCHMARKS.md]
//
// Environment: BENCH_ROTATIONS, BENCH_MYSQL_DSN (default the MariaDB on
// 127.0.0.1:3306; "embedded" for the embedded server). A budget that is not
// met is reported, not an error: the exit status says whether the
// measurement ran.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/go-sql-driver/mysql"

	"github.com/dbvault/dbvault/tools/bench"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rotDefault := 100
	if v := getenv("BENCH_ROTATIONS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			fmt.Fprintf(stderr, "BENCH_ROTATIONS=%q: expected a whole number\n", v)
			return 2
		}
		rotDefault = n
	}
	rotations := fs.Int("rotations", rotDefault, "timed rotations per strategy (env BENCH_ROTATIONS)")
	cold := fs.Int("cold-starts", 20, "fresh function processes to time")
	write := fs.String("write", "docs/BENCHMARKS.md", "where to write the Markdown report (empty: do not write)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	_ = mysql.SetLogger(log.New(io.Discard, "", 0))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := bench.Run(ctx, bench.Options{Rotations: *rotations, ColdStarts: *cold, MySQLDSN: getenv("BENCH_MYSQL_DSN"), Out: stdout})
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
	return 0
}
