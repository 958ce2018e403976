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

type rotateSecretOutput struct {
	ARN       string
	Name      string
	VersionId *string `json:",omitempty"`
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
func (s *Server) rotateSecret(ctx context.Context, body []byte) (any, *apiError) {
	var in rotateSecretInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := firstErr(checkSecretID(in.SecretId), checkToken("clientRequestToken", in.ClientRequestToken),
		length("rotationLambdaARN", in.RotationLambdaARN, 0, 2048), checkRules(in.RotationRules)); err != nil {
		return nil, err
	}
	immediately := in.RotateImmediately == nil || *in.RotateImmediately

	now := s.lockState()
	sec, err := s.findLive(*in.SecretId)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	// RotateSecret: a rotation whose AWSPENDING is not on AWSCURRENT is
	// unfinished; a new one is refused.
	if sec.rotationPending() {
		s.mu.Unlock()
		return nil, newErr(codeInvalidRequest, "A previous rotation isn't complete. That rotation will be reattempted.")
	}
	lambdaARN := sec.RotationLambdaARN
	if in.RotationLambdaARN != nil && *in.RotationLambdaARN != "" {
		lambdaARN = *in.RotationLambdaARN
	}
	if lambdaARN == "" {
		s.mu.Unlock()
		return nil, newErr(codeInvalidRequest, "No Lambda rotation function ARN is associated with this secret.")
	}
	if s.rotator == nil {
		s.mu.Unlock()
		return nil, newErr(codeInvalidRequest, "smlocal cannot reach rotation function %s: no rotation invoker is configured (start smlocal with -lambda-endpoint URL, or set Options.Rotator).", lambdaARN)
	}
	// RotateSecret, ClientRequestToken: a retry with the token of a
	// version that already exists does not rotate again.
	if in.ClientRequestToken != nil && (sec.version(*in.ClientRequestToken) != nil || sec.prunedRecently(*in.ClientRequestToken, now)) {
		s.mu.Unlock()
		return rotateSecretOutput{ARN: sec.ARN, Name: sec.Name, VersionId: in.ClientRequestToken}, nil
	}
	// RotateSecret, RotationLambdaARN / RotationRules: stored, and rotation
	// is turned on.
	sec.RotationLambdaARN = lambdaARN
	if in.RotationRules != nil {
		sec.RotationRules = in.RotationRules
	}
	sec.RotationEnabled = true
	sec.LastChanged = now
	token := newUUID()
	if in.ClientRequestToken != nil {
		token = *in.ClientRequestToken
	}
	pending := &version{ID: token, Created: now}
	steps := rotationSteps
	if !immediately {
		// RotateSecret, RotateImmediately=false: "Secrets Manager tests the
		// rotation configuration by running the testSecret step ... The
		// test creates an AWSPENDING version of the secret and then removes
		// it." The temporary version carries a copy of AWSCURRENT's value
		// (an assumption: AWS does not document it).
		steps = []string{"testSecret"}
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
	arn, name := sec.ARN, sec.Name
	s.dirty = true
	s.mu.Unlock()
	s.persist()

	// The steps outlive the request that started them, as on the service.
	stepErr := s.runSteps(context.WithoutCancel(ctx), arn, lambdaARN, token, steps)

	s.mu.Lock()
	if sec, ferr := s.find(arn); ferr == nil {
		switch {
		case !immediately:
			// The temporary AWSPENDING version is removed after the test.
			sec.Versions = slices.DeleteFunc(sec.Versions, func(v *version) bool { return v.ID == token })
			s.dirty = true
		case stepErr == nil:
			// DescribeSecret, LastRotatedDate: the last successful rotation.
			t := s.now()
			sec.LastRotated = &t
			s.dirty = true
		}
	}
	s.mu.Unlock()
	return rotateSecretOutput{ARN: arn, Name: name, VersionId: &token}, nil
}

// runSteps invokes the steps in order and stops at the first failure,
// which it logs as the service's CloudTrail event RotationFailed ("Log
// Secrets Manager events with AWS CloudTrail") and returns.
func (s *Server) runSteps(ctx context.Context, arn, lambdaARN, token string, steps []string) error {
	rotationToken := newUUID()
	for _, step := range steps {
		start := time.Now()
		ev := events.SecretsManagerSecretRotationEvent{Step: step, SecretID: arn, ClientRequestToken: token, RotationToken: rotationToken}
		err := s.rotator.Invoke(ctx, lambdaARN, ev)
		ms := time.Since(start).Milliseconds()
		if err != nil {
			s.log.Warn("rotation step failed", "event", "RotationFailed", "secret", arn, "version", token, "step", step, "ms", ms, "error", err.Error())
			return fmt.Errorf("rotation of %s, version %s: step %s: %w", arn, token, step, err)
		}
		s.log.Info("rotation step succeeded", "secret", arn, "version", token, "step", step, "ms", ms)
	}
	return nil
}

// RetryRotation does what the service does when it reattempts an
// unfinished rotation ("A previous rotation isn't complete. That rotation
// will be reattempted."): it invokes the four steps again, in order, for
// the version that carries AWSPENDING, with that version's id as the token.
// Unlike RotateSecret it returns the failing step's error. It fails when
// the secret has no unfinished rotation. Chaos and recovery tests use it;
// the service has no API for it.
func (s *Server) RetryRotation(ctx context.Context, secretID string) error {
	s.lockState()
	sec, aerr := s.findLive(secretID)
	if aerr != nil {
		s.mu.Unlock()
		return aerr
	}
	if !sec.rotationPending() {
		s.mu.Unlock()
		return fmt.Errorf("smlocal: secret %s has no unfinished rotation to retry", secretID)
	}
	if s.rotator == nil || sec.RotationLambdaARN == "" {
		s.mu.Unlock()
		return fmt.Errorf("smlocal: secret %s: no rotation function or invoker to retry with", secretID)
	}
	arn, lambdaARN, token := sec.ARN, sec.RotationLambdaARN, sec.holder(stagePending).ID
	s.mu.Unlock()
	if err := s.runSteps(ctx, arn, lambdaARN, token, rotationSteps); err != nil {
		return err
	}
	s.mu.Lock()
	if sec, ferr := s.find(arn); ferr == nil {
		t := s.now()
		sec.LastRotated = &t
		s.dirty = true
	}
	s.mu.Unlock()
	s.persist()
	return nil
}

// cancelRotateSecret is CancelRotateSecret: "Turns off automatic rotation,
// and if a rotation is currently in progress, cancels the rotation." The
// labels are left as they are ("You might need to remove the staging label
// AWSPENDING from the partially created version"); VersionId names that
// version.
func (s *Server) cancelRotateSecret(_ context.Context, body []byte) (any, *apiError) {
	var in describeSecretInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := checkSecretID(in.SecretId); err != nil {
		return nil, err
	}
	now := s.lockState()
	defer s.mu.Unlock()
	sec, err := s.findLive(*in.SecretId)
	if err != nil {
		return nil, err
	}
	out := rotateSecretOutput{ARN: sec.ARN, Name: sec.Name}
	if p := sec.holder(stagePending); p != nil && !p.has(stageCurrent) {
		out.VersionId = &p.ID
	}
	sec.RotationEnabled = false
	sec.LastChanged = now
	s.dirty = true
	return out, nil
}
