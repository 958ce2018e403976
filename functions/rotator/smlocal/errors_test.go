package smlocal_test

import (
	"context"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/dbvault/dbvault/functions/rotator/smlocal"
	"github.com/dbvault/dbvault/functions/rotator/smlocal/smtest"
)

// secretOps calls every operation that takes a SecretId on id, through the
// SDK, and returns each call's error by operation name.
func secretOps(ctx context.Context, c *secretsmanager.Client, id string) map[string]error {
	sid := aws.String(id)
	errs := map[string]error{}
	_, errs["DescribeSecret"] = c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: sid})
	_, errs["GetSecretValue"] = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: sid})
	_, errs["PutSecretValue"] = c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: sid, SecretString: aws.String("x")})
	_, errs["UpdateSecretVersionStage"] = c.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: sid, VersionStage: aws.String("L"), MoveToVersionId: aws.String(tok(1))})
	_, errs["ListSecretVersionIds"] = c.ListSecretVersionIds(ctx, &secretsmanager.ListSecretVersionIdsInput{SecretId: sid})
	_, errs["RotateSecret"] = c.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: sid, RotationLambdaARN: aws.String(fnARN)})
	_, errs["CancelRotateSecret"] = c.CancelRotateSecret(ctx, &secretsmanager.CancelRotateSecretInput{SecretId: sid})
	_, errs["PutResourcePolicy"] = c.PutResourcePolicy(ctx, &secretsmanager.PutResourcePolicyInput{SecretId: sid, ResourcePolicy: aws.String("{}")})
	_, errs["GetResourcePolicy"] = c.GetResourcePolicy(ctx, &secretsmanager.GetResourcePolicyInput{SecretId: sid})
	_, errs["DeleteResourcePolicy"] = c.DeleteResourcePolicy(ctx, &secretsmanager.DeleteResourcePolicyInput{SecretId: sid})
	return errs
}

// TestUnknownSecret: every operation on a secret that does not exist is
// ResourceNotFoundException (each operation's Errors section).
func TestUnknownSecret(t *testing.T) {
	noop := smlocal.InvokerFunc(func(context.Context, string, events.SecretsManagerSecretRotationEvent) error { return nil })
	e := smtest.Start(t, smlocal.Options{Rotator: noop})
	for op, err := range secretOps(t.Context(), e.Client, "no/such/secret") {
		if got := errCode(t, err); got != "ResourceNotFoundException" {
			t.Errorf("%s: %v, want ResourceNotFoundException", op, err)
		}
	}
}

// TestConcurrentRotation: while one rotation is running, a second
// RotateSecret is refused (its AWSPENDING version is not AWSCURRENT).
func TestConcurrentRotation(t *testing.T) {
	inStep := make(chan struct{})
	release := make(chan struct{})
	e := smtest.Start(t, smlocal.Options{Rotator: smlocal.InvokerFunc(func(ctx context.Context, arn string, ev events.SecretsManagerSecretRotationEvent) error {
		if ev.Step == "createSecret" {
			close(inStep)
			<-release
		}
		return nil
	})})
	c, ctx := e.Client, t.Context()
	createSecret(t, c, "v1")
	first := make(chan error, 1)
	go func() {
		_, err := c.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String("s"), RotationLambdaARN: aws.String(fnARN)})
		first <- err
	}()
	<-inStep
	_, err := c.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String("s"), RotationLambdaARN: aws.String(fnARN)})
	close(release)
	wantCode(t, err, "InvalidRequestException")
	if err := <-first; err != nil {
		t.Fatalf("first rotation: %v", err)
	}
}
