package rotation_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/dbvault/dbvault/functions/rotator/internal/rotation"
	"github.com/dbvault/dbvault/functions/rotator/internal/testdb"
)

// TestFinishSecretOutOfOrder: finishSecret invoked before createSecret
// (the token has no value) or before setSecret (the database refuses the
// AWSPENDING password) must leave AWSCURRENT where it is; afterwards the
// rotation completes as usual.
func TestFinishSecretOutOfOrder(t *testing.T) {
	for _, c := range []struct {
		name   string
		before []string
		want   string
	}{
		{"before createSecret", nil, "has no AWSPENDING value yet"},
		{"before setSecret", []string{rotation.StepCreate}, "the database rejects the AWSPENDING password of"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			f := e.fixture(false)
			before := e.holder(f.arn, rotation.StageCurrent)
			token := e.start(f.arn)
			if err := e.steps(f.arn, token, c.before...); err != nil {
				t.Fatal(err)
			}
			err := e.step(f.arn, token, rotation.StepFinish)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "AWSCURRENT stays where it is") {
				t.Fatalf("finishSecret out of order: %v", err)
			}
			if got := e.holder(f.arn, rotation.StageCurrent); got != before {
				t.Fatalf("AWSCURRENT moved to %s", got)
			}
			if !testdb.CanLogin(t, testdb.Addr(), f.user, e.get(f.arn, rotation.StageCurrent).Password) {
				t.Fatal("AWSCURRENT does not log in")
			}
			if err := e.steps(f.arn, token, allSteps...); err != nil {
				t.Fatal(err)
			}
			e.converged(f, token, before)
		})
	}
}

// lostAnswerSM applies UpdateSecretVersionStage, loses the answer, and
// returns what the SDK's retry of the same request gets: the label is no
// longer on RemoveFromVersionId.
type lostAnswerSM struct {
	rotation.SecretsManager
}

func (s lostAnswerSM) UpdateSecretVersionStage(ctx context.Context, in *secretsmanager.UpdateSecretVersionStageInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretVersionStageOutput, error) {
	if _, err := s.SecretsManager.UpdateSecretVersionStage(ctx, in, opts...); err != nil {
		return nil, err
	}
	return s.SecretsManager.UpdateSecretVersionStage(ctx, in, opts...)
}

// TestFinishSecretAnswerLost: the move is applied, its answer lost, and
// the retry fails; finishSecret sees that the token holds AWSCURRENT and
// succeeds. A move that really failed still fails.
func TestFinishSecretAnswerLost(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(false)
	before := e.holder(f.arn, rotation.StageCurrent)
	token := e.start(f.arn)
	if err := e.steps(f.arn, token, rotation.StepCreate, rotation.StepSet, rotation.StepTest); err != nil {
		t.Fatal(err)
	}
	e.h.SM = lostAnswerSM{e.sm}
	if err := e.step(f.arn, token, rotation.StepFinish); err != nil {
		t.Fatalf("finishSecret whose first answer was lost: %v", err)
	}
	e.converged(f, token, before)
	if !strings.Contains(e.logs.String(), "an earlier attempt's answer was lost") {
		t.Fatal("the recovery is not logged")
	}
}
