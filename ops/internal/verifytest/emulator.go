package verifytest

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/dbvault/dbvault/functions/rotator/smlocal"
	"github.com/dbvault/dbvault/functions/rotator/smlocal/smtest"
	"github.com/dbvault/dbvault/ops/verify"
)

// Emulator is functions/rotator/smlocal holding the environment's secrets.
type Emulator struct {
	// URL is the endpoint (SECRETS_MANAGER_ENDPOINT).
	URL string
	// Client talks to it.
	Client *secretsmanager.Client
	// Apps maps user -> ARN; Master is the master secret's ARN.
	Apps   map[string]string
	Master string
}

// StartEmulator starts smlocal with the vault's secrets set up as a
// deploy leaves them and points f's outputs at them:
//
//   - each application secret of AppSecrets is created through the API,
//     given the vault's resource policy and rotated once (every
//     RotationDays days) by an in-process rotation function that finishes
//     the four steps, except for the users in failUsers, whose rotation
//     fails at setSecret and leaves AWSPENDING behind;
//   - the master secret, which RDS creates and rotates without a Lambda
//     function (RotateSecret with no function is refused, by the service
//     and the emulator alike), is loaded from a state file: rotation on
//     every MasterDays days, no RotationLambdaARN, rotated an hour ago.
func StartEmulator(t testing.TB, f *Fixture, failUsers ...string) *Emulator {
	t.Helper()
	dir := t.TempDir()
	state := filepath.Join(dir, "state.json")
	now := time.Now().UTC()
	rotated := now.Add(-time.Hour)
	master := map[string]any{
		"arn": MasterSecret, "name": "rds!cluster-0f1e2d3c", "created": now.Add(-2 * time.Hour), "lastChanged": rotated,
		"lastRotated": rotated, "rotationEnabled": true,
		"rotationRules": map[string]any{"AutomaticallyAfterDays": MasterDays},
		"policy":        MasterPolicy,
		"versions": []map[string]any{{"id": "22222222-2222-2222-2222-222222222222", "string": `{"username":"admin","password":"x"}`,
			"stages": []string{"AWSCURRENT"}, "created": rotated}},
	}
	data, err := json.Marshal(map[string]any{"version": 1, "secrets": []any{master}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(state, data, 0o600); err != nil {
		t.Fatal(err)
	}
	failing := map[string]bool{}
	var em *smtest.Emulator
	em = smtest.Start(t, smlocal.Options{
		StatePath: state,
		Rotator: smlocal.InvokerFunc(func(ctx context.Context, _ string, ev events.SecretsManagerSecretRotationEvent) error {
			if ev.Step == "setSecret" && failing[ev.SecretID] {
				return errors.New("setSecret: the database refused the connection")
			}
			return em.Step(ctx, ev, `{"password":"next"}`)
		}),
	})
	client := em.Client
	ctx := context.Background()
	e := &Emulator{URL: em.URL, Client: client, Apps: map[string]string{}, Master: MasterSecret}
	for user := range AppSecrets {
		c, err := client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("db-credentials-" + user + "-dev"),
			SecretString: aws.String(`{"username":"` + user + `","password":"first"}`), KmsKeyId: aws.String(SecretsKeyArn), Tags: ComplianceTags()})
		if err != nil {
			t.Fatal(err)
		}
		arn := aws.ToString(c.ARN)
		e.Apps[user] = arn
		for _, u := range failUsers {
			if u == user {
				failing[arn] = true
			}
		}
		if _, err := client.PutResourcePolicy(ctx, &secretsmanager.PutResourcePolicyInput{SecretId: c.ARN, ResourcePolicy: aws.String(Policy)}); err != nil {
			t.Fatal(err)
		}
		// The emulator runs the steps before it answers; a failed step is
		// reported only through the (emulated) CloudTrail event, as AWS does.
		if _, err := client.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: c.ARN,
			RotationLambdaARN: aws.String(FunctionArn),
			RotationRules:     &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(RotationDays)}}); err != nil {
			t.Fatal(err)
		}
	}
	f.UseSecrets(e.Apps, e.Master)
	return e
}

// WriteOutputs writes o as the JSON file `vault verify -outputs` reads.
func WriteOutputs(t testing.TB, o verify.Outputs) string {
	t.Helper()
	data, err := json.MarshalIndent(o, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "outputs.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
