// Command sandbox rotates a real database user's password N times on this
// machine, with no AWS account: the Secrets Manager emulator, a
// MySQL-compatible server and the real rotator under the Lambda runtime
// interface emulator. The server is the one SANDBOX_MYSQL_DSN names, else
// the MariaDB or MySQL that answers as root on 127.0.0.1:3306, else (or
// with SANDBOX_MYSQL_DSN=embedded) the embedded go-mysql-server; the first
// line says which. By default
// (declared) the rotator provisions an application user declared in its
// APP_USERS from a master secret in RDS's shape, then alternates it with
// its clone while an application logs in with AWSCURRENT. It prints a
// progress line per step and a table, and exits 0 only if every check held.
//
//	go run ./tools/cmd/sandbox [-rotations N] [-strategy declared|single|alternating] [-v]
//
// Environment: SANDBOX_ROTATIONS, SANDBOX_STRATEGY, SANDBOX_MYSQL_DSN
// (flags win over the environment).
//
// Ctrl-C, SIGTERM and a closed stdout (`... | head -3`: SIGPIPE, EPIPE)
// stop it the same way: the rotations end, the users are dropped, the
// function, the runtime interface emulator, the Secrets Manager emulator
// and the embedded server are stopped, and it exits non-zero.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/dbvault/dbvault/tools/internal/cmdenv"
	"github.com/dbvault/dbvault/tools/sandbox"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// chooseDatabase returns the DSN for sandbox.Options (empty: the embedded
// server) and the line that says which server and why.
func chooseDatabase(ctx context.Context, dsn string) (string, string) {
	switch dsn {
	case "embedded":
		return "", "using the embedded go-mysql-server (SANDBOX_MYSQL_DSN=embedded)"
	case "":
	default:
		return dsn, "using the server SANDBOX_MYSQL_DSN names"
	}
	if err := findLocal(ctx); err != nil {
		return "", fmt.Sprintf("no MySQL or MariaDB answers as root on 127.0.0.1:3306 (%v): using the embedded go-mysql-server (SANDBOX_MYSQL_DSN names a server)", err)
	}
	return sandbox.LocalDSN, "using the MySQL or MariaDB on 127.0.0.1:3306 as root (SANDBOX_MYSQL_DSN names another server, SANDBOX_MYSQL_DSN=embedded the embedded go-mysql-server)"
}

// findLocal looks for the local server (a variable for tests).
var findLocal = sandbox.FindLocal

// withEmbedded runs the sandbox again, built with the embedded server, for
// a program built without it (tag sandbox_noembedded) on a machine with no
// server: it builds ./tools/cmd/sandbox (from the repository's root, where
// the targets run) into a temporary folder and runs that.
func withEmbedded(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	dir, err := os.MkdirTemp("", "dbvault-sandbox-embedded-")
	if err != nil {
		fmt.Fprintf(stderr, "sandbox: %v\n", err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	fmt.Fprintln(stderr, "sandbox: compiling the sandbox with the embedded go-mysql-server (first time only) ...")
	bin := filepath.Join(dir, "sandbox")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./tools/cmd/sandbox") // #nosec G204 -- the go tool on this workspace's own command
	build.Stdout, build.Stderr = stderr, stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(stderr, "sandbox: go build ./tools/cmd/sandbox: %v\n", err)
		return 1
	}
	cmd := exec.Command(bin, args...) // #nosec G204 G702 -- the sandbox command just built, with its own arguments
	cmd.Env = append(os.Environ(), "SANDBOX_MYSQL_DSN=embedded")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(stderr, "sandbox: %v\n", err)
		return 1
	}
	// Ctrl-C reaches it from the terminal too; a SIGTERM sent to this
	// process alone is passed on, so that it cleans up.
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			_ = cmd.Process.Signal(syscall.SIGTERM)
		case <-done:
		}
	}()
	if err := cmd.Wait(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() > 0 {
			return ee.ExitCode()
		}
		return 1
	}
	return 0
}

// buildRotator builds the rotator for this machine into
// <user cache>/dbvault/sandbox and returns its bootstrap.
func buildRotator(ctx context.Context, stdout io.Writer) (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache folder for the rotator: %w", err)
	}
	dir := filepath.Join(cache, "dbvault", "sandbox")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", err
	}
	fmt.Fprintf(stdout, "building the rotator (%s) into %s (the first time about 5 s: it reuses what the sandbox compiled) ...\n", sandbox.RotatorPackage, dir)
	start := time.Now()
	bin, err := sandbox.BuildRotator(ctx, dir, false)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(stdout, "built in %.1f s\n", time.Since(start).Seconds())
	return bin, nil
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := cmdenv.Env{Getenv: getenv}
	defRotations := env.Int("SANDBOX_ROTATIONS", 3, 0)
	if env.Err != nil {
		fmt.Fprintln(stderr, env.Err)
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
	// SIGPIPE too: asking for it turns a write to a closed stdout from a
	// silent death (the Go runtime's default for fds 1 and 2, see
	// os/signal's "SIGPIPE") into an EPIPE error, so the cleanup runs.
	ctx, stop := cmdenv.Context(syscall.SIGPIPE)
	defer stop()
	dsn, which := chooseDatabase(ctx, getenv("SANDBOX_MYSQL_DSN"))
	if dsn == "" && !sandbox.HasEmbedded() {
		return withEmbedded(ctx, args, stdout, stderr)
	}
	fmt.Fprintln(stdout, which)
	opts := sandbox.Options{
		Rotations: *rotations,
		Strategy:  *strategy,
		MySQLDSN:  dsn,
		Out:       stdout,
	}
	if *verbose {
		opts.FunctionLog = stderr
	}
	// What Run would refuse, refused before the rotator's build.
	if *strategy != sandbox.Declared && *strategy != sandbox.Single && *strategy != sandbox.Alternating {
		fmt.Fprintf(stderr, "sandbox: strategy %q: expected %s, %s or %s\n", *strategy, sandbox.Declared, sandbox.Single, sandbox.Alternating)
		return 1
	}
	if dsn != "" {
		if _, err := mysql.ParseDSN(dsn); err != nil {
			// The DSN may hold a password: say what is wrong without it.
			fmt.Fprintln(stderr, "sandbox: the MySQL DSN is not valid (expected user[:password]@tcp(host:port)/)")
			return 1
		}
	}
	// The rotator is built into the user cache, not a temporary folder:
	// a later run's build finds it up to date and does not even link it.
	bootstrap, err := buildRotator(ctx, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "sandbox: %v\n", err)
		return 1
	}
	opts.Bootstrap = bootstrap
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
