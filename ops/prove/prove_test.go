package prove

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// fake is a Runner that records the commands it ran, takes the time each
// step's entry in took from the clock, and fails the steps in fail (by
// name, once per entry: a second failure needs a second entry).
type fake struct {
	ran  []string
	now  time.Time
	took map[string]time.Duration
	fail map[string][]error
	// ctxErr records, per step, the context's error when the step started.
	ctxErr map[string]error
	// during runs inside a step (e.g. to cancel the proof).
	during map[string]func()
}

func newFake() *fake {
	return &fake{
		now:    time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		took:   map[string]time.Duration{},
		fail:   map[string][]error{},
		ctxErr: map[string]error{},
		during: map[string]func(){},
	}
}

func (f *fake) clock() time.Time { return f.now }

func (f *fake) run(ctx context.Context, s Step) error {
	f.ran = append(f.ran, s.Command())
	f.ctxErr[s.Name] = ctx.Err()
	f.now = f.now.Add(f.took[s.Name])
	if d := f.during[s.Name]; d != nil {
		d()
	}
	if errs := f.fail[s.Name]; len(errs) > 0 {
		f.fail[s.Name] = errs[1:]
		return errs[0]
	}
	return nil
}

func report(results []Result) Report {
	return Report{Env: "prove-42", Region: "eu-west-1", Results: results}
}

func markdown(r Report) string {
	var b bytes.Buffer
	r.Markdown(&b)
	return b.String()
}

func TestProofRunsTheStepsInOrderThenDestroys(t *testing.T) {
	f := newFake()
	f.took = map[string]time.Duration{"deployAll": 18*time.Minute + 4*time.Second, "verify": 35 * time.Second,
		"rotate": 61500 * time.Millisecond, "verify again": 12340 * time.Millisecond, "destroyAll": 9*time.Minute + 12*time.Second}
	rep := report(Run(context.Background(), Proof, f.run, f.clock))
	want := []string{"go run mage.go deployAll", "go run mage.go verify", "go run mage.go rotate", "go run mage.go verify", "go run mage.go destroyAll"}
	if !slices.Equal(f.ran, want) {
		t.Fatalf("ran %q, want %q", f.ran, want)
	}
	if rep.Failed() {
		t.Error("a proof whose steps all passed failed")
	}
	got := markdown(rep)
	wantTable := "### Proof of environment `prove-42` in eu-west-1\n\n" +
		"| # | step | command | result | time |\n" +
		"| --- | --- | --- | --- | --- |\n" +
		"| 1 | deployAll | `go run mage.go deployAll` | passed | 18m 4s |\n" +
		"| 2 | verify | `go run mage.go verify` | passed | 35.0 s |\n" +
		"| 3 | rotate | `go run mage.go rotate` | passed | 1m 2s |\n" +
		"| 4 | verify again | `go run mage.go verify` | passed | 12.3 s |\n" +
		"| 5 | destroyAll | `go run mage.go destroyAll` | passed | 9m 12s |\n" +
		"\n**Result: passed**\n"
	if got != wantTable {
		t.Errorf("report:\n%s\nwant:\n%s", got, wantTable)
	}
}

func TestAFailedStepStopsTheRestButNotTheCleanup(t *testing.T) {
	f := newFake()
	f.took["verify"] = 3 * time.Second
	f.fail["verify"] = []error{errors.New("go run mage.go verify: exit status 1\n| secrets/app FAIL")}
	rep := report(Run(context.Background(), Proof, f.run, f.clock))
	want := []string{"go run mage.go deployAll", "go run mage.go verify", "go run mage.go destroyAll"}
	if !slices.Equal(f.ran, want) {
		t.Fatalf("ran %q, want %q", f.ran, want)
	}
	if !rep.Failed() {
		t.Fatal("a proof with a failed verify passed")
	}
	got := markdown(rep)
	for _, line := range []string{
		"| 2 | verify | `go run mage.go verify` | FAILED: go run mage.go verify: exit status 1 \\| secrets/app FAIL | 3.0 s |",
		"| 3 | rotate | `go run mage.go rotate` | skipped (an earlier step failed) | – |",
		"| 4 | verify again | `go run mage.go verify` | skipped (an earlier step failed) | – |",
		"| 5 | destroyAll | `go run mage.go destroyAll` | passed | 0.0 s |",
		"**Result: FAILED** (verify); destroyAll removed the environment afterwards",
	} {
		if !strings.Contains(got, line+"\n") {
			t.Errorf("report lacks the line %q:\n%s", line, got)
		}
	}
}

func TestTheCleanupIsTriedAgain(t *testing.T) {
	f := newFake()
	f.fail["destroyAll"] = []error{errors.New("exit status 1")}
	rep := report(Run(context.Background(), Proof, f.run, f.clock))
	if n := strings.Count(strings.Join(f.ran, "\n"), "destroyAll"); n != 2 {
		t.Fatalf("destroyAll ran %d times, want 2 (the second after the first failed)", n)
	}
	if rep.Failed() {
		t.Error("the proof failed although the second destroyAll removed everything")
	}
	got := markdown(rep)
	for _, want := range []string{"| 5 | destroyAll | `go run mage.go destroyAll` | FAILED: exit status 1 |",
		"| 6 | destroyAll (attempt 2) | `go run mage.go destroyAll` | passed |", "**Result: passed** (destroyAll took 2 attempts)"} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}

	f = newFake()
	f.fail["destroyAll"] = []error{errors.New("exit status 1"), errors.New("exit status 1")}
	rep = report(Run(context.Background(), Proof, f.run, f.clock))
	if !rep.Failed() {
		t.Fatal("the proof passed although destroyAll failed twice")
	}
	if n := len(f.ran); n != 6 {
		t.Errorf("ran %d commands, want 6 (4 steps, destroyAll twice): %q", n, f.ran)
	}
	if got := markdown(rep); !strings.Contains(got, "**Result: FAILED** (destroyAll, destroyAll (attempt 2)); destroyAll did not finish") ||
		!strings.Contains(got, "`ENV=prove-42 go run mage.go destroyAll`") {
		t.Errorf("report does not say that the environment may remain and how to remove it:\n%s", got)
	}
}

func TestAnInterruptedProofStillDestroys(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := newFake()
	f.during["deployAll"] = cancel
	f.fail["deployAll"] = []error{context.Canceled}
	rep := report(Run(ctx, Proof, f.run, f.clock))
	want := []string{"go run mage.go deployAll", "go run mage.go destroyAll"}
	if !slices.Equal(f.ran, want) {
		t.Fatalf("ran %q, want %q", f.ran, want)
	}
	if err := f.ctxErr["destroyAll"]; err != nil {
		t.Errorf("destroyAll ran with a cancelled context (%v): the process would stop it at once", err)
	}
	if !rep.Failed() {
		t.Error("an interrupted proof passed")
	}

	// Interrupted during a step that still passes: the rest are skipped
	// as interrupted, and the cleanup runs.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	f = newFake()
	f.during["verify"] = cancel
	rep = report(Run(ctx, Proof, f.run, f.clock))
	if want := []string{"go run mage.go deployAll", "go run mage.go verify", "go run mage.go destroyAll"}; !slices.Equal(f.ran, want) {
		t.Fatalf("ran %q, want %q", f.ran, want)
	}
	if !rep.Failed() {
		t.Error("a proof interrupted before rotate passed")
	}
	if got := markdown(rep); !strings.Contains(got, "| 3 | rotate | `go run mage.go rotate` | skipped (interrupted) | – |") ||
		!strings.Contains(got, "**Result: FAILED** (interrupted); destroyAll removed the environment afterwards") {
		t.Errorf("report does not show rotate skipped as interrupted:\n%s", got)
	}
}

func TestCleanupOnlyDestroys(t *testing.T) {
	f := newFake()
	rep := report(Run(context.Background(), CleanupOnly(Proof), f.run, f.clock))
	if !slices.Equal(f.ran, []string{"go run mage.go destroyAll"}) || rep.Failed() {
		t.Errorf("ran %q (failed %v), want destroyAll alone, passed", f.ran, rep.Failed())
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0.0 s", 1234 * time.Millisecond: "1.2 s", 59900 * time.Millisecond: "59.9 s",
		time.Minute: "1m 0s", 25*time.Minute + 30*time.Second: "25m 30s", 90 * time.Minute: "90m 0s",
	} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// The command: exit codes, the report on stdout and in the job summary,
// and nothing run on bad input.
func TestCommand(t *testing.T) {
	dir := t.TempDir()
	summary := filepath.Join(dir, "summary.md")
	if err := os.WriteFile(summary, []byte("earlier plans\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"GITHUB_RUN_ID": "12345678901", "AWS_REGION": "eu-west-1",
		"GITHUB_STEP_SUMMARY": summary, "PULUMI_BACKEND_URL": "s3://state", "PULUMI_CONFIG_PASSPHRASE": "p"}
	cmd := func(f *fake, out *bytes.Buffer) Command {
		return Command{Getenv: func(k string) string { return vars[k] }, Scratch: dir, Stdout: out, Stderr: out, Runner: f.run, Now: f.clock}
	}
	run := func(c Command) int { return c.Run(context.Background()) }

	var out bytes.Buffer
	f := newFake()
	f.fail["rotate"] = []error{errors.New("exit status 1")}
	if code := run(cmd(f, &out)); code != ExitFailed {
		t.Errorf("exit code %d after a failed rotate, want %d", code, ExitFailed)
	}
	b, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"earlier plans\n### Proof of environment `prove-12345678901` in eu-west-1\n",
		"| 3 | rotate | `go run mage.go rotate` | FAILED: exit status 1 |", "State: s3://state."} {
		if !strings.Contains(string(b), want) {
			t.Errorf("job summary lacks %q:\n%s", want, b)
		}
	}
	if !strings.Contains(out.String(), "| 5 | destroyAll |") || !strings.Contains(out.String(), "==> rotate: go run mage.go rotate") {
		t.Errorf("stdout lacks the steps or the table:\n%s", out.String())
	}

	out.Reset()
	f = newFake()
	if code := run(cmd(f, &out)); code != ExitPassed {
		t.Errorf("exit code %d after a proof that passed, want %d:\n%s", code, ExitPassed, out.String())
	}

	out.Reset()
	f = newFake()
	c := cmd(f, &out)
	c.CleanupOnly = true
	if code := run(c); code != ExitPassed || !slices.Equal(f.ran, []string{"go run mage.go destroyAll"}) {
		t.Errorf("-cleanup-only: exit code %d, ran %q; want 0 and destroyAll alone", code, f.ran)
	}

	// A name that is not a throwaway one: refused before anything runs.
	out.Reset()
	f = newFake()
	vars["ENV"] = "dev"
	if code := run(cmd(f, &out)); code != ExitUsage || len(f.ran) > 0 || !strings.Contains(out.String(), "does not start with prove-") {
		t.Errorf("ENV=dev: exit code %d, ran %q, output %q; want %d, nothing run, and why", code, f.ran, out.String(), ExitUsage)
	}
}
