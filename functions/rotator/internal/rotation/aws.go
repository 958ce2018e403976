package rotation

// The AWS-compatible secret formats: a secret in the JSON structure that
// AWS's rotation templates for MySQL use ("JSON structure of AWS Secrets
// Manager secrets", Amazon RDS and Aurora credentials:
// https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_secret_json_structure.html),
// rotated as those templates rotate it: without masterarn the user changes
// its own password (single user, SecretsManagerRDSMySQLRotationSingleUser);
// with masterarn the master secret's user alternates the user and its
// clone (alternating users, SecretsManagerRDSMySQLRotationMultiUser). The
// vault's own stacks never create such secrets (they declare their users:
// declared.go); these strategies are the drop-in path for secrets created
// by AWS's templates, so that this function can replace theirs.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/dbvault/dbvault/functions/rotator/checkpoint"
	"github.com/dbvault/dbvault/functions/rotator/internal/database"
	"github.com/dbvault/dbvault/functions/rotator/internal/secret"
)

// singleUser: the user changes its own password. During the change there is
// a moment when only the new password works; applications that read
// AWSCURRENT retry their login.
type singleUser struct{}

func (singleUser) Name() string { return "single-user" }

func (singleUser) PendingUsername(cur secret.Secret) string { return cur.Username }

func (singleUser) CheckPending(cur, pend secret.Secret) error {
	if pend.Username != cur.Username {
		return fmt.Errorf("AWSPENDING names the user %s but AWSCURRENT names %s; refusing to change another user's password", pend.Username, cur.Username)
	}
	return checkSameServer(cur, pend)
}

// SetPassword logs in with AWSCURRENT, else with an older or newer
// password of the secret (see loginFallback), and changes the password of
// the account the server authenticated.
func (singleUser) SetPassword(ctx context.Context, r *deps, cur, pend secret.Secret) (string, error) {
	// A retry after a crash: AWSPENDING already logs in, nothing to do.
	sess, err := r.login(ctx, pend)
	if err == nil {
		_ = sess.Close()
		return "pending-already-set", nil
	}
	if !errors.Is(err, database.ErrLoginRejected) {
		return "", fmt.Errorf("cannot try the AWSPENDING password: %w", err)
	}
	if err := checkpoint.Reach(ctx, checkpoint.SetAfterLoginPending); err != nil {
		return "", err
	}
	sess, err = r.login(ctx, cur)
	if err != nil && !errors.Is(err, database.ErrLoginRejected) {
		return "", fmt.Errorf("cannot log in with AWSCURRENT: %w", err)
	}
	if err != nil {
		if sess, err = r.loginFallback(ctx, pend); err != nil {
			return "", err
		}
	}
	defer func() { _ = sess.Close() }()
	if err := checkpoint.Reach(ctx, checkpoint.SetAfterLogin); err != nil {
		return "", err
	}
	acct, err := sess.CurrentAccount(ctx)
	if errors.Is(err, database.ErrPasswordExpired) {
		// The session runs nothing but a change of its own password, so
		// that comes first, and the account is verified after.
		if err := sess.SetOwnPassword(ctx, pend.Password); err != nil {
			return "", fmt.Errorf("the password of %s has expired; setting the AWSPENDING password failed: %w", pend.Username, err)
		}
		r.info("the password had expired: set the AWSPENDING password first, verifying the account after")
		acct, err = sess.CurrentAccount(ctx)
		if err != nil {
			return "", err
		}
		if acct.User != pend.Username {
			return "", fmt.Errorf("the password had expired, so the AWSPENDING password was set first; the database had authenticated %s as the account %s, whose password is now AWSPENDING's. Check that account (an anonymous or wildcard account matched the login)", pend.Username, acct)
		}
		return "password-set", checkpoint.Reach(ctx, checkpoint.SetAfterAlter)
	}
	if err != nil {
		return "", err
	}
	// An anonymous account (''@'localhost') can match any user name; never
	// change a password on an account other than the secret's user.
	if acct.User != pend.Username {
		return "", fmt.Errorf("the database authenticated %s as the account %s, not as %s; refusing to change its password", pend.Username, acct, pend.Username)
	}
	if err := sess.SetPassword(ctx, acct, pend.Password); err != nil {
		return "", fmt.Errorf("set the AWSPENDING password for %s: %w", acct, err)
	}
	return "password-set", checkpoint.Reach(ctx, checkpoint.SetAfterAlter)
}

// maxRecentVersions bounds how many unlabelled versions newer than
// AWSCURRENT setSecret tries.
const maxRecentVersions = 5

// loginFallback is single user's answer to an AWSCURRENT the database
// rejects. Two histories lead there:
//
//   - the database went back to an older password (a restore): AWSPREVIOUS
//     logs in;
//   - an unfinished rotation: its setSecret set its password, then its
//     AWSPENDING label was removed (CancelRotateSecret, or the clean-up
//     AWS documents for a failed rotation) before finishSecret. The
//     database now holds a password that only an unlabelled version
//     carries, created after AWSCURRENT. AWSPREVIOUS does not help here.
//
// So it tries AWSPREVIOUS, then the maxRecentVersions newest versions
// created after AWSCURRENT (ListSecretVersionIds with IncludeDeprecated),
// newest first, each only if it names the same user and server; it logs
// which one worked, by id.
func (r *deps) loginFallback(ctx context.Context, pend secret.Secret) (database.Session, error) {
	tried := []string{"AWSPENDING", "AWSCURRENT"}
	prev, perr := r.getSecret(ctx, r.ev.SecretID, StagePrevious, "")
	if cerr := checkpoint.Reach(ctx, checkpoint.SetAfterGetPrevious); cerr != nil {
		return nil, cerr
	}
	switch {
	case perr == nil && prev.Username == pend.Username && checkSameServer(prev, pend) == nil:
		tried = append(tried, "AWSPREVIOUS")
		sess, err := r.login(ctx, prev)
		if err == nil {
			r.info("AWSCURRENT was rejected; logged in with AWSPREVIOUS")
			return sess, nil
		}
		if !errors.Is(err, database.ErrLoginRejected) {
			return nil, fmt.Errorf("cannot log in with AWSPREVIOUS: %w", err)
		}
	case perr != nil && !errNotFound(perr):
		r.info("AWSPREVIOUS is unusable; not trying it", slog.String("reason", r.red.String(perr.Error())))
	}
	ids, err := r.recentVersions(ctx)
	if err != nil {
		r.info("cannot list the versions newer than AWSCURRENT; not trying them", slog.String("reason", r.red.String(err.Error())))
	}
	n := 0
	for _, id := range ids {
		v, err := r.getVersion(ctx, id)
		if err != nil {
			r.info("a version newer than AWSCURRENT is unusable; not trying it", slog.String("candidate_version", id), slog.String("reason", r.red.String(err.Error())))
			continue
		}
		if v.Username != pend.Username || checkSameServer(v, pend) != nil {
			continue
		}
		n++
		sess, err := r.login(ctx, v)
		if err == nil {
			r.info("AWSCURRENT was rejected; logged in with the password of an unlabelled version newer than AWSCURRENT (an unfinished rotation's)", slog.String("used_version", id))
			return sess, nil
		}
		if !errors.Is(err, database.ErrLoginRejected) {
			return nil, fmt.Errorf("cannot log in with version %s: %w", id, err)
		}
	}
	if n > 0 {
		tried = append(tried, fmt.Sprintf("the %d newest versions created after AWSCURRENT", n))
	}
	// Two setSecret invocations with one token (Secrets Manager's retry
	// while the first still runs): the other one may have set AWSPENDING's
	// password between this one's tries, which is why they all failed.
	if ok, err := r.logsIn(ctx, pend); err == nil && ok {
		return nil, fmt.Errorf("the AWSPENDING password of %s started to work while this invocation was trying the others: another invocation of this rotation (same token) holds it and set the password meanwhile. Nothing is wrong with the passwords; retry the step (setSecret will find AWSPENDING set)", pend.Username)
	}
	return nil, rejectedAll(pend, tried)
}

func rejectedAll(pend secret.Secret, tried []string) error {
	which := strings.Join(tried[:len(tried)-1], ", ") + " or " + tried[len(tried)-1]
	return rejectedAllMsg(pend, which)
}

func rejectedAllMsg(pend secret.Secret, which string) error {
	return fmt.Errorf("cannot log in with %s as %s@%s: the database rejected every password; was the password changed outside rotation? Set the database password to AWSCURRENT's (or put the database's password as AWSCURRENT) and rotate again", which, pend.Username, pend.Host)
}

// alternatingUsers: two users take turns, username and username+suffix. The
// master secret (masterarn) creates the other user with the same grants
// when it is missing and sets its password, so the user that AWSCURRENT
// names keeps working throughout, and AWSPREVIOUS's user until the next
// rotation.
type alternatingUsers struct{ suffix string }

func (alternatingUsers) Name() string { return "alternating-users" }

func (a alternatingUsers) PendingUsername(cur secret.Secret) string {
	if base, ok := strings.CutSuffix(cur.Username, a.suffix); ok && base != "" {
		return base
	}
	return cur.Username + a.suffix
}

func (a alternatingUsers) CheckPending(cur, pend secret.Secret) error {
	if want := a.PendingUsername(cur); pend.Username != want {
		return fmt.Errorf("AWSPENDING names the user %s but the user after %s is %s; refusing to change another user's password", pend.Username, cur.Username, want)
	}
	return checkSameServer(cur, pend)
}

// SetPassword: the master secret's user creates the pending user when it is
// missing (with the AWSPENDING password, so that a retry can prove the
// account is this rotation's), copies the current user's grants, TLS
// requirement and resource limits to it, unlocks it and sets the AWSPENDING
// password as its only login method last. An existing pending user is used
// only when it is the vault's (see owned).
func (a alternatingUsers) SetPassword(ctx context.Context, r *deps, cur, pend secret.Secret) (string, error) {
	master, err := r.master(ctx, cur)
	if err != nil {
		return "", err
	}
	// Log in as AWSCURRENT first: it tells the host part of its account,
	// and it proves that AWSCURRENT's record is a credential of the
	// database. Without that proof the master is not used on it: the
	// user name comes from the secret, which anyone who may write the
	// secret can set, so restoring "its" password would let them take
	// over any account, the master's included (a confused deputy). AWS's
	// template refuses the same way
	// (https://github.com/aws-samples/aws-secrets-manager-rotation-lambdas,
	// SecretsManagerRDSMySQLRotationMultiUser/lambda_function.py, set_secret).
	// A declared secret's accounts come from the declarations instead,
	// which is why declaredUsers restores them.
	csess, err := r.login(ctx, cur)
	switch {
	case errors.Is(err, database.ErrLoginRejected):
		return "", fmt.Errorf("the database rejected AWSCURRENT's password for %s: the rotator uses the master only on an account whose AWSCURRENT logs in, since the secret names the account (anyone who may write the secret could name another). If the password was changed outside rotation or the account locked, set it back to AWSCURRENT's or unlock it, then rotate again: %w", cur.Username, err)
	case err != nil:
		return "", fmt.Errorf("cannot log in with AWSCURRENT: %w", err)
	}
	from, err := csess.CurrentAccount(ctx)
	_ = csess.Close()
	if err != nil {
		return "", err
	}
	if from.User != cur.Username {
		return "", fmt.Errorf("the database authenticated %s as the account %s; refusing to copy its grants", cur.Username, from)
	}
	to := database.Account{User: pend.Username, Host: from.Host}
	err = r.provision(ctx, master, cur, pend, to, account{
		grant: func(msess database.Session) error { return msess.CopyGrants(ctx, from, to) },
	})
	if err != nil {
		return "", err
	}
	return "password-set", nil
}
