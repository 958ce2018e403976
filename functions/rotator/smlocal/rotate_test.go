package smlocal_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/dbvault/dbvault/functions/rotator/smlocal"
	"github.com/dbvault/dbvault/functions/rotator/smlocal/smtest"
)

const fnARN = "arn:aws:lambda:us-east-1:123456789012:function:rotator"

func createSecret(t *testing.T, c *secretsmanager.Client, value string) {
	t.Helper()
	if _, err := c.CreateSecret(t.Context(), &secretsmanager.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String(value), ClientRequestToken: aws.String(tok(1))}); err != nil {
		t.Fatal(err)
	}
}

// failedRotation rotates secret "s" (created with "v1" as version 1) with
// a rotation function that fails at createSecret, and returns the client
// and RotateSecret's answer.
func failedRotation(t *testing.T) (*secretsmanager.Client, *secretsmanager.RotateSecretOutput) {
	t.Helper()
	e := smtest.Start(t, smlocal.Options{Rotator: smlocal.InvokerFunc(func(ctx context.Context, arn string, ev events.SecretsManagerSecretRotationEvent) error {
		return errors.New("createSecret: database unreachable")
	})})
	createSecret(t, e.Client, "v1")
	return e.Client, must[*secretsmanager.RotateSecretOutput](t)(e.Client.RotateSecret(t.Context(), &secretsmanager.RotateSecretInput{SecretId: aws.String("s"), RotationLambdaARN: aws.String(fnARN)}))
}

// TestRotateFailsAtCreateSecret: a failure before createSecret put a value
// leaves the value-less AWSPENDING version (RotateSecret: "When rotation is
// unsuccessful, the AWSPENDING staging label might be attached to an empty
// secret version").
func TestRotateFailsAtCreateSecret(t *testing.T) {
	c, r := failedRotation(t)
	ctx := t.Context()
	if got := smtest.Stages(t, c, "s"); !smtest.EqualStages(got, map[string][]string{tok(1): {"AWSCURRENT"}, *r.VersionId: {"AWSPENDING"}}) {
		t.Fatalf("stages %v", got)
	}
	_, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s"), VersionStage: aws.String("AWSPENDING")})
	wantCode(t, err, "ResourceNotFoundException")
	// CancelRotateSecret: rotation off; VersionId names the unfinished
	// version; the labels stay.
	cr := must[*secretsmanager.CancelRotateSecretOutput](t)(c.CancelRotateSecret(ctx, &secretsmanager.CancelRotateSecretInput{SecretId: aws.String("s")}))
	if *cr.VersionId != *r.VersionId {
		t.Fatalf("CancelRotateSecret VersionId = %s, want %s", *cr.VersionId, *r.VersionId)
	}
	d := must[*secretsmanager.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("s")}))
	if *d.RotationEnabled || d.NextRotationDate != nil || len(d.VersionIdsToStages) != 2 {
		t.Fatalf("after cancel: %+v", d)
	}
}

// TestRotateInProcess checks the order and content of the events, and the
// state the function sees during createSecret (FACTS: the new version is
// registered with AWSPENDING and no value before createSecret).
func TestRotateInProcess(t *testing.T) {
	var steps []string
	var c *secretsmanager.Client
	var arn string
	var checkErr error
	e := smtest.Start(t, smlocal.Options{Rotator: smlocal.InvokerFunc(func(ctx context.Context, fn string, ev events.SecretsManagerSecretRotationEvent) error {
		steps = append(steps, ev.Step)
		if fn != fnARN || ev.SecretID != arn || len(ev.ClientRequestToken) < 32 || ev.RotationToken == "" {
			checkErr = errors.New("bad event " + ev.Step + " " + ev.SecretID)
		}
		if ev.Step == "createSecret" {
			d, err := c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: &ev.SecretID})
			if err != nil {
				return err
			}
			if st := d.VersionIdsToStages[ev.ClientRequestToken]; len(st) != 1 || st[0] != "AWSPENDING" {
				checkErr = errors.New("token not AWSPENDING before createSecret")
			}
			_, err = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &ev.SecretID, VersionId: &ev.ClientRequestToken, VersionStage: aws.String("AWSPENDING")})
			var nf *types.ResourceNotFoundException
			if !errors.As(err, &nf) {
				checkErr = errors.New("pending value readable before createSecret")
			}
			_, err = c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: &ev.SecretID, ClientRequestToken: &ev.ClientRequestToken, SecretString: aws.String("new"), VersionStages: []string{"AWSPENDING"}})
			return err
		}
		if ev.Step == "finishSecret" {
			_, err := c.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: &ev.SecretID, VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: &ev.ClientRequestToken, RemoveFromVersionId: aws.String(tok(1))})
			return err
		}
		return nil
	})})
	c = e.Client
	ctx := t.Context()
	out := must[*secretsmanager.CreateSecretOutput](t)(c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("old"), ClientRequestToken: aws.String(tok(1))}))
	arn = *out.ARN
	// ClientRequestToken: the caller's token becomes the new VersionId.
	r := must[*secretsmanager.RotateSecretOutput](t)(c.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String("s"), RotationLambdaARN: aws.String(fnARN), ClientRequestToken: aws.String(tok(2))}))
	if *r.VersionId != tok(2) {
		t.Fatalf("VersionId = %s", *r.VersionId)
	}
	if strings.Join(steps, ",") != "createSecret,setSecret,testSecret,finishSecret" || checkErr != nil {
		t.Fatalf("steps %v, check %v", steps, checkErr)
	}
	// A retry with the same token does not rotate again.
	steps = nil
	must[*secretsmanager.RotateSecretOutput](t)(c.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String("s"), ClientRequestToken: aws.String(tok(2))}))
	if len(steps) != 0 {
		t.Fatalf("replayed token ran steps %v", steps)
	}
	g := must[*secretsmanager.GetSecretValueOutput](t)(c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s")}))
	if *g.SecretString != "new" {
		t.Fatalf("AWSCURRENT = %s", *g.SecretString)
	}
}

// TestRotateNotImmediately: RotateImmediately=false runs only testSecret, on
// a temporary AWSPENDING version that is removed afterwards, and stores the
// schedule.
func TestRotateNotImmediately(t *testing.T) {
	var steps []string
	var seen string
	var c *secretsmanager.Client
	e := smtest.Start(t, smlocal.Options{Rotator: smlocal.InvokerFunc(func(ctx context.Context, fn string, ev events.SecretsManagerSecretRotationEvent) error {
		steps = append(steps, ev.Step)
		g, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &ev.SecretID, VersionId: &ev.ClientRequestToken, VersionStage: aws.String("AWSPENDING")})
		if err != nil {
			return err
		}
		seen = *g.SecretString
		return nil
	})})
	c = e.Client
	ctx := t.Context()
	createSecret(t, c, "v1")
	must[*secretsmanager.RotateSecretOutput](t)(c.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String("s"), RotationLambdaARN: aws.String(fnARN),
		RotateImmediately: aws.Bool(false), RotationRules: &types.RotationRulesType{ScheduleExpression: aws.String("rate(4 hours)"), Duration: aws.String("2h")}}))
	if strings.Join(steps, ",") != "testSecret" || seen != "v1" {
		t.Fatalf("steps %v, pending value %q", steps, seen)
	}
	if got := smtest.Stages(t, c, "s"); !smtest.EqualStages(got, map[string][]string{tok(1): {"AWSCURRENT"}}) {
		t.Fatalf("temporary version left behind: %v", got)
	}
	vs := must[*secretsmanager.ListSecretVersionIdsOutput](t)(c.ListSecretVersionIds(ctx, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String("s"), IncludeDeprecated: aws.Bool(true)}))
	if len(vs.Versions) != 1 {
		t.Fatalf("versions %d, want 1", len(vs.Versions))
	}
	d := must[*secretsmanager.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("s")}))
	if !*d.RotationEnabled || *d.RotationRules.ScheduleExpression != "rate(4 hours)" || d.LastRotatedDate != nil || d.NextRotationDate == nil {
		t.Fatalf("describe %+v", d)
	}
}

func TestRotateRefusals(t *testing.T) {
	noop := smlocal.InvokerFunc(func(context.Context, string, events.SecretsManagerSecretRotationEvent) error { return nil })
	e := smtest.Start(t, smlocal.Options{Rotator: noop})
	c, ctx := e.Client, t.Context()
	createSecret(t, c, "v1")
	before := smtest.Stages(t, c, "s")
	for _, tc := range []struct {
		name string
		in   secretsmanager.RotateSecretInput
		code string
	}{
		{"no function", secretsmanager.RotateSecretInput{}, "InvalidRequestException"},
		{"both schedules", secretsmanager.RotateSecretInput{RotationLambdaARN: aws.String(fnARN), RotationRules: &types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(1), ScheduleExpression: aws.String("rate(1 days)")}}, "InvalidParameterException"},
		{"too frequent", secretsmanager.RotateSecretInput{RotationLambdaARN: aws.String(fnARN), RotationRules: &types.RotationRulesType{ScheduleExpression: aws.String("rate(2 hours)")}}, "InvalidParameterException"},
		{"bad expression", secretsmanager.RotateSecretInput{RotationLambdaARN: aws.String(fnARN), RotationRules: &types.RotationRulesType{ScheduleExpression: aws.String("every day")}}, "InvalidParameterException"},
		{"bad duration", secretsmanager.RotateSecretInput{RotationLambdaARN: aws.String(fnARN), RotationRules: &types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(1), Duration: aws.String("25h")}}, "InvalidParameterException"},
		{"days out of range", secretsmanager.RotateSecretInput{RotationLambdaARN: aws.String(fnARN), RotationRules: &types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(1001)}}, "ValidationException"},
		{"unknown secret", secretsmanager.RotateSecretInput{SecretId: aws.String("nope"), RotationLambdaARN: aws.String(fnARN)}, "ResourceNotFoundException"},
	} {
		in := tc.in
		if in.SecretId == nil {
			in.SecretId = aws.String("s")
		}
		_, err := c.RotateSecret(ctx, &in)
		if got := errCode(t, err); got != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
	d := must[*secretsmanager.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("s")}))
	if d.RotationEnabled != nil || !smtest.EqualStages(d.VersionIdsToStages, before) {
		t.Fatalf("refused rotations changed the secret: %+v", d)
	}

	// Without an Invoker, a rotation is refused with a clear error.
	e2 := smtest.Start(t, smlocal.Options{})
	createSecret(t, e2.Client, "v1")
	_, err := e2.Client.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String("s"), RotationLambdaARN: aws.String(fnARN)})
	if errCode(t, err) != "InvalidRequestException" || !strings.Contains(err.Error(), "-lambda-endpoint") {
		t.Fatalf("no invoker: %v", err)
	}
}

// TestCurrentNeverOnAnEmptyVersion: AWSCURRENT cannot move onto the
// value-less version a failed rotation left (see updateSecretVersionStage);
// AWSPENDING can, and AWSCURRENT can once the version has its value.
func TestCurrentNeverOnAnEmptyVersion(t *testing.T) {
	c, r := failedRotation(t)
	ctx := t.Context()
	_, err := c.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String("s"), VersionStage: aws.String("AWSCURRENT"),
		MoveToVersionId: r.VersionId, RemoveFromVersionId: aws.String(tok(1))})
	wantCode(t, err, "InvalidRequestException")
	if got := smtest.Stages(t, c, "s"); !smtest.EqualStages(got, map[string][]string{tok(1): {"AWSCURRENT"}, *r.VersionId: {"AWSPENDING"}}) {
		t.Fatalf("stages after the refused move %v", got)
	}
	must[*secretsmanager.UpdateSecretVersionStageOutput](t)(c.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String("s"), VersionStage: aws.String("TEST"), MoveToVersionId: r.VersionId}))
	must[*secretsmanager.PutSecretValueOutput](t)(c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), ClientRequestToken: r.VersionId, SecretString: aws.String("v2"), VersionStages: []string{"AWSPENDING"}}))
	must[*secretsmanager.UpdateSecretVersionStageOutput](t)(c.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String("s"), VersionStage: aws.String("AWSCURRENT"),
		MoveToVersionId: r.VersionId, RemoveFromVersionId: aws.String(tok(1))}))
}
