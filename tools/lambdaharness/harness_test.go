package lambdaharness_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dbvault/dbvault/tools/lambdaharness"
)

// bootstrap is the test function (tools/internal/testfn), built once.
var bootstrap string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "lambdaharness-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	bootstrap, err = lambdaharness.BuildBootstrap(ctx, "./tools/internal/testfn", dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if _, err := lambdaharness.RIE(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

func start(t *testing.T, cfg lambdaharness.Config) *lambdaharness.Function {
	t.Helper()
	cfg.Bootstrap = bootstrap
	f, err := lambdaharness.Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Stop() })
	return f
}

func invokeStep(t *testing.T, f *lambdaharness.Function, step, secretID string) ([]byte, error) {
	t.Helper()
	return f.Invoke(t.Context(), fmt.Appendf(nil, `{"Step":%q,"SecretId":%q}`, step, secretID))
}

// functionPID is the process id of the function process that serves the
// invocation.
func functionPID(t *testing.T, f *lambdaharness.Function) int {
	t.Helper()
	out, err := invokeStep(t, f, "pid", "")
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(string(out))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// The process stays warm: two invocations are served by one process.
func TestWarmBetweenInvocations(t *testing.T) {
	f := start(t, lambdaharness.Config{})
	if a, b := functionPID(t, f), functionPID(t, f); a != b {
		t.Fatalf("pid changed between invocations: %d then %d; want one warm process", a, b)
	}
}

// The function sees Lambda's environment, Config.Env on top of it, and not
// the host's.
func TestEnvironment(t *testing.T) {
	t.Setenv("LAMBDAHARNESS_HOST_ONLY", "leak")
	f := start(t, lambdaharness.Config{
		// Long enough for a cold start on a loaded machine: the RIE answers
		// 502 when the function's init fails (ErrInitDoneFailed in its
		// internal/lambda/rie/handlers.go), as a 2.5 s init did once under
		// load. The half second shows the rounding.
		FunctionName: "rotator-test", MemoryMB: 256, Timeout: 59500 * time.Millisecond,
		Env: map[string]string{"AWS_REGION": "eu-west-1", "EXTRA": "x"},
	})
	want := map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        `"rotator-test"`,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": `"256"`,
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     `"60"`, // rounded up to whole seconds
		"AWS_REGION":                      `"eu-west-1"`,
		"AWS_DEFAULT_REGION":              `"us-east-1"`,
		"AWS_LAMBDA_LOG_FORMAT":           `"JSON"`,
		"AWS_ACCESS_KEY_ID":               `"AKIDLOCALHARNESS"`,
		"EXTRA":                           `"x"`,
		"LAMBDAHARNESS_HOST_ONLY":         `""`,
	}
	for k, v := range want {
		got, err := invokeStep(t, f, "env", k)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != v {
			t.Errorf("%s = %s, want %s", k, got, v)
		}
	}
}

// A function error comes back as *FunctionError with Lambda's type and
// message.
func TestFunctionError(t *testing.T) {
	f := start(t, lambdaharness.Config{Env: map[string]string{"TESTFN_FAIL_STEP": "setSecret"}})
	_, err := invokeStep(t, f, "setSecret", "x")
	var fe *lambdaharness.FunctionError
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v, want *FunctionError", err)
	}
	if fe.Type != "StepFailed" || !strings.Contains(fe.Message, "setSecret failed on purpose") {
		t.Fatalf("FunctionError = %+v", fe)
	}
}

// A run past the timeout is a Sandbox.Timedout error, and the next
// invocation gets a fresh process (the RIE resets the runtime).
func TestTimeout(t *testing.T) {
	f := start(t, lambdaharness.Config{Timeout: time.Second})
	before := functionPID(t, f)
	began := time.Now()
	_, err := invokeStep(t, f, "sleep", "")
	var fe *lambdaharness.FunctionError
	if !errors.As(err, &fe) || fe.Type != "Sandbox.Timedout" {
		t.Fatalf("err = %v, want a Sandbox.Timedout FunctionError", err)
	}
	if d := time.Since(began); d > 4*time.Second {
		t.Fatalf("timeout took %v, want about 1 s", d)
	}
	if after := functionPID(t, f); after == before {
		t.Fatalf("same pid %d after a timeout; want a fresh process", after)
	}
}

// Kill ends the RIE and the function at once; invocations then fail.
func TestKill(t *testing.T) {
	f := start(t, lambdaharness.Config{})
	n := functionPID(t, f)
	if err := f.Kill(); err != nil {
		t.Fatal(err)
	}
	if _, err := invokeStep(t, f, "pid", ""); err == nil {
		t.Fatal("invoke after Kill succeeded")
	}
	if processAlive(n) {
		t.Fatalf("function process %d still alive after Kill", n)
	}
}

// Stop ends the RIE and the function; once it returns, neither runs.
func TestStopLeavesNoProcess(t *testing.T) {
	f := start(t, lambdaharness.Config{})
	n := functionPID(t, f)
	if err := f.Stop(); err != nil {
		t.Fatal(err)
	}
	if processAlive(n) {
		t.Fatalf("function process %d still alive after Stop", n)
	}
	if err := f.Stop(); err != nil {
		t.Fatalf("a second Stop: %v", err)
	}
}
