// Command prove proves a vault in a real AWS account (package ops/prove):
// in a throwaway environment, ENV (default prove-<GITHUB_RUN_ID>; it must
// start with prove-), it runs `go run mage.go deployAll`, `verify`,
// `rotate` and `verify` again, stopping at the first failure, then always
// `destroyAll` (twice if the first fails). It prints each step's name,
// result and time as a Markdown table, appends it to $GITHUB_STEP_SUMMARY,
// and exits 1 if any step failed, 2 before running anything on bad input.
//
//	go run ./ops/cmd/prove                 the proof
//	go run ./ops/cmd/prove -cleanup-only   only destroyAll (after a cancelled proof)
//
// Environment: what the mage targets read (AWS credentials, AWS_REGION,
// PULUMI_BACKEND_URL with PULUMI_CONFIG_PASSPHRASE or
// PULUMI_SECRETS_PROVIDER, TAG_*); without PULUMI_BACKEND_URL the state is
// a file backend in the temporary directory, with a generated passphrase.
// The workflow .github/workflows/prove.yml runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/dbvault/dbvault/ops/prove"
	"github.com/dbvault/dbvault/tools/workspace"
)

func main() {
	cleanupOnly := flag.Bool("cleanup-only", false, "only run destroyAll (after a cancelled proof)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: go run ./ops/cmd/prove [-cleanup-only]\n"+
			"  deploys ENV (default prove-<GITHUB_RUN_ID>), runs verify, rotate and verify again,\n"+
			"  then always destroys it; the table goes to stdout and $GITHUB_STEP_SUMMARY")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 0 {
		flag.Usage()
		os.Exit(prove.ExitUsage)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal the cleanup runs; a second one ends the
	// command at once (the destroy it started goes on in its own group).
	go func() { <-ctx.Done(); stop() }()
	root, err := workspace.Root()
	if err != nil {
		fmt.Fprintln(os.Stderr, "prove:", err)
		os.Exit(prove.ExitUsage)
	}
	code := prove.Command{
		Getenv:      os.Getenv,
		Environ:     os.Environ(),
		Dir:         root,
		Scratch:     os.TempDir(),
		Stdout:      os.Stdout,
		Stderr:      os.Stderr,
		CleanupOnly: *cleanupOnly,
	}.Run(ctx)
	stop()
	os.Exit(code)
}
