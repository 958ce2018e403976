// Command testfn is a small rotation Lambda for the emulator's and the
// harness's tests. It follows the contract of AWS's rotation templates
// (check the version's stages first; createSecret, setSecret, testSecret,
// finishSecret, each idempotent) against Secrets Manager at
// $SECRETS_MANAGER_ENDPOINT, with no database: createSecret stores a random
// string as AWSPENDING.
//
// Test controls, from the environment:
//   - TESTFN_FAIL_STEP=<step> makes that step fail (errorType StepFailed).
//
// Extra steps, for the harness's own tests: "pid" answers the process id
// (to see whether the process stays warm), "sleep" blocks until the
// invocation's deadline has passed (to see the timeout), "env" answers the
// value of the variable named in SecretId.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// StepFailed is the error a step returns when TESTFN_FAIL_STEP names it.
type StepFailed struct{ Step string }

func (e StepFailed) Error() string { return "testfn: step " + e.Step + " failed on purpose" }

func main() {
	lambda.Start(handle)
}

func handle(ctx context.Context, ev events.SecretsManagerSecretRotationEvent) (any, error) {
	switch ev.Step {
	case "pid":
		return os.Getpid(), nil
	case "sleep":
		dl, _ := ctx.Deadline()
		time.Sleep(time.Until(dl) + 5*time.Second)
		return nil, nil
	case "env":
		return os.Getenv(ev.SecretID), nil
	}
	if os.Getenv("TESTFN_FAIL_STEP") == ev.Step {
		return nil, StepFailed{Step: ev.Step}
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, err
	}
	sm := secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) {
		if ep := os.Getenv("SECRETS_MANAGER_ENDPOINT"); ep != "" {
			o.BaseEndpoint = aws.String(ep)
		}
	})
	return nil, rotate(ctx, sm, ev)
}

func rotate(ctx context.Context, sm *secretsmanager.Client, ev events.SecretsManagerSecretRotationEvent) error {
	d, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: &ev.SecretID})
	if err != nil {
		return fmt.Errorf("describe: %w", err)
	}
	if d.RotationEnabled == nil || !*d.RotationEnabled {
		return errors.New("rotation is not enabled")
	}
	stages, ok := d.VersionIdsToStages[ev.ClientRequestToken]
	if !ok {
		return fmt.Errorf("version %s is not a version of the secret", ev.ClientRequestToken)
	}
	if slices.Contains(stages, "AWSCURRENT") {
		return nil
	}
	if !slices.Contains(stages, "AWSPENDING") {
		return fmt.Errorf("version %s is not AWSPENDING", ev.ClientRequestToken)
	}
	switch ev.Step {
	case "createSecret":
		if _, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &ev.SecretID, VersionStage: aws.String("AWSCURRENT")}); err != nil {
			return fmt.Errorf("createSecret: read AWSCURRENT: %w", err)
		}
		if _, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &ev.SecretID, VersionId: &ev.ClientRequestToken, VersionStage: aws.String("AWSPENDING")}); err == nil {
			return nil
		}
		pw, err := sm.GetRandomPassword(ctx, &secretsmanager.GetRandomPasswordInput{PasswordLength: aws.Int64(24)})
		if err != nil {
			return fmt.Errorf("createSecret: %w", err)
		}
		_, err = sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
			SecretId: &ev.SecretID, ClientRequestToken: &ev.ClientRequestToken,
			SecretString: pw.RandomPassword, VersionStages: []string{"AWSPENDING"},
		})
		if err != nil {
			return fmt.Errorf("createSecret: %w", err)
		}
	case "setSecret", "testSecret":
		if _, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &ev.SecretID, VersionId: &ev.ClientRequestToken, VersionStage: aws.String("AWSPENDING")}); err != nil {
			return fmt.Errorf("%s: read AWSPENDING: %w", ev.Step, err)
		}
	case "finishSecret":
		current := ""
		for id, st := range d.VersionIdsToStages {
			if slices.Contains(st, "AWSCURRENT") {
				current = id
			}
		}
		_, err := sm.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
			SecretId: &ev.SecretID, VersionStage: aws.String("AWSCURRENT"),
			MoveToVersionId: &ev.ClientRequestToken, RemoveFromVersionId: aws.String(current),
		})
		if err != nil {
			return fmt.Errorf("finishSecret: %w", err)
		}
	default:
		return fmt.Errorf("unknown step %q", ev.Step)
	}
	return nil
}
