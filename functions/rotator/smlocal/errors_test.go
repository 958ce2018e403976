package smlocal_test

import (
	"context"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/dbvault/dbvault/functions/rotator/smlocal"
)

// secretOps calls every operation that takes a SecretId on id, through the
// SDK, and returns each call's error by operation name.
func secretOps(ctx context.Context, c *secretsmanager.Client, id string) map[string]error {
	sid := aws.String(id)
	errs := map[string]error{}
	_, errs["DescribeSecret"] = c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: sid})
	_, errs["GetSecretValue"] = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: sid})
	_, errs["PutSecretValue"] = c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: sid, SecretString: aws.String("x")})
	_, errs["UpdateSecret"] = c.UpdateSecret(ctx, &secretsmanager.UpdateSecretInput{SecretId: sid, Description: aws.String("d")})
	_, errs["UpdateSecretVersionStage"] = c.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: sid, VersionStage: aws.String("L"), MoveToVersionId: aws.String(tok(1))})
	_, errs["ListSecretVersionIds"] = c.ListSecretVersionIds(ctx, &secretsmanager.ListSecretVersionIdsInput{SecretId: sid})
	_, errs["RotateSecret"] = c.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: sid, RotationLambdaARN: aws.String(fnARN)})
	_, errs["CancelRotateSecret"] = c.CancelRotateSecret(ctx, &secretsmanager.CancelRotateSecretInput{SecretId: sid})
	_, errs["TagResource"] = c.TagResource(ctx, &secretsmanager.TagResourceInput{SecretId: sid, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	_, errs["UntagResource"] = c.UntagResource(ctx, &secretsmanager.UntagResourceInput{SecretId: sid, TagKeys: []string{"k"}})
	_, errs["PutResourcePolicy"] = c.PutResourcePolicy(ctx, &secretsmanager.PutResourcePolicyInput{SecretId: sid, ResourcePolicy: aws.String("{}")})
	_, errs["GetResourcePolicy"] = c.GetResourcePolicy(ctx, &secretsmanager.GetResourcePolicyInput{SecretId: sid})
	_, errs["DeleteResourcePolicy"] = c.DeleteResourcePolicy(ctx, &secretsmanager.DeleteResourcePolicyInput{SecretId: sid})
	_, errs["RestoreSecret"] = c.RestoreSecret(ctx, &secretsmanager.RestoreSecretInput{SecretId: sid})
	_, errs["DeleteSecret"] = c.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: sid})
	return errs
}

// TestUnknownSecret: every operation on a secret that does not exist is
// ResourceNotFoundException (each operation's Errors section).
func TestUnknownSecret(t *testing.T) {
	noop := smlocal.InvokerFunc(func(context.Context, string, events.SecretsManagerSecretRotationEvent) error { return nil })
	e := newEmulator(t, smlocal.Options{Rotator: noop})
	for op, err := range secretOps(t.Context(), e.client, "no/such/secret") {
		if got := errCode(t, err); got != "ResourceNotFoundException" {
			t.Errorf("%s: %v, want ResourceNotFoundException", op, err)
		}
	}
}

// TestSecretScheduledForDeletion: during the recovery window only
// DescribeSecret, ListSecretVersionIds, GetResourcePolicy and RestoreSecret
// work; everything else is InvalidRequestException ("You can't perform
// this operation on the secret because it was marked for deletion"), and
// nothing changes.
func TestSecretScheduledForDeletion(t *testing.T) {
	noop := smlocal.InvokerFunc(func(context.Context, string, events.SecretsManagerSecretRotationEvent) error { return nil })
	e := newEmulator(t, smlocal.Options{Rotator: noop})
	c, ctx := e.client, t.Context()
	createSecret(t, c, "v1")
	if _, err := c.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("s")}); err != nil {
		t.Fatal(err)
	}
	before := stages(t, c, "s")
	// DeleteSecret runs after RestoreSecret in secretOps, on a live secret
	// again (a second delete during the window is tested in
	// TestDeleteAndRestoreSecret).
	allowed := map[string]bool{"DescribeSecret": true, "ListSecretVersionIds": true, "GetResourcePolicy": true, "RestoreSecret": true, "DeleteSecret": true}
	errs := secretOps(ctx, c, "s")
	for op, err := range errs {
		want := "InvalidRequestException"
		if allowed[op] {
			want = ""
		}
		if got := errCode(t, err); got != want {
			t.Errorf("%s on a deleted secret: %v, want %q", op, err, want)
		}
	}
	// The refused operations changed nothing; the secret is scheduled for
	// deletion again with the same versions.
	if after := stages(t, c, "s"); !equalStages(before, after) {
		t.Fatalf("versions changed: %v -> %v", before, after)
	}
}

// TestConcurrentRotation: while one rotation is running, a second
// RotateSecret is refused (its AWSPENDING version is not AWSCURRENT).
func TestConcurrentRotation(t *testing.T) {
	inStep := make(chan struct{})
	release := make(chan struct{})
	e := newEmulator(t, smlocal.Options{Rotator: smlocal.InvokerFunc(func(ctx context.Context, arn string, ev events.SecretsManagerSecretRotationEvent) error {
		if ev.Step == "createSecret" {
			close(inStep)
			<-release
		}
		return nil
	})})
	c, ctx := e.client, t.Context()
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
