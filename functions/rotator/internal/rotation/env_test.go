package rotation_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/dbvault/dbvault/functions/rotator/internal/config"
	"github.com/dbvault/dbvault/functions/rotator/internal/mysqldb"
	"github.com/dbvault/dbvault/functions/rotator/internal/redact"
	"github.com/dbvault/dbvault/functions/rotator/internal/rotation"
	"github.com/dbvault/dbvault/functions/rotator/internal/secret"
	"github.com/dbvault/dbvault/functions/rotator/internal/testdb"
	"github.com/dbvault/dbvault/functions/rotator/smlocal"
	"github.com/dbvault/dbvault/functions/rotator/smlocal/smtest"
	"github.com/dbvault/dbvault/functions/rotator/syncbuf"
)

const functionARN = "arn:aws:lambda:us-east-1:123456789012:function:rotator"

// env is one test's world: the Secrets Manager emulator in process, the
// real SDK client pointed at it, the handler under test invoked by the
// emulator's RotateSecret, and the shared MariaDB.
type env struct {
	t    testing.TB
	sm   *secretsmanager.Client
	h    *rotation.Handler
	root *sql.DB
	logs *syncbuf.Buffer

	mu sync.Mutex
	// hold makes the emulator's invocations fail at once, so a test can
	// start a rotation (AWSPENDING registered, no value) and drive the
	// steps itself.
	hold bool
	// stepErrs are the errors the handler returned to the emulator.
	stepErrs []error
	// errs are every error any invocation returned, for the leak check.
	errs []error
	// extraSecrets are values that must never appear in output, besides
	// those stored in the emulator.
	extraSecrets []string
	arns         []string
}

// newEnv builds the world. Every test that uses it also gets, at its end,
// the check that no secret value reached a log line or an error.
func newEnv(t testing.TB, opts ...func(*smlocal.Options)) *env {
	t.Helper()
	root := testdb.Root(t)
	cfg, err := config.FromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, root: root}
	o := smlocal.Options{
		Rotator: smlocal.InvokerFunc(func(ctx context.Context, _ string, ev events.SecretsManagerSecretRotationEvent) error {
			e.mu.Lock()
			hold := e.hold
			e.mu.Unlock()
			if hold {
				return errors.New("held by the test")
			}
			err := e.handle(ctx, ev)
			if err != nil {
				e.mu.Lock()
				e.stepErrs = append(e.stepErrs, err)
				e.mu.Unlock()
			}
			return err
		}),
	}
	for _, opt := range opts {
		opt(&o)
	}
	em := smtest.Start(t, o)
	// The handler logs where the emulator does, for the leak check.
	e.sm, e.logs = em.Client, em.Logs
	e.h = &rotation.Handler{
		DB:     mysqldb.New(mysqldb.Options{ConnectTimeout: 2 * time.Second, StatementTimeout: 2 * time.Second}),
		Config: cfg.Rotation,
		Log:    slog.New(slog.NewJSONHandler(em.Logs, nil)),
		SM:     e.sm,
		// Tests run the normal build: checkpoints are a no-op unless set.
		Checkpoint: func(string) error { return nil },
	}
	t.Cleanup(e.checkNoLeak)
	return e
}

// handle invokes the handler as Lambda would, with a deadline.
func (e *env) handle(ctx context.Context, ev events.SecretsManagerSecretRotationEvent) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err := e.h.Handle(ctx, ev)
	if err != nil {
		e.mu.Lock()
		e.errs = append(e.errs, err)
		e.mu.Unlock()
	}
	return err
}

// step runs one step of the rotation of arn to token.
func (e *env) step(arn, token, step string) error {
	return e.handle(context.Background(), events.SecretsManagerSecretRotationEvent{Step: step, SecretID: arn, ClientRequestToken: token})
}

// steps runs the given steps in order and stops at the first error.
func (e *env) steps(arn, token string, steps ...string) error {
	for _, s := range steps {
		if err := e.step(arn, token, s); err != nil {
			return err
		}
	}
	return nil
}

var allSteps = []string{rotation.StepCreate, rotation.StepSet, rotation.StepTest, rotation.StepFinish}

// newSecret stores a secret and returns its ARN.
func (e *env) newSecret(value string) string {
	e.t.Helper()
	return e.newNamedSecret(testdb.Name("rotator-test/"), value)
}

// newNamedSecret stores a secret under a chosen name and returns its ARN.
func (e *env) newNamedSecret(name, value string) string {
	e.t.Helper()
	out, err := e.sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
		Name:         aws.String(name),
		SecretString: aws.String(value),
	})
	if err != nil {
		e.t.Fatalf("CreateSecret: %v", err)
	}
	e.arns = append(e.arns, *out.ARN)
	return *out.ARN
}

// dbSecret is the JSON of a secret for user/password on the shared server
// (or at addr when given).
func dbSecret(t testing.TB, user, password string, extra map[string]any) string {
	t.Helper()
	h, p := testdb.HostPort(t, testdb.Addr())
	m := map[string]any{"engine": "mysql", "host": h, "port": p, "username": user, "password": password}
	for k, v := range extra {
		m[k] = v
	}
	return mustJSON(t, m)
}

// rotate runs RotateSecret (the emulator invokes the handler for the four
// steps) and returns the first step error, if any.
func (e *env) rotate(arn string) error {
	e.t.Helper()
	e.mu.Lock()
	e.stepErrs = nil
	e.mu.Unlock()
	_, err := e.sm.RotateSecret(context.Background(), &secretsmanager.RotateSecretInput{
		SecretId:          &arn,
		RotationLambdaARN: aws.String(functionARN),
		RotationRules:     &smtypesRules,
	})
	if err != nil {
		return fmt.Errorf("RotateSecret: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.stepErrs) > 0 {
		return e.stepErrs[0]
	}
	return nil
}

// start begins a rotation without running any step and returns its token.
func (e *env) start(arn string) string {
	e.t.Helper()
	e.mu.Lock()
	e.hold = true
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		e.hold = false
		e.mu.Unlock()
	}()
	out, err := e.sm.RotateSecret(context.Background(), &secretsmanager.RotateSecretInput{
		SecretId:          &arn,
		RotationLambdaARN: aws.String(functionARN),
		RotationRules:     &smtypesRules,
	})
	if err != nil {
		e.t.Fatalf("RotateSecret: %v", err)
	}
	return *out.VersionId
}

// stages returns VersionIdsToStages.
func (e *env) stages(arn string) map[string][]string {
	e.t.Helper()
	d, err := e.sm.DescribeSecret(context.Background(), &secretsmanager.DescribeSecretInput{SecretId: &arn})
	if err != nil {
		e.t.Fatal(err)
	}
	return d.VersionIdsToStages
}

// holder returns the version that has stage ("" if none).
func (e *env) holder(arn, stage string) string {
	for id, st := range e.stages(arn) {
		for _, s := range st {
			if s == stage {
				return id
			}
		}
	}
	return ""
}

// get reads and parses a stage's value.
func (e *env) get(arn, stage string) secret.Secret {
	e.t.Helper()
	out, err := e.sm.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: &arn, VersionStage: &stage})
	if err != nil {
		e.t.Fatalf("GetSecretValue %s: %v", stage, err)
	}
	// Lenient: a declared secret's first version has no password.
	s, err := secret.ParseUnprovisioned(*out.SecretString)
	if err != nil {
		e.t.Fatalf("parse %s: %v", stage, err)
	}
	return s
}

// raw reads a stage's string, or "" when the stage has no value.
func (e *env) raw(arn, stage string) string {
	out, err := e.sm.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: &arn, VersionStage: &stage})
	if err != nil {
		return ""
	}
	return aws.ToString(out.SecretString)
}

// secretValues lists every password and secret string the emulator holds
// for this test's secrets, and the extras.
func (e *env) secretValues() []string {
	out := append([]string(nil), e.extraSecrets...)
	for _, arn := range e.arns {
		var versions []smtypes.SecretVersionsListEntry
		pages := secretsmanager.NewListSecretVersionIdsPaginator(e.sm, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String(arn), IncludeDeprecated: aws.Bool(true)})
		for pages.HasMorePages() {
			ids, err := pages.NextPage(context.Background())
			if err != nil {
				break
			}
			versions = append(versions, ids.Versions...)
		}
		for _, v := range versions {
			got, err := e.sm.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn), VersionId: v.VersionId})
			if err != nil || got.SecretString == nil {
				continue
			}
			out = append(out, *got.SecretString)
			if s, err := secret.ParseUnprovisioned(*got.SecretString); err == nil {
				out = append(out, s.Password)
			}
		}
	}
	return out
}

// checkNoLeak fails the test if any secret value appears in a log line of
// the handler or in an error it returned.
func (e *env) checkNoLeak() {
	values := e.secretValues()
	logs := e.logs.String()
	e.mu.Lock()
	errs := append([]error(nil), e.errs...)
	e.mu.Unlock()
	checked := 0
	for _, v := range values {
		if len(v) < 8 {
			continue
		}
		checked++
		for i, form := range encodings(v) {
			if strings.Contains(logs, form) || strings.Contains(logs, jsonEscaped(form)) {
				e.t.Errorf("a secret value appears in the logs (encoding %d)", i)
			}
			for _, err := range errs {
				if strings.Contains(err.Error(), form) {
					e.t.Errorf("a secret value appears in an error (encoding %d): %s", i, strings.ReplaceAll(err.Error(), form, redact.Placeholder+"(leaked)"))
				}
			}
		}
	}
	if checked == 0 && len(e.arns) > 0 {
		e.t.Errorf("leak check found no secret value to look for")
	}
}
