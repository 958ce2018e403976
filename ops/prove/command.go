package prove

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"time"
)

// Command is the prove command (ops/cmd/prove) without its process, so
// tests run it whole: flags, setup, the steps, the report and the exit code.
type Command struct {
	// Getenv reads the inputs (os.Getenv).
	Getenv func(string) string
	// Environ is the environment the steps start from (os.Environ()).
	Environ []string
	// Dir is the repository root, where the steps run.
	Dir string
	// Scratch holds the state of a proof without PULUMI_BACKEND_URL
	// (os.TempDir()).
	Scratch string
	// Stdout receives the steps' output and the report; Stderr the steps'
	// errors and the command's own.
	Stdout, Stderr io.Writer
	// Runner runs the steps (nil: Exec in Dir with the setup's environment).
	Runner Runner
	// Now reads the clock (nil: time.Now).
	Now func() time.Time
	// CleanupOnly runs only the cleanup (-cleanup-only).
	CleanupOnly bool
}

// Exit codes of Run.
const (
	ExitPassed = 0 // every step passed and the environment was destroyed
	ExitFailed = 1 // a step failed, or the cleanup did
	ExitUsage  = 2 // bad flags or inputs: nothing ran
)

// Run runs the proof (with CleanupOnly, only its destroyAll), prints the
// report to Stdout, appends it to $GITHUB_STEP_SUMMARY when set, and
// returns the exit code.
func (c Command) Run(ctx context.Context) int {
	setup, err := Prepare(c.Getenv, c.Scratch)
	if err != nil {
		fmt.Fprintln(c.Stderr, "prove:", err)
		return ExitUsage
	}
	plan := Proof
	if c.CleanupOnly {
		plan = CleanupOnly(Proof)
	}
	run := c.Runner
	if run == nil {
		run = Exec{Dir: c.Dir, Env: setup.Environ(c.Environ), Stdout: c.Stdout, Stderr: c.Stderr}.Run
	}
	fmt.Fprintf(c.Stdout, "prove: environment %s in %s\n", setup.Env, setup.Region)
	results := Run(ctx, plan, func(stepCtx context.Context, s Step) error {
		if ctx.Err() != nil {
			fmt.Fprintf(c.Stdout, "\nprove: interrupted; destroying the environment before exiting\n")
		}
		fmt.Fprintf(c.Stdout, "\n==> %s: %s\n", s.Name, s.Command())
		return run(stepCtx, s)
	}, c.Now)
	rep := Report{Env: setup.Env, Region: setup.Region, Results: results, Notes: setup.Notes}
	var md bytes.Buffer
	rep.Markdown(&md)
	fmt.Fprintf(c.Stdout, "\n%s", md.String())
	code := ExitPassed
	if rep.Failed() {
		code = ExitFailed
	}
	if path := c.Getenv("GITHUB_STEP_SUMMARY"); path != "" {
		if err := appendFile(path, md.Bytes()); err != nil {
			fmt.Fprintf(c.Stderr, "prove: writing the job summary: %v\n", err)
			code = ExitFailed
		}
	}
	return code
}

func appendFile(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600) // #nosec G304 -- the runner's summary file
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
