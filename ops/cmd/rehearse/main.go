// Command rehearse is `go run mage.go rehearse`: it deploys, re-deploys
// and destroys every layer offline on the real Pulumi engine with the
// stand-in AWS provider (package ops/rehearse), in three environments
// (configurations.go): an ephemeral one; a production one
// (environmentClass=production in every layer), whose protected resources
// must refuse a destroyAll before it is retired as docs/runbooks.md says;
// and an ephemeral one placed in the offline account's existing VPC,
// serving its existing Aurora cluster. It prints a progress line per layer
// and a summary table per environment, and exits non-zero unless every
// check of all three held.
//
// Environment: ENV (the ephemeral environment's stack name; default
// rehearsal; the others are ENV-prod and ENV-existing), AWS_REGION
// (default us-east-1), KEEP=1 keeps the scratch directory (backend, state,
// Pulumi's log, one subdirectory per environment) for inspection.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/dbvault/dbvault/ops/deploy"
	"github.com/dbvault/dbvault/ops/rehearse"
	"github.com/dbvault/dbvault/ops/rehearse/tools"
	"github.com/dbvault/dbvault/tools/workspace"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "rehearse:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	root, err := workspace.Root()
	if err != nil {
		return err
	}
	cli, err := tools.EnsureCLI(ctx, root, os.Stderr)
	if err != nil {
		return err
	}
	env, err := deploy.EnvironmentFromEnv(func(k string) string {
		if v := os.Getenv(k); v != "" || k != "ENV" {
			return v
		}
		return "rehearsal"
	})
	if err != nil {
		return err
	}
	// Every environment's name and options first: a name too long for
	// one of them stops the command before anything is deployed.
	all := make([]rehearse.Options, len(configurations))
	for i, c := range configurations {
		cEnv, err := deploy.EnvironmentFromEnv(func(k string) string {
			if k == "ENV" {
				return env.Name + c.suffix
			}
			return os.Getenv(k)
		})
		if err != nil {
			return fmt.Errorf("the %s environment (%s%s): %w", c.name, env.Name, c.suffix, err)
		}
		if all[i], err = c.options(cEnv); err != nil {
			return fmt.Errorf("the %s environment: %w", c.name, err)
		}
	}
	dir, err := os.MkdirTemp("", "dbvault-rehearsal-*")
	if err != nil {
		return err
	}
	keep := os.Getenv("KEEP") != ""
	standinDir, err := tools.BuildStandin(ctx, root, filepath.Join(dir, "bin"), os.Stderr)
	if err != nil {
		return err
	}
	var failed []string
	var times []string
	for i, c := range configurations {
		cStart := time.Now()
		opts := all[i]
		opts.CLIRoot, opts.StandinDir, opts.Out = cli, standinDir, os.Stdout
		opts.Dir = filepath.Join(dir, c.name)
		fmt.Printf("\n=== rehearsal of %s: %s\n\n", c.heading, opts.Env.Name)
		if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
			return err
		}
		if _, err := rehearse.Run(ctx, opts); err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", c.name, err))
		}
		times = append(times, fmt.Sprintf("%s %s", c.name, time.Since(cStart).Round(100*time.Millisecond)))
	}
	if len(failed) > 0 {
		err = fmt.Errorf("%s", strings.Join(failed, "\n"))
	}
	fmt.Printf("\nrehearsal took %s (%s)\n", time.Since(start).Round(100*time.Millisecond), strings.Join(times, ", "))
	if keep || err != nil {
		fmt.Printf("scratch directory kept: %s\n", dir)
	} else if rmErr := os.RemoveAll(dir); rmErr != nil {
		return rmErr
	}
	return err
}
