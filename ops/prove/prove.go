// Package prove is the proof of a vault in a real AWS account: it deploys a
// throwaway environment, verifies it, rotates its secret, verifies again,
// and always destroys it, even after a failure, so that a failed proof
// leaves nothing behind. Each step is a command (the repository's mage
// targets); Run times them and Report renders a Markdown table for the job
// summary. The command ops/cmd/prove and the workflow prove.yml drive it.
//
// The steps run through a Runner, so the tests swap the commands: the
// offline test runs the real deploy and destroy of every layer on the
// Pulumi engine with the stand-in provider (ops/rehearse's machinery), and
// stands in only for verify and rotate, which need AWS.
package prove

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Step is one named command of the proof.
type Step struct {
	// Name is what the table shows ("deployAll", "verify again").
	Name string
	// Args is the command and its arguments, run in the repository root.
	Args []string
}

// Command is the step's command as a shell would show it.
func (s Step) Command() string { return strings.Join(s.Args, " ") }

// Mage is the step that runs a mage target of the repository, as an
// operator would (go run mage.go <target>), under name.
func Mage(name, target string) Step {
	return Step{Name: name, Args: []string{"go", "run", "mage.go", target}}
}

// Runner runs one step's command; an error fails the step.
type Runner func(ctx context.Context, s Step) error

// Plan is what a proof runs.
type Plan struct {
	// Steps run in order; the first that fails stops them (the rest are
	// reported as skipped).
	Steps []Step
	// Cleanup runs after the steps, whatever happened to them.
	Cleanup Step
	// CleanupAttempts is how many times the cleanup runs until it succeeds
	// (at least once).
	CleanupAttempts int
}

// Proof is the plan of a proof: deployAll, verify, rotate, verify again,
// then destroyAll, tried twice: Lambda releases a VPC function's network
// interfaces some time after the function is deleted, and until then the
// network layer's security group and subnets cannot go (see
// terraform-provider-aws commit a54c0656, "Updated handling for Lambda
// Hyperplane ENIs"). destroyAll waits for them before the rotator's role
// goes (ops/deploy eni.go), for 45 minutes at most; a second destroyAll
// then finds only what was left and waits again.
var Proof = Plan{
	Steps: []Step{
		Mage("deployAll", "deployAll"),
		Mage("verify", "verify"),
		Mage("rotate", "rotate"),
		Mage("verify again", "verify"),
	},
	Cleanup:         Mage("destroyAll", "destroyAll"),
	CleanupAttempts: 2,
}

// CleanupOnly is the plan that only destroys: after a cancelled proof, the
// workflow's last step runs it to remove what the interrupted run deployed.
func CleanupOnly(p Plan) Plan {
	return Plan{Cleanup: p.Cleanup, CleanupAttempts: p.CleanupAttempts}
}

// Why a step is skipped.
var (
	errEarlierFailed = errors.New("an earlier step failed")
	errInterrupted   = errors.New("interrupted")
)

// Outcome is what became of a step.
type Outcome string

// The outcomes.
const (
	Passed  Outcome = "passed"
	Failed  Outcome = "FAILED"
	Skipped Outcome = "skipped"
)

// Result is one row of the report: a step, or one attempt of the cleanup.
type Result struct {
	Step    Step
	Outcome Outcome
	// Duration is the step's wall time (zero when skipped).
	Duration time.Duration
	// Err is why it failed.
	Err error
	// Cleanup marks the cleanup's rows.
	Cleanup bool
}

// Report is the outcome of a proof.
type Report struct {
	// Env and Region name the environment proved.
	Env, Region string
	Results     []Result
	// Notes are lines printed under the table (where the state is kept).
	Notes []string
}

// Failed reports whether the proof failed: a step failed or did not run
// (an interrupted proof proves nothing), or the cleanup's last attempt
// failed (an attempt that a later one made good does not count).
func (r Report) Failed() bool {
	for _, res := range r.Results {
		if !res.Cleanup && res.Outcome != Passed {
			return true
		}
	}
	return !r.cleanedUp()
}

// cleanedUp reports whether the cleanup's last attempt passed.
func (r Report) cleanedUp() bool {
	for i := len(r.Results) - 1; i >= 0; i-- {
		if r.Results[i].Cleanup {
			return r.Results[i].Outcome == Passed
		}
	}
	return false
}

// Run runs plan's steps in order through run, stopping at the first
// failure, then the cleanup, whatever happened, even when ctx was
// cancelled (an interrupted proof still removes what it deployed). now
// reads the clock (nil: time.Now).
func Run(ctx context.Context, plan Plan, run Runner, now func() time.Time) []Result {
	if now == nil {
		now = time.Now
	}
	timed := func(ctx context.Context, s Step) Result {
		start := now()
		err := run(ctx, s)
		res := Result{Step: s, Outcome: Passed, Duration: now().Sub(start)}
		if err != nil {
			res.Outcome, res.Err = Failed, err
		}
		return res
	}
	var results []Result
	var stopped error // why the remaining steps are skipped
	for _, s := range plan.Steps {
		if stopped == nil && ctx.Err() != nil {
			stopped = errInterrupted
		}
		if stopped != nil {
			results = append(results, Result{Step: s, Outcome: Skipped, Err: stopped})
			continue
		}
		res := timed(ctx, s)
		results = append(results, res)
		if res.Outcome == Failed {
			stopped = errEarlierFailed
		}
	}
	// The cleanup must not inherit a cancellation: interrupted, the proof
	// still destroys the environment before it exits.
	cleanupCtx := context.WithoutCancel(ctx)
	for attempt := 1; attempt <= max(plan.CleanupAttempts, 1); attempt++ {
		res := timed(cleanupCtx, plan.Cleanup)
		res.Cleanup = true
		if attempt > 1 {
			res.Step.Name = fmt.Sprintf("%s (attempt %d)", plan.Cleanup.Name, attempt)
		}
		results = append(results, res)
		if res.Outcome == Passed {
			break
		}
	}
	return results
}

// Markdown writes the report: a heading, one table row per step (number,
// step, command, result, time), the verdict and the notes.
func (r Report) Markdown(w io.Writer) {
	fmt.Fprintf(w, "### Proof of environment `%s` in %s\n\n", r.Env, r.Region)
	fmt.Fprintln(w, "| # | step | command | result | time |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- |")
	for i, res := range r.Results {
		result, took := string(res.Outcome), FormatDuration(res.Duration)
		switch res.Outcome {
		case Failed:
			result += ": " + cell(res.Err)
		case Skipped:
			result += " (" + cell(res.Err) + ")"
			took = "–"
		}
		fmt.Fprintf(w, "| %d | %s | `%s` | %s | %s |\n", i+1, res.Step.Name, res.Step.Command(), result, took)
	}
	fmt.Fprintln(w)
	var failed []string
	attempts := 0
	for _, res := range r.Results {
		if res.Cleanup {
			attempts++
		}
		if res.Outcome == Failed && (!res.Cleanup || !r.cleanedUp()) {
			failed = append(failed, res.Step.Name)
		}
	}
	if len(failed) == 0 {
		failed = []string{"interrupted"} // the only way to fail with no step failed
	}
	switch {
	case !r.Failed() && attempts > 1:
		fmt.Fprintf(w, "**Result: passed** (destroyAll took %d attempts)\n", attempts)
	case !r.Failed():
		fmt.Fprintln(w, "**Result: passed**")
	case r.cleanedUp():
		fmt.Fprintf(w, "**Result: FAILED** (%s); destroyAll removed the environment afterwards\n", strings.Join(failed, ", "))
	default:
		fmt.Fprintf(w, "**Result: FAILED** (%s); destroyAll did not finish, so resources of `%s` may remain in the account: "+
			"run `ENV=%s go run mage.go destroyAll` with the same state backend and passphrase to remove them\n",
			strings.Join(failed, ", "), r.Env, r.Env)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "\n%s\n", n)
	}
}

// cell is an error as one table cell: one line, no pipe.
func cell(err error) string {
	if err == nil {
		return ""
	}
	s := strings.Join(strings.Fields(err.Error()), " ")
	return strings.ReplaceAll(s, "|", `\|`)
}

// FormatDuration shows a step's time: tenths of a second under a minute,
// else minutes and whole seconds ("18m 4s").
func FormatDuration(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	d = d.Round(time.Second)
	return fmt.Sprintf("%dm %ds", int(d.Minutes()), int(d.Seconds())%60)
}
