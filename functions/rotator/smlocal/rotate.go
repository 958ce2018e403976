package smlocal

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// The rotation function's steps, in the order Secrets Manager invokes them
// ("How rotation works", Secrets Manager User Guide).
var rotationSteps = []string{"createSecret", "setSecret", "testSecret", "finishSecret"}

type rotateSecretInput struct {
	SecretId           *string
	ClientRequestToken *string
	RotationLambdaARN  *string
	RotationRules      *rotationRules
	RotateImmediately  *bool
}

func (in *rotateSecretInput) check() *apiError {
	return firstErr(checkSecretID(in.SecretId), checkToken("clientRequestToken", in.ClientRequestToken),
		length("rotationLambdaARN", in.RotationLambdaARN, 0, 2048), checkRules(in.RotationRules))
}

type rotateSecretOutput struct {
	ARN       string
	Name      string
	VersionId *string `json:",omitempty"`
}

// rotation is one run of the rotation function's steps on a version.
type rotation struct {
	arn, lambdaARN, token string
	steps                 []string
	// temporary: the version exists only for the run (RotateImmediately=false).
	temporary bool
}

// checkRules validates RotationRules (RotationRulesType): AutomaticallyAfterDays
// 1 to 1000, or a ScheduleExpression rate()/cron() (rates of at least four
// hours), not both; Duration "Nh" of 1 to 24 hours.
func checkRules(r *rotationRules) *apiError {
	if r == nil {
		return nil
	}
	if r.AutomaticallyAfterDays != nil && r.ScheduleExpression != nil {
		return newErr(codeInvalidParameter, "You can't specify both AutomaticallyAfterDays and ScheduleExpression in RotationRules.")
	}
	if d := r.AutomaticallyAfterDays; d != nil && (*d < 1 || *d > 1000) {
		return errConstraint("rotationRules.automaticallyAfterDays", "have value between 1 and 1000")
	}
	if e := r.ScheduleExpression; e != nil {
		if err := length("rotationRules.scheduleExpression", e, 1, 256); err != nil {
			return err
		}
		if n, unit, ok := parseRate(*e); ok {
			if time.Duration(n)*unit < 4*time.Hour {
				return newErr(codeInvalidParameter, "The rotation schedule is too frequent: Secrets Manager rotates at most every four hours.")
			}
		} else if len(*e) < 6 || (*e)[:5] != "cron(" || (*e)[len(*e)-1] != ')' {
			return newErr(codeInvalidParameter, "Invalid ScheduleExpression %q: use rate(N hours), rate(N days) or cron(...).", *e)
		}
	}
	if d := r.Duration; d != nil {
		var h int
		if len(*d) < 2 || (*d)[len(*d)-1] != 'h' {
			return newErr(codeInvalidParameter, "Invalid Duration %q: use Nh, for example 3h.", *d)
		}
		for _, c := range (*d)[:len(*d)-1] {
			if c < '0' || c > '9' {
				return newErr(codeInvalidParameter, "Invalid Duration %q: use Nh, for example 3h.", *d)
			}
			h = h*10 + int(c-'0')
			if h > 24 {
				break
			}
		}
		if h < 1 || h > 24 {
			return newErr(codeInvalidParameter, "Invalid Duration %q: the rotation window lasts 1 to 24 hours.", *d)
		}
	}
	return nil
}

// rotateSecret is RotateSecret. It configures rotation, registers the new
// version id with AWSPENDING (no value yet), then invokes the rotation
// function's four steps in order and stops at the first failure, leaving
// AWSPENDING in place, as the service does.
//
// The service runs the steps asynchronously ("Configures and starts the
// asynchronous process of rotating the secret") and reports a failed step
// only through CloudTrail (RotationFailed), never in RotateSecret's answer.
// The emulator runs them before it answers, so a caller that reads the
// secret afterwards sees the finished (or failed) rotation without
// polling; the answer is the same success either way, and a failure is
// logged (event RotationFailed).
func (s *Server) rotateSecret(ctx context.Context, in *rotateSecretInput) (any, *apiError) {
	r, out, err := s.startRotation(in)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return out, nil
	}
	s.persist()
	// The steps outlive the request that started them, as on the service.
	stepErr := s.runSteps(context.WithoutCancel(ctx), *r)
	switch {
	case r.temporary:
		// The temporary AWSPENDING version is removed after the test.
		s.changeSecret(r.arn, func(sec *secret) {
			sec.Versions = slices.DeleteFunc(sec.Versions, func(v *version) bool { return v.ID == r.token })
		})
	case stepErr == nil:
		s.rotated(r.arn)
	}
	return out, nil
}

// startRotation configures rotation and registers the new version with
// AWSPENDING (no value yet), under the state lock, and returns the steps to
// run; no steps for a retry of a rotation that already happened.
func (s *Server) startRotation(in *rotateSecretInput) (*rotation, rotateSecretOutput, *apiError) {
	sec, now, err := s.lockSecret(*in.SecretId)
	if err != nil {
		return nil, rotateSecretOutput{}, err
	}
	defer s.mu.Unlock()
	// RotateSecret: a rotation whose AWSPENDING is not on AWSCURRENT is
	// unfinished; a new one is refused.
	if sec.rotationPending() {
		return nil, rotateSecretOutput{}, newErr(codeInvalidRequest, "A previous rotation isn't complete. That rotation will be reattempted.")
	}
	lambdaARN := sec.RotationLambdaARN
	if in.RotationLambdaARN != nil && *in.RotationLambdaARN != "" {
		lambdaARN = *in.RotationLambdaARN
	}
	if lambdaARN == "" {
		return nil, rotateSecretOutput{}, newErr(codeInvalidRequest, "No Lambda rotation function ARN is associated with this secret.")
	}
	if s.rotator == nil {
		return nil, rotateSecretOutput{}, newErr(codeInvalidRequest, "smlocal cannot reach rotation function %s: no rotation invoker is configured (start smlocal with -lambda-endpoint URL, or set Options.Rotator).", lambdaARN)
	}
	// RotateSecret, ClientRequestToken: a retry with the token of a
	// version that already exists does not rotate again.
	if in.ClientRequestToken != nil && (sec.version(*in.ClientRequestToken) != nil || sec.prunedRecently(*in.ClientRequestToken, now)) {
		return nil, rotateSecretOutput{ARN: sec.ARN, Name: sec.Name, VersionId: in.ClientRequestToken}, nil
	}
	// RotateSecret, RotationLambdaARN / RotationRules: stored, and rotation
	// is turned on.
	sec.RotationLambdaARN = lambdaARN
	if in.RotationRules != nil {
		sec.RotationRules = in.RotationRules
	}
	sec.RotationEnabled = true
	s.changed(sec, now)
	r := &rotation{arn: sec.ARN, lambdaARN: lambdaARN, token: newUUID(), steps: rotationSteps}
	if in.ClientRequestToken != nil {
		r.token = *in.ClientRequestToken
	}
	pending := &version{ID: r.token, Created: now}
	if in.RotateImmediately != nil && !*in.RotateImmediately {
		// RotateSecret, RotateImmediately=false: "Secrets Manager tests the
		// rotation configuration by running the testSecret step ... The
		// test creates an AWSPENDING version of the secret and then removes
		// it." The temporary version carries a copy of AWSCURRENT's value
		// (an assumption: AWS does not document it).
		r.steps, r.temporary = []string{"testSecret"}, true
		if cur := sec.holder(stageCurrent); cur != nil {
			pending.String, pending.Binary = cur.String, slices.Clone(cur.Binary)
		}
	}
	if old := sec.holder(stagePending); old != nil {
		old.remove(stagePending)
	}
	pending.Stages = []string{stagePending}
	sec.Versions = append(sec.Versions, pending)
	sec.pruneDeprecated(now)
	return r, rotateSecretOutput{ARN: sec.ARN, Name: sec.Name, VersionId: &r.token}, nil
}

// runSteps invokes the steps in order and stops at the first failure,
// which it logs as the service's CloudTrail event RotationFailed ("Log
// Secrets Manager events with AWS CloudTrail") and returns.
func (s *Server) runSteps(ctx context.Context, r rotation) error {
	rotationToken := newUUID()
	for _, step := range r.steps {
		start := time.Now()
		ev := events.SecretsManagerSecretRotationEvent{Step: step, SecretID: r.arn, ClientRequestToken: r.token, RotationToken: rotationToken}
		err := s.rotator.Invoke(ctx, r.lambdaARN, ev)
		ms := time.Since(start).Milliseconds()
		if err != nil {
			s.log.Warn("rotation step failed", "event", "RotationFailed", "secret", r.arn, "version", r.token, "step", step, "ms", ms, "error", err.Error())
			return fmt.Errorf("rotation of %s, version %s: step %s: %w", r.arn, r.token, step, err)
		}
		s.log.Info("rotation step succeeded", "secret", r.arn, "version", r.token, "step", step, "ms", ms)
	}
	return nil
}

// changeSecret runs change on the secret arn under the state lock, if the
// secret still exists.
func (s *Server) changeSecret(arn string, change func(sec *secret)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sec, err := s.find(arn); err == nil {
		change(sec)
		s.dirty = true
	}
}

// rotated records a successful rotation of the secret arn (DescribeSecret,
// LastRotatedDate: the last successful rotation).
func (s *Server) rotated(arn string) {
	s.changeSecret(arn, func(sec *secret) {
		t := s.now()
		sec.LastRotated = &t
	})
}

// RetryRotation does what the service does when it reattempts an
// unfinished rotation ("A previous rotation isn't complete. That rotation
// will be reattempted."): it invokes the four steps again, in order, for
// the version that carries AWSPENDING, with that version's id as the token.
// Unlike RotateSecret it returns the failing step's error. It fails when
// the secret has no unfinished rotation. Chaos and recovery tests use it;
// the service has no API for it.
func (s *Server) RetryRotation(ctx context.Context, secretID string) error {
	r, err := s.unfinishedRotation(secretID)
	if err != nil {
		return err
	}
	if err := s.runSteps(ctx, r); err != nil {
		return err
	}
	s.rotated(r.arn)
	s.persist()
	return nil
}

// unfinishedRotation is the rotation RetryRotation runs again.
func (s *Server) unfinishedRotation(secretID string) (rotation, error) {
	sec, _, aerr := s.lockSecret(secretID)
	if aerr != nil {
		return rotation{}, aerr
	}
	defer s.mu.Unlock()
	if !sec.rotationPending() {
		return rotation{}, fmt.Errorf("smlocal: secret %s has no unfinished rotation to retry", secretID)
	}
	if s.rotator == nil || sec.RotationLambdaARN == "" {
		return rotation{}, fmt.Errorf("smlocal: secret %s: no rotation function or invoker to retry with", secretID)
	}
	return rotation{arn: sec.ARN, lambdaARN: sec.RotationLambdaARN, token: sec.holder(stagePending).ID, steps: rotationSteps}, nil
}

// cancelRotateSecret is CancelRotateSecret: "Turns off automatic rotation,
// and if a rotation is currently in progress, cancels the rotation." The
// labels are left as they are ("You might need to remove the staging label
// AWSPENDING from the partially created version"); VersionId names that
// version.
func (s *Server) cancelRotateSecret(_ *secretIDInput, sec *secret, now time.Time) (any, *apiError) {
	out := rotateSecretOutput{ARN: sec.ARN, Name: sec.Name}
	if sec.rotationPending() {
		out.VersionId = &sec.holder(stagePending).ID
	}
	sec.RotationEnabled = false
	s.changed(sec, now)
	return out, nil
}
