package rotation_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/dbvault/dbvault/functions/rotator/internal/rotation"
)

// hangingSM answers no DescribeSecret: it waits for the caller's context to
// end, as a Secrets Manager endpoint that accepts and never answers would.
type hangingSM struct {
	rotation.SecretsManager
	deadline time.Time
}

func (s *hangingSM) DescribeSecret(ctx context.Context, _ *secretsmanager.DescribeSecretInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error) {
	s.deadline, _ = ctx.Deadline()
	<-ctx.Done()
	return nil, ctx.Err()
}

// A step that cannot finish stops before the invocation's deadline, when
// Lambda would end it, and logs why: without the margin its error and its
// line would race the end of the invocation.
func TestAStepStopsBeforeTheInvocationsDeadline(t *testing.T) {
	sm := &hangingSM{}
	var logs bytes.Buffer
	h := &rotation.Handler{SM: sm, Log: slog.New(slog.NewJSONHandler(&logs, nil))}
	// 5 s leave a margin of 500 ms: room for a loaded machine between the
	// step's end and the invocation's.
	parent, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	lambdaDeadline, _ := parent.Deadline()

	err := h.Handle(parent, events.SecretsManagerSecretRotationEvent{Step: "createSecret", SecretID: "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-x-AbCdEf", ClientRequestToken: "v1"})
	if parent.Err() != nil {
		t.Fatalf("Handle returned after the invocation's deadline")
	}
	if err == nil || !strings.Contains(err.Error(), "out of time") {
		t.Errorf("err = %v, want out of time", err)
	}
	if margin := lambdaDeadline.Sub(sm.deadline); margin <= 0 || margin > 500*time.Millisecond {
		t.Errorf("the step's deadline is %s before the invocation's, want a tenth of the 5s left", margin)
	}
	if !strings.Contains(logs.String(), `"msg":"rotation step failed"`) || !strings.Contains(logs.String(), "out of time") {
		t.Errorf("no failure line naming the cause: %s", logs.String())
	}
}
