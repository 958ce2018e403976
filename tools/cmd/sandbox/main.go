// Command sandbox rotates a real database user's password N times on this
// machine, with no AWS account: the Secrets Manager emulator, a
// MySQL-compatible server (embedded unless SANDBOX_MYSQL_DSN names one) and
// the real rotator under the Lambda runtime interface emulator. By default
// (declared) the rotator provisions an application user declared in its
// APP_USERS from a master secret in RDS's shape, then alternates it with
// its clone while an application logs in with AWSCURRENT. It prints a
// progress line per step and a table, and exits 0 only if every check held.
//
//	go run ./tools/cmd/sandbox [-rotations N] [-strategy declared|single|alternating] [-v]
//
// Environment: SANDBOX_ROTATIONS, SANDBOX_STRATEGY, SANDBOX_MYSQL_DSN
// (flags win over the environment).
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/dbvault/dbvault/tools/internal/cmdenv"
	"github.com/dbvault/dbvault/tools/sandbox"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	defRotations, err := cmdenv.Int(getenv, "SANDBOX_ROTATIONS", 3, 0)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	defStrategy := sandbox.Declared
	if v := getenv("SANDBOX_STRATEGY"); v != "" {
		defStrategy = v
	}
	rotations := fs.Int("rotations", defRotations, "how many rotations to run (env SANDBOX_ROTATIONS)")
	strategy := fs.String("strategy", defStrategy, "declared, single or alternating (env SANDBOX_STRATEGY)")
	verbose := fs.Bool("v", false, "stream the function's own log lines to stderr")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	// 0 is not "the default": a run of no rotations proves nothing, and the
	// library would silently make it 3.
	if *rotations < 1 {
		fmt.Fprintf(stderr, "rotations: %d (-rotations or SANDBOX_ROTATIONS); expected at least 1\n", *rotations)
		return 2
	}
	ctx, stop := cmdenv.Context()
	defer stop()
	opts := sandbox.Options{
		Rotations: *rotations,
		Strategy:  *strategy,
		MySQLDSN:  getenv("SANDBOX_MYSQL_DSN"),
		Out:       stdout,
	}
	if *verbose {
		opts.FunctionLog = stderr
	}
	res, err := sandbox.Run(ctx, opts)
	if res != nil && len(res.Rows) > 0 {
		fmt.Fprintln(stdout)
		_ = res.WriteTable(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "sandbox: %v\n", err)
		return 1
	}
	if !res.OK() {
		fmt.Fprintln(stderr, "sandbox: a rotation or a check failed (see above)")
		return 1
	}
	fmt.Fprintf(stdout, "\nall %d rotations (%s) passed every check\n", len(res.Rows), res.Strategy)
	return 0
}
