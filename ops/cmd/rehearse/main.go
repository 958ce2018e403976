// Command rehearse is `go run mage.go dev:rehearse`: it deploys, re-deploys
// and destroys every layer offline on the real Pulumi engine with the
// stand-in AWS provider (package ops/rehearse), in three environments
// (configurations.go): an ephemeral one; a production one
// (environmentClass=production in every layer), whose protected resources
// must refuse a destroyAll before it is retired as docs/runbooks.md says;
// and an ephemeral one placed in the offline account's existing VPC,
// serving its existing Aurora cluster. It prints a progress line per layer
// and a summary table per environment, and exits non-zero unless every
// check of all three held. The three run at once, each line of theirs
// after the environment's name in brackets.
//
// Environment: ENV (the ephemeral environment's stack name; default
// rehearsal; the others are ENV-prod and ENV-existing), AWS_REGION
// (default us-east-1), KEEP=1 keeps the scratch directory (backend, state,
// Pulumi's log, one subdirectory per environment) for inspection.
package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
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
	// The environments share nothing but the CLI and the stand-in's
	// binaries (each has its own backend, state and stand-in AWS under its
	// own folder), and most of a rehearsal is the engine's processes
	// waiting on each other, so they run at once; each line they print
	// carries the environment's name.
	var mu sync.Mutex
	failures := make([]string, len(configurations))
	times := make([]string, len(configurations))
	var wg sync.WaitGroup
	for i, c := range configurations {
		opts := all[i]
		opts.CLIRoot, opts.StandinDir = cli, standinDir
		opts.Out = &prefixWriter{mu: &mu, w: os.Stdout, prefix: "[" + c.name + "] "}
		opts.Dir = filepath.Join(dir, c.name)
		fmt.Fprintf(opts.Out, "=== rehearsal of %s: %s\n", c.heading, opts.Env.Name)
		if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cStart := time.Now()
			if _, err := rehearse.Run(ctx, opts); err != nil {
				failures[i] = fmt.Sprintf("%s: %v", c.name, err)
			}
			times[i] = fmt.Sprintf("%s %s", c.name, time.Since(cStart).Round(100*time.Millisecond))
		}()
	}
	wg.Wait()
	var failed []string
	for _, f := range failures {
		if f != "" {
			failed = append(failed, f)
		}
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

// prefixWriter writes whole lines to w, each after prefix, one writer at a
// time (mu is shared by the environments' writers).
type prefixWriter struct {
	mu     *sync.Mutex
	w      io.Writer
	prefix string
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		if _, err := fmt.Fprintf(p.w, "%s%s\n", p.prefix, p.buf[:i]); err != nil {
			return 0, err
		}
		p.buf = p.buf[i+1:]
	}
}
