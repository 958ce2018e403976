package status

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/dbvault/dbvault/functions/rotator/smlocal"
	"github.com/dbvault/dbvault/functions/rotator/smlocal/smtest"
)

const fnARN = "arn:aws:lambda:us-east-1:123456789012:function:rotator-test"

// rig is the emulator with a small rotation function that performs the
// four steps against it; failStep makes that step fail.
type rig struct {
	em       *smtest.Emulator
	client   *secretsmanager.Client
	failStep string
	steps    []string
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{}
	r.em = smtest.Start(t, smlocal.Options{
		Rotator: smlocal.InvokerFunc(func(ctx context.Context, _ string, ev events.SecretsManagerSecretRotationEvent) error {
			return r.step(ctx, ev)
		}),
	})
	r.client = r.em.Client
	return r
}

// step is a minimal rotation function: new value in createSecret, nothing to
// set or test (there is no database here), AWSCURRENT moved in finishSecret.
func (r *rig) step(ctx context.Context, ev events.SecretsManagerSecretRotationEvent) error {
	r.steps = append(r.steps, ev.Step)
	if ev.Step == r.failStep {
		return fmt.Errorf("%s: database unreachable", ev.Step)
	}
	return r.em.Step(ctx, ev, `{"username":"app","password":"new-`+ev.ClientRequestToken[:8]+`"}`)
}

// secret creates a secret with rotation configured as the secrets layer
// configures it, and returns its ARN.
func (r *rig) secret(t *testing.T, name string) string {
	t.Helper()
	ctx := context.Background()
	c, err := r.client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String(name), SecretString: aws.String(`{"username":"app","password":"first"}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	// Turn rotation on without rotating (RotateImmediately=false runs only testSecret).
	if _, err := r.client.RotateSecret(ctx, &secretsmanager.RotateSecretInput{
		SecretId: c.ARN, RotationLambdaARN: aws.String(fnARN), RotateImmediately: aws.Bool(false),
		RotationRules: &types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)},
	}); err != nil {
		t.Fatal(err)
	}
	r.steps = nil
	return aws.ToString(c.ARN)
}

func TestRotateFollowsToAWSCURRENT(t *testing.T) {
	r := newRig(t)
	arn := r.secret(t, "db-credentials-ok")
	before, err := Describe(context.Background(), r.client, arn)
	if err != nil {
		t.Fatal(err)
	}
	oldCurrent, _ := before.Holder(Current)

	var out bytes.Buffer
	s, err := Rotate(context.Background(), r.client, arn, Follow{Interval: time.Millisecond, Timeout: time.Second, Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.steps, ","); got != "createSecret,setSecret,testSecret,finishSecret" {
		t.Fatalf("steps = %s", got)
	}
	cur, _ := s.Holder(Current)
	prev, _ := s.Holder(Previous)
	if cur.ID == oldCurrent.ID || prev.ID != oldCurrent.ID {
		t.Fatalf("after rotation current=%s previous=%s, old current %s", cur.ID, prev.ID, oldCurrent.ID)
	}
	if s.Unfinished != nil || len(s.Problems()) != 0 {
		t.Fatalf("problems after a good rotation: %v", s.Problems())
	}
	if s.LastRotated == nil {
		t.Fatal("LastRotated not set")
	}
	if !strings.Contains(out.String(), "rotation finished") || !strings.Contains(out.String(), cur.ID) {
		t.Fatalf("progress = %q", out.String())
	}
}

func TestFailedRotationIsFlaggedAndBlocksTheNext(t *testing.T) {
	r := newRig(t)
	arn := r.secret(t, "db-credentials-fail")
	r.failStep = "setSecret"

	_, err := Rotate(context.Background(), r.client, arn, Follow{Interval: time.Millisecond, Timeout: 20 * time.Millisecond})
	if !errors.Is(err, ErrUnfinished) {
		t.Fatalf("err = %v, want ErrUnfinished", err)
	}
	if got := strings.Join(r.steps, ","); got != "createSecret,setSecret" {
		t.Fatalf("steps = %s: the rotation must stop at the failing step", got)
	}

	s, err := Describe(context.Background(), r.client, arn)
	if err != nil {
		t.Fatal(err)
	}
	if s.Unfinished == nil {
		t.Fatal("AWSPENDING of the failed rotation not flagged")
	}
	var out bytes.Buffer
	s.Print(&out)
	text := out.String()
	for _, want := range []string{"PROBLEM: unfinished rotation: version " + s.Unfinished.ID, RunbookStuckPending,
		"aws logs tail /aws/lambda/rotator-test", "AWSPENDING", "every 30 days"} {
		if !strings.Contains(text, want) {
			t.Errorf("status output lacks %q:\n%s", want, text)
		}
	}

	if !regexp.MustCompile(`(?m)^rotation\s+on$`).MatchString(text) {
		t.Errorf("rotation not shown as on:\n%s", text)
	}

	// The next rotate is refused before RotateSecret is called.
	r.steps = nil
	r.failStep = ""
	_, err = Rotate(context.Background(), r.client, arn, Follow{Interval: time.Millisecond, Timeout: time.Second})
	if !errors.Is(err, ErrUnfinished) || !strings.Contains(err.Error(), "rotate refused") {
		t.Fatalf("second rotate err = %v", err)
	}
	if len(r.steps) != 0 {
		t.Fatalf("rotation function invoked: %v", r.steps)
	}
}

func TestStatusOfSecretWithoutRotation(t *testing.T) {
	r := newRig(t)
	c, err := r.client.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
		Name: aws.String("plain"), SecretString: aws.String("{}"),
	})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Describe(context.Background(), r.client, "plain")
	if err != nil {
		t.Fatal(err)
	}
	if s.ARN != aws.ToString(c.ARN) || s.RotationEnabled {
		t.Fatalf("state = %+v", s)
	}
	if p := strings.Join(s.Problems(), "\n"); !strings.Contains(p, "rotation is off") {
		t.Fatalf("problems = %q", p)
	}
	if _, err := Rotate(context.Background(), r.client, "plain", Follow{}); err == nil || !strings.Contains(err.Error(), "no rotation function") {
		t.Fatalf("rotate without function: %v", err)
	}
}

func TestDescribeUnknownSecret(t *testing.T) {
	r := newRig(t)
	_, err := Describe(context.Background(), r.client, "missing")
	if err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Fatalf("err = %v", err)
	}
}

// A secret whose rotation someone turned off is not rotated: RotateSecret
// would turn rotation back on with the stored schedule. Nothing runs and
// rotation stays off.
func TestRotateRefusesWhenRotationIsOff(t *testing.T) {
	r := newRig(t)
	arn := r.secret(t, "cancelled")
	ctx := context.Background()
	if _, err := r.client.CancelRotateSecret(ctx, &secretsmanager.CancelRotateSecretInput{SecretId: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	_, err := Rotate(ctx, r.client, arn, Follow{})
	if err == nil || !strings.Contains(err.Error(), "rotation of this secret is off") {
		t.Fatalf("rotate with rotation off: %v", err)
	}
	s, err := Describe(ctx, r.client, arn)
	if err != nil {
		t.Fatal(err)
	}
	if s.RotationEnabled || len(r.steps) != 0 {
		t.Errorf("rotation enabled %v, steps %v: want nothing changed", s.RotationEnabled, r.steps)
	}
}

// A rotation more than a day past its NextRotationDate is reported; one
// still due, one whose secret does not rotate, or a state read without a
// clock is not.
func TestOverdueRotationIsAProblem(t *testing.T) {
	read := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	current := []Version{{ID: "v1", Stages: []string{Current}}}
	at := func(d time.Duration) *time.Time { t := read.Add(d); return &t }
	for _, c := range []struct {
		name    string
		s       State
		overdue bool
	}{
		{"two days late", State{RotationEnabled: true, RotatorARN: fnARN, NextRotation: at(-48 * time.Hour), Read: read, Versions: current}, true},
		{"due today", State{RotationEnabled: true, RotatorARN: fnARN, NextRotation: at(-6 * time.Hour), Read: read, Versions: current}, false},
		{"due next week", State{RotationEnabled: true, RotatorARN: fnARN, NextRotation: at(7 * 24 * time.Hour), Read: read, Versions: current}, false},
		{"rotation off", State{RotatorARN: fnARN, NextRotation: at(-48 * time.Hour), Read: read, Versions: current}, false},
		{"no clock", State{RotationEnabled: true, RotatorARN: fnARN, NextRotation: at(-48 * time.Hour), Versions: current}, false},
	} {
		p := strings.Join(c.s.Problems(), "\n")
		if got := strings.Contains(p, "has not happened"); got != c.overdue {
			t.Errorf("%s: problems %q, want overdue %v", c.name, p, c.overdue)
		}
	}
}

// emptyTokenSM answers ListSecretVersionIds with an empty NextToken, which
// ends a list as a missing one does (the SDK's paginators stop on it), or
// with the same token every time, which ends it too.
type emptyTokenSM struct {
	API
	lists int
	token string // the NextToken of every answer ("" unless set)
}

func (s *emptyTokenSM) DescribeSecret(context.Context, *secretsmanager.DescribeSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error) {
	return &secretsmanager.DescribeSecretOutput{ARN: aws.String("arn:aws:secretsmanager:us-east-1:123456789012:secret:s-AbCdEf"), VersionIdsToStages: map[string][]string{"v1": {"AWSCURRENT"}}}, nil
}

func (s *emptyTokenSM) ListSecretVersionIds(context.Context, *secretsmanager.ListSecretVersionIdsInput, ...func(*secretsmanager.Options)) (*secretsmanager.ListSecretVersionIdsOutput, error) {
	s.lists++
	if s.lists > 3 {
		return nil, errors.New("asked again after an empty NextToken")
	}
	return &secretsmanager.ListSecretVersionIdsOutput{NextToken: aws.String(s.token)}, nil
}

func TestAnEmptyNextTokenEndsTheVersionList(t *testing.T) {
	sm := &emptyTokenSM{}
	if _, err := Describe(context.Background(), sm, "s"); err != nil || sm.lists != 1 {
		t.Fatalf("Describe: %v after %d lists, want one list", err, sm.lists)
	}
	sm = &emptyTokenSM{token: "again"}
	if _, err := Describe(context.Background(), sm, "s"); err != nil || sm.lists != 2 {
		t.Fatalf("Describe with a repeated token: %v after %d lists, want two lists", err, sm.lists)
	}
}
