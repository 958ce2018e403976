package rotation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/dbvault/dbvault/functions/rotator/checkpoint"
	"github.com/dbvault/dbvault/functions/rotator/internal/database"
)

// createSecret makes the AWSPENDING value: the current secret with the
// strategy's next user name and a new password from GetRandomPassword. If
// this token already has a value (a retry), it is kept as it is.
func createSecret(ctx context.Context, r *run) error {
	cur, err := r.getCurrent(ctx)
	if err != nil {
		return err
	}
	if err := checkpoint.Reach(ctx, checkpoint.CreateAfterGetCurrent); err != nil {
		return err
	}
	strat, cur, err := r.strategyFor(cur)
	r.strategy = strat.Name()
	if err != nil {
		return err
	}
	// Everything that can be checked without the database is checked
	// before AWSPENDING gets a value: the master secret of the strategies
	// that use one (readable, parsable, for the same server).
	if strat.Name() != (singleUser{}).Name() {
		if _, err := r.readMaster(ctx, cur); err != nil {
			return err
		}
	}
	_, err = r.getSecret(ctx, r.ev.SecretID, StagePending, r.ev.ClientRequestToken)
	if err == nil {
		r.outcome = "pending-exists"
		return nil
	}
	if !errNotFound(err) {
		return err
	}
	if err := checkpoint.Reach(ctx, checkpoint.CreateAfterGetPending); err != nil {
		return err
	}
	user := strat.PendingUsername(cur)
	r.user = user
	p := r.h.Config.Password
	out, err := r.h.SM.GetRandomPassword(ctx, &secretsmanager.GetRandomPasswordInput{
		PasswordLength:          aws.Int64(p.Length),
		ExcludeCharacters:       nonEmpty(p.ExcludeCharacters),
		ExcludeNumbers:          aws.Bool(p.ExcludeNumbers),
		ExcludePunctuation:      aws.Bool(p.ExcludePunctuation),
		ExcludeUppercase:        aws.Bool(p.ExcludeUppercase),
		ExcludeLowercase:        aws.Bool(p.ExcludeLowercase),
		IncludeSpace:            aws.Bool(p.IncludeSpace),
		RequireEachIncludedType: aws.Bool(p.RequireEachIncludedType),
	})
	if err != nil {
		return fmt.Errorf("GetRandomPassword: %w", err)
	}
	password := aws.ToString(out.RandomPassword)
	r.red.Add(password)
	if password == "" {
		return errors.New("GetRandomPassword returned an empty password")
	}
	if err := p.check(password); err != nil {
		return fmt.Errorf("GetRandomPassword returned a password that breaks the policy it was asked for (%w); AWSPENDING was not written", err)
	}
	if err := checkpoint.Reach(ctx, checkpoint.CreateAfterRandomPassword); err != nil {
		return err
	}
	next := cur.WithCredentials(user, password)
	if d, ok := r.declaration(); ok {
		next.DBName = d.Database // the declaration's, not the value's
	}
	value, err := next.Marshal()
	if err != nil {
		return err
	}
	r.red.Add(value)
	// The event's RotationToken is not passed: Secrets Manager validates
	// it "for cross-account rotation (when you rotate a secret in one
	// account by using a Lambda rotation function in another account) and
	// the Lambda rotation function assumes an IAM role to call Secrets
	// Manager" (PutSecretValue, RotationToken:
	// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html),
	// and the rotator calls with its own execution role in the secret's
	// account, as AWS's templates do.
	_, err = r.h.SM.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId:           &r.ev.SecretID,
		ClientRequestToken: &r.ev.ClientRequestToken,
		SecretString:       &value,
		VersionStages:      []string{StagePending},
	})
	if err != nil {
		// Another invocation of this step for the same token (Secrets
		// Manager retries during the rotation window) may have stored its
		// value since the check above: PutSecretValue then fails, since "you
		// can't modify an existing version". That value is this token's
		// AWSPENDING, and is kept, as a retry keeps it.
		if _, gerr := r.getSecret(ctx, r.ev.SecretID, StagePending, r.ev.ClientRequestToken); gerr == nil {
			r.info("PutSecretValue failed, but this version's AWSPENDING has a value (another invocation stored it meanwhile, or this one did before its answer was lost); it is kept",
				slog.String("reason", r.red.String(err.Error())))
			r.outcome = "pending-exists"
			return nil
		}
		return fmt.Errorf("PutSecretValue AWSPENDING: %w", err)
	}
	r.outcome = "pending-created"
	return checkpoint.Reach(ctx, checkpoint.CreateAfterPut)
}

// setSecret makes the database accept the AWSPENDING password: the
// strategy sets it (single user: nothing to do when it already logs in;
// the user-creating strategies always reconcile the account and grants).
func setSecret(ctx context.Context, r *run) error {
	cur, err := r.getCurrent(ctx)
	if err != nil {
		return err
	}
	if err := checkpoint.Reach(ctx, checkpoint.SetAfterGetCurrent); err != nil {
		return err
	}
	pend, err := r.getSecret(ctx, r.ev.SecretID, StagePending, r.ev.ClientRequestToken)
	if err != nil {
		return err
	}
	r.user = pend.Username
	if err := checkpoint.Reach(ctx, checkpoint.SetAfterGetPending); err != nil {
		return err
	}
	strat, cur, err := r.strategyFor(cur)
	r.strategy = strat.Name()
	if err != nil {
		return err
	}
	// The pending secret must name the user and database it was made for:
	// otherwise a crafted AWSPENDING could make the function change, or vouch
	// for, another account's password.
	if err := strat.CheckPending(cur, pend); err != nil {
		return err
	}
	outcome, err := strat.SetPassword(ctx, r.deps, cur, pend)
	if err != nil {
		return err
	}
	r.outcome = outcome
	return nil
}

// testSecret logs in with AWSPENDING, over the same TLS settings as every
// other login, and runs a probe query.
func testSecret(ctx context.Context, r *run) error {
	pend, err := r.getSecret(ctx, r.ev.SecretID, StagePending, r.ev.ClientRequestToken)
	if err != nil {
		return err
	}
	r.user = pend.Username
	if err := checkpoint.Reach(ctx, checkpoint.TestAfterGetPending); err != nil {
		return err
	}
	sess, err := r.login(ctx, pend)
	if errors.Is(err, database.ErrLoginRejected) {
		return fmt.Errorf("the database rejected the AWSPENDING password of %s at %s; setSecret has not set it (run setSecret again, or the rotation again): %w", pend.Username, pend.Endpoint(), err)
	}
	if err != nil {
		return fmt.Errorf("cannot log in with AWSPENDING: %w", err)
	}
	defer func() { _ = sess.Close() }()
	if err := checkpoint.Reach(ctx, checkpoint.TestAfterLogin); err != nil {
		return err
	}
	if err := sess.Probe(ctx); err != nil {
		return fmt.Errorf("logged in with AWSPENDING as %s, but the probe query failed: %w", pend.Username, err)
	}
	return checkpoint.Reach(ctx, checkpoint.TestAfterProbe)
}

// finishSecret moves AWSCURRENT to the token (Secrets Manager moves
// AWSPREVIOUS to the version that had AWSCURRENT). It trusts no label: it
// first reads the AWSPENDING value and logs in with it, so that an
// invocation out of order (before createSecret or setSecret) cannot make
// AWSCURRENT a version with no value or a password the database refuses.
// It uses the description read by the guard, which already returned if the
// token is AWSCURRENT. When the move fails, it describes the secret again:
// a move applied whose answer was lost (the SDK's retry then finds the
// label gone from RemoveFromVersionId) is a success.
func finishSecret(ctx context.Context, r *run) error {
	pend, err := r.getSecret(ctx, r.ev.SecretID, StagePending, r.ev.ClientRequestToken)
	if err != nil {
		return fmt.Errorf("%w; AWSCURRENT stays where it is", err)
	}
	r.user = pend.Username
	sess, err := r.login(ctx, pend)
	if errors.Is(err, database.ErrLoginRejected) {
		return fmt.Errorf("the database rejects the AWSPENDING password of %s at %s, so AWSCURRENT stays where it is; run setSecret and testSecret for this version first (or the rotation again): %w", pend.Username, pend.Endpoint(), err)
	}
	if err != nil {
		return fmt.Errorf("cannot log in with AWSPENDING, so AWSCURRENT stays where it is: %w", err)
	}
	_ = sess.Close()
	var from *string
	for id, stages := range r.desc.VersionIdsToStages {
		if slices.Contains(stages, StageCurrent) {
			from = aws.String(id)
		}
	}
	_, err = r.h.SM.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
		SecretId:            &r.ev.SecretID,
		VersionStage:        aws.String(StageCurrent),
		MoveToVersionId:     &r.ev.ClientRequestToken,
		RemoveFromVersionId: from,
	})
	if err != nil {
		d, derr := r.h.SM.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: &r.ev.SecretID})
		if derr != nil || !slices.Contains(d.VersionIdsToStages[r.ev.ClientRequestToken], StageCurrent) {
			return fmt.Errorf("UpdateSecretVersionStage AWSCURRENT to %s: %w", r.ev.ClientRequestToken, err)
		}
		r.info("UpdateSecretVersionStage failed, but the token holds AWSCURRENT (an earlier attempt's answer was lost); done",
			slog.String("reason", r.red.String(err.Error())))
	}
	r.outcome = "current-moved"
	return checkpoint.Reach(ctx, checkpoint.FinishAfterUpdateStage)
}

// check verifies a generated password against the policy: its length and
// every exclusion. The error says which rule broke, never which character.
func (p PasswordPolicy) check(pw string) error {
	if n := utf8.RuneCountInString(pw); int64(n) != p.Length {
		return fmt.Errorf("%d characters, not %d", n, p.Length)
	}
	for _, c := range pw {
		switch {
		case c > '~' || (c < '!' && c != ' '):
			return errors.New("a character outside printable ASCII")
		case strings.ContainsRune(p.ExcludeCharacters, c):
			return errors.New("an excluded character (EXCLUDE_CHARACTERS)")
		case c == ' ' && !p.IncludeSpace:
			return errors.New("a space without INCLUDE_SPACE")
		case c >= '0' && c <= '9' && p.ExcludeNumbers:
			return errors.New("a digit despite EXCLUDE_NUMBERS")
		case c >= 'A' && c <= 'Z' && p.ExcludeUppercase:
			return errors.New("an upper-case letter despite EXCLUDE_UPPERCASE")
		case c >= 'a' && c <= 'z' && p.ExcludeLowercase:
			return errors.New("a lower-case letter despite EXCLUDE_LOWERCASE")
		case c != ' ' && !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') && p.ExcludePunctuation:
			return errors.New("a punctuation character despite EXCLUDE_PUNCTUATION")
		}
	}
	return nil
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
