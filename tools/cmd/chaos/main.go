// Command chaos runs many rotations of the real rotator under injected
// faults (process exits and kills, database down, hung or restarted,
// Secrets Manager throttling, errors and dropped connections, two
// rotations at once; for declared users, an insider changing the password
// of an account it holds a credential for), checks the invariants after
// every step, rotation and recovery, prints a report, and exits non-zero on
// any violation.
//
//	go run ./tools/cmd/chaos [-seed N] [-rotations N] [-strategy single|alternating|declared|both|all] [-v]
//
// Environment: CHAOS_SEED, CHAOS_ROTATIONS, CHAOS_STRATEGY, CHAOS_MYSQL_DSN
// (a real server instead of the embedded one); flags win over the
// environment. Without a seed, one is drawn and printed.
package main

import (
	"crypto/rand"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/dbvault/dbvault/tools/chaos"
	"github.com/dbvault/dbvault/tools/internal/cmdenv"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var seedDefault uint64
	if v := getenv("CHAOS_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			fmt.Fprintf(stderr, "CHAOS_SEED=%q: expected a whole number\n", v)
			return 2
		}
		seedDefault = n
	} else {
		var b [8]byte
		_, _ = rand.Read(b[:])
		seedDefault = binary.LittleEndian.Uint64(b[:]) % 1_000_000_000
	}
	env := cmdenv.Env{Getenv: getenv}
	rotDefault := env.Int("CHAOS_ROTATIONS", 30, 0)
	if env.Err != nil {
		fmt.Fprintln(stderr, env.Err)
		return 2
	}
	seed := fs.Uint64("seed", seedDefault, "seed of the fault choices (env CHAOS_SEED; default random, printed)")
	strategyDefault := getenv("CHAOS_STRATEGY")
	if strategyDefault == "" {
		strategyDefault = "all"
	}
	rotations := fs.Int("rotations", rotDefault, fmt.Sprintf("rotations per strategy, 1 to %d (env CHAOS_ROTATIONS)", chaos.MaxRotations))
	strategy := fs.String("strategy", strategyDefault, "single, alternating, declared, both (single and alternating) or all (env CHAOS_STRATEGY)")
	verbose := fs.Bool("v", false, "a line per step")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	// 0 is not "the default": the library would silently make it 50.
	if *rotations < 1 {
		fmt.Fprintf(stderr, "rotations: %d (-rotations or CHAOS_ROTATIONS); expected 1 to %d\n", *rotations, chaos.MaxRotations)
		return 2
	}
	var strategies []string
	switch *strategy {
	case "all":
	case "both":
		strategies = []string{"single", "alternating"}
	case "single", "alternating", "declared":
		strategies = []string{*strategy}
	default:
		fmt.Fprintf(stderr, "-strategy %q (or CHAOS_STRATEGY): expected single, alternating, declared, both or all\n", *strategy)
		return 2
	}
	ctx, stop := cmdenv.Context()
	defer stop()
	rep, err := chaos.Run(ctx, chaos.Options{
		Seed: *seed, Rotations: *rotations, Strategies: strategies,
		MySQLDSN: getenv("CHAOS_MYSQL_DSN"), Out: stdout, Verbose: *verbose,
	})
	if rep != nil {
		fmt.Fprintln(stdout)
		rep.Write(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "chaos: %v\n", err)
		return 1
	}
	if !rep.OK() {
		fmt.Fprintf(stderr, "chaos: %d invariant violation(s)\n", len(rep.Violations))
		return 1
	}
	return 0
}
