package main_test

// The emulator's tests that run a function under the Lambda runtime
// harness (tools/lambdaharness, tools/internal/testfn), which belong to
// this module.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/dbvault/dbvault/functions/rotator/smlocal"
	"github.com/dbvault/dbvault/functions/rotator/smlocal/smtest"
	"github.com/dbvault/dbvault/tools/lambdaharness"
)

// swappable is an Invoker whose target a test can change between rotations.
type swappable struct {
	mu sync.Mutex
	to smlocal.Invoker
}

func (s *swappable) set(to smlocal.Invoker) { s.mu.Lock(); s.to = to; s.mu.Unlock() }
func (s *swappable) Invoke(ctx context.Context, arn string, ev events.SecretsManagerSecretRotationEvent) error {
	s.mu.Lock()
	to := s.to
	s.mu.Unlock()
	return to.Invoke(ctx, arn, ev)
}

const fnARN = "arn:aws:lambda:us-east-1:123456789012:function:rotator"

func createSecret(t *testing.T, c *secretsmanager.Client, value string) {
	t.Helper()
	if _, err := c.CreateSecret(t.Context(), &secretsmanager.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String(value), ClientRequestToken: aws.String(tok(1))}); err != nil {
		t.Fatal(err)
	}
}

var (
	buildOnce sync.Once
	testfnBin string
	buildErr  error
)

// testFunction starts tools/internal/testfn under the Lambda runtime
// harness, talking to the emulator at smURL; env adds test controls.
func testFunction(t *testing.T, smURL string, env map[string]string) *lambdaharness.Function {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "smlocal-testfn-")
		if err != nil {
			buildErr = err
			return
		}
		testfnBin, buildErr = lambdaharness.BuildBootstrap(context.Background(), "./tools/internal/testfn", dir)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	if env == nil {
		env = map[string]string{}
	}
	env["SECRETS_MANAGER_ENDPOINT"] = smURL
	f, err := lambdaharness.Start(t.Context(), lambdaharness.Config{Bootstrap: testfnBin, Env: env, FunctionName: "rotator", Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Stop() })
	return f
}

// TestRotateThroughHarness rotates with a real Lambda bootstrap under the
// RIE: twice successfully, then with a failing setSecret (AWSPENDING stays,
// the next RotateSecret is refused until the label is removed), then
// successfully again.
func TestRotateThroughHarness(t *testing.T) {
	clk := &clock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	inv := &swappable{}
	e := smtest.Start(t, smlocal.Options{Rotator: inv, Now: clk.now})
	c, ctx := e.Client, t.Context()
	good := testFunction(t, e.URL, nil)
	bad := testFunction(t, e.URL, map[string]string{"TESTFN_FAIL_STEP": "setSecret"})
	inv.set(smlocal.LambdaEndpoint(good.URL()))
	createSecret(t, c, "initial")

	rotate := func() (*secretsmanager.RotateSecretOutput, error) {
		return c.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String("s"), RotationLambdaARN: aws.String(fnARN), RotationRules: &types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)}})
	}
	prev, older := tok(1), ""
	for i := range 2 {
		r, err := rotate()
		if err != nil {
			t.Fatalf("rotation %d: %v", i+1, err)
		}
		got := smtest.Stages(t, c, "s")
		want := map[string][]string{prev: {"AWSPREVIOUS"}, *r.VersionId: {"AWSCURRENT", "AWSPENDING"}}
		if !smtest.EqualStages(got, want) {
			t.Fatalf("rotation %d: stages %v, want %v", i+1, got, want)
		}
		v := must[*secretsmanager.GetSecretValueOutput](t)(c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s")}))
		if *v.VersionId != *r.VersionId || len(*v.SecretString) != 24 {
			t.Fatalf("rotation %d: AWSCURRENT = %s (%d chars)", i+1, *v.VersionId, len(*v.SecretString))
		}
		// RotationEnabled, LastRotatedDate, NextRotationDate.
		d := must[*secretsmanager.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("s")}))
		if !*d.RotationEnabled || *d.RotationLambdaARN != fnARN || !d.LastRotatedDate.Equal(clk.t) || !d.NextRotationDate.Equal(clk.t.Add(30*24*time.Hour)) || *d.RotationRules.AutomaticallyAfterDays != 30 {
			t.Fatalf("rotation %d: describe %+v", i+1, d)
		}
		older, prev = prev, *r.VersionId
		clk.advance(time.Hour)
	}

	// A failing step: RotateSecret answers as the service does (the steps
	// run asynchronously there), AWSPENDING stays on the new version with
	// the value createSecret put, AWSCURRENT does not move.
	inv.set(smlocal.LambdaEndpoint(bad.URL()))
	lastRotated := clk.t.Add(-time.Hour)
	r, err := rotate()
	if err != nil {
		t.Fatalf("failing rotation: RotateSecret = %v", err)
	}
	failed := *r.VersionId
	got := smtest.Stages(t, c, "s")
	if want := (map[string][]string{older: {"AWSPREVIOUS"}, prev: {"AWSCURRENT"}, failed: {"AWSPENDING"}}); !smtest.EqualStages(got, want) {
		t.Fatalf("after failed setSecret: stages %v, want %v", got, want)
	}
	pending := must[*secretsmanager.GetSecretValueOutput](t)(c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s"), VersionId: &failed, VersionStage: aws.String("AWSPENDING")}))
	// The failure is logged as the service's RotationFailed event, with the
	// step and without the secret's value.
	logged := e.Logs.String()
	if !strings.Contains(logged, `"event":"RotationFailed"`) || !strings.Contains(logged, `"step":"setSecret"`) || strings.Contains(logged, *pending.SecretString) {
		t.Fatalf("log does not report the failure as expected:\n%s", logged)
	}
	d := must[*secretsmanager.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("s")}))
	if !d.LastRotatedDate.Equal(lastRotated) {
		t.Fatalf("LastRotatedDate moved on a failed rotation: %v", d.LastRotatedDate)
	}

	// RotateSecret: refused while AWSPENDING is on a version that is not
	// AWSCURRENT, even with a working function; nothing changes.
	inv.set(smlocal.LambdaEndpoint(good.URL()))
	_, err = rotate()
	var ir *types.InvalidRequestException
	if !errors.As(err, &ir) || !strings.Contains(err.Error(), "previous rotation isn't complete") {
		t.Fatalf("rotation after a failure: %v, want InvalidRequestException (previous rotation isn't complete)", err)
	}
	if again := smtest.Stages(t, c, "s"); !smtest.EqualStages(again, got) {
		t.Fatalf("refused rotation changed stages: %v -> %v", got, again)
	}
	// RetryRotation reattempts the unfinished rotation, as the service
	// does: the same version completes.
	if err := e.Server.RetryRotation(ctx, "s"); err != nil {
		t.Fatal(err)
	}
	if got := smtest.Stages(t, c, "s"); !smtest.EqualStages(got, map[string][]string{prev: {"AWSPREVIOUS"}, failed: {"AWSCURRENT", "AWSPENDING"}}) {
		t.Fatalf("after RetryRotation: stages %v", got)
	}
	if err := e.Server.RetryRotation(ctx, "s"); err == nil {
		t.Fatal("RetryRotation without an unfinished rotation succeeded")
	}
	prev = failed

	// Fail again; a retry with the failing function reports the step.
	inv.set(smlocal.LambdaEndpoint(bad.URL()))
	r, err = rotate()
	if err != nil {
		t.Fatal(err)
	}
	failed = *r.VersionId
	var fe *smlocal.FunctionError
	if err := e.Server.RetryRotation(ctx, "s"); !errors.As(err, &fe) || !strings.Contains(err.Error(), "step setSecret") {
		t.Fatalf("RetryRotation with the failing function: %v", err)
	}
	// Once the pending label is removed, a new rotation works again.
	inv.set(smlocal.LambdaEndpoint(good.URL()))
	must[*secretsmanager.UpdateSecretVersionStageOutput](t)(c.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String("s"), VersionStage: aws.String("AWSPENDING"), RemoveFromVersionId: &failed}))
	r, err = rotate()
	if err != nil {
		t.Fatal(err)
	}
	if got := smtest.Stages(t, c, "s"); !smtest.EqualStages(got, map[string][]string{prev: {"AWSPREVIOUS"}, *r.VersionId: {"AWSCURRENT", "AWSPENDING"}}) {
		t.Fatalf("after recovery: stages %v", got)
	}
}

// TestLambdaEndpointFunctionError: a function error through the RIE is an
// error carrying errorType and errorMessage.
func TestLambdaEndpointFunctionError(t *testing.T) {
	f := testFunction(t, "http://127.0.0.1:1", map[string]string{"TESTFN_FAIL_STEP": "testSecret"})
	err := smlocal.LambdaEndpoint(f.URL()).Invoke(t.Context(), fnARN, events.SecretsManagerSecretRotationEvent{Step: "testSecret", SecretID: "s", ClientRequestToken: tok(1)})
	var fe *smlocal.FunctionError
	if !errors.As(err, &fe) || fe.Type != "StepFailed" || !strings.Contains(fe.Message, "testSecret failed on purpose") {
		t.Fatalf("err = %v, want FunctionError StepFailed", err)
	}
	// An unreachable endpoint is an error too.
	if err := smlocal.LambdaEndpoint("http://127.0.0.1:1").Invoke(t.Context(), fnARN, events.SecretsManagerSecretRotationEvent{Step: "createSecret"}); err == nil {
		t.Fatal("unreachable endpoint: no error")
	}
}

// tok returns a valid ClientRequestToken / VersionId (32 to 64 characters)
// that names version n readably.
func tok(n int) string { return fmt.Sprintf("version-%02d-%s", n, strings.Repeat("0", 24)) }

func must[T any](t *testing.T) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
