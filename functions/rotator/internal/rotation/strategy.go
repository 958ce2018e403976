package rotation

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"unicode/utf8"

	"github.com/dbvault/dbvault/functions/rotator/internal/database"
	"github.com/dbvault/dbvault/functions/rotator/internal/secret"
)

// Strategy decides whose password a rotation changes and how.
type Strategy interface {
	// Name is "single-user" or "alternating-users", for logs.
	Name() string
	// PendingUsername is the user name the AWSPENDING secret gets.
	PendingUsername(current secret.Secret) string
	// CheckPending refuses an AWSPENDING secret that does not follow from
	// AWSCURRENT (another user, host or port).
	CheckPending(current, pending secret.Secret) error
	// SetPassword makes the database accept pending's password. The caller
	// has checked that it does not already.
	SetPassword(ctx context.Context, r *run, current, pending secret.Secret) error
}

// strategyFor picks the strategy from the current secret: alternating users
// when it names a master secret (masterarn), single user otherwise.
func (r *run) strategyFor(cur secret.Secret) Strategy {
	var s Strategy = singleUser{}
	if cur.MasterARN != "" {
		s = alternatingUsers{suffix: r.h.Config.CloneSuffix}
	}
	r.strategy = s.Name()
	return s
}

func checkSameServer(cur, pend secret.Secret) error {
	if cur.Host != pend.Host || cur.Port != pend.Port {
		return fmt.Errorf("AWSPENDING names the database %s but AWSCURRENT names %s; refusing to change a password on another server", pend.Endpoint(), cur.Endpoint())
	}
	return nil
}

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

// SetPassword logs in with AWSCURRENT, else AWSPREVIOUS (a rotation whose
// setSecret ran but whose finishSecret did not, followed by a new rotation,
// leaves the database on a password that may be either), and changes the
// password of the account the server authenticated.
func (singleUser) SetPassword(ctx context.Context, r *run, cur, pend secret.Secret) error {
	sess, err := r.login(ctx, cur)
	if err != nil && !errors.Is(err, database.ErrLoginRejected) {
		return fmt.Errorf("cannot log in with AWSCURRENT: %w", err)
	}
	if err != nil {
		prev, perr := r.getSecret(ctx, r.ev.SecretID, StagePrevious, "")
		if cerr := r.checkpoint("setSecret:after-get-previous"); cerr != nil {
			return cerr
		}
		if perr != nil || prev.Username != pend.Username || checkSameServer(prev, pend) != nil {
			if perr != nil && !errNotFound(perr) {
				r.info("AWSPREVIOUS is unusable; not trying it", slog.String("reason", r.red.String(perr.Error())))
			}
			return rejectedAll(pend, "AWSPENDING and AWSCURRENT")
		}
		sess, err = r.login(ctx, prev)
		if errors.Is(err, database.ErrLoginRejected) {
			return rejectedAll(pend, "AWSPENDING, AWSCURRENT or AWSPREVIOUS")
		}
		if err != nil {
			return fmt.Errorf("cannot log in with AWSPREVIOUS: %w", err)
		}
	}
	defer func() { _ = sess.Close() }()
	if err := r.checkpoint("setSecret:after-login"); err != nil {
		return err
	}
	acct, err := sess.CurrentAccount(ctx)
	if err != nil {
		return err
	}
	// An anonymous account (''@'localhost') can match any user name; never
	// change a password on an account other than the secret's user.
	if acct.User != pend.Username {
		return fmt.Errorf("the database authenticated %s as the account %s, not as %s; refusing to change its password", pend.Username, acct, pend.Username)
	}
	if err := sess.SetPassword(ctx, acct, pend.Password); err != nil {
		return fmt.Errorf("set the AWSPENDING password for %s: %w", acct, err)
	}
	r.outcome = "password-set"
	return r.checkpoint("setSecret:after-alter")
}

func rejectedAll(pend secret.Secret, which string) error {
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

func (a alternatingUsers) SetPassword(ctx context.Context, r *run, cur, pend secret.Secret) error {
	master, err := r.getSecret(ctx, cur.MasterARN, StageCurrent, "")
	if err != nil {
		return fmt.Errorf("read the master secret (masterarn): %w", err)
	}
	if err := r.checkpoint("setSecret:after-get-master"); err != nil {
		return err
	}
	if err := checkSameServer(cur, master); err != nil {
		return fmt.Errorf("the master secret does not match: %w", err)
	}
	// Log in as AWSCURRENT first: it proves that the secret being rotated
	// really holds working credentials (the master is not lent to a secret
	// that merely names a user), and tells the host part of its account.
	csess, err := r.login(ctx, cur)
	if errors.Is(err, database.ErrLoginRejected) {
		return fmt.Errorf("the database rejected AWSCURRENT's password for %s; was the password changed outside rotation? %w", cur.Username, err)
	}
	if err != nil {
		return fmt.Errorf("cannot log in with AWSCURRENT: %w", err)
	}
	from, err := csess.CurrentAccount(ctx)
	_ = csess.Close()
	if err != nil {
		return err
	}
	if from.User != cur.Username {
		return fmt.Errorf("the database authenticated %s as the account %s; refusing to copy its grants", cur.Username, from)
	}
	msess, err := r.login(ctx, master)
	if errors.Is(err, database.ErrLoginRejected) {
		return fmt.Errorf("the database rejected the master secret's password (%s): %w", master.Username, err)
	}
	if err != nil {
		return fmt.Errorf("cannot log in with the master secret: %w", err)
	}
	defer func() { _ = msess.Close() }()
	if err := r.checkpoint("setSecret:after-login"); err != nil {
		return err
	}
	max, err := msess.MaxUserNameLength(ctx)
	if err != nil {
		return err
	}
	if n := utf8.RuneCountInString(pend.Username); n > max {
		return fmt.Errorf("the user name %s is %d characters; this server allows %d. Shorten the user name or CLONE_SUFFIX, and remove the AWSPENDING label of this version", pend.Username, n, max)
	}
	to := database.Account{User: pend.Username, Host: from.Host}
	exists, err := msess.AccountExists(ctx, to)
	if err != nil {
		return err
	}
	if !exists {
		// Created with a throwaway password: the AWSPENDING password is set
		// last, so that "AWSPENDING logs in" (what a retry checks first)
		// implies that the grants are there too.
		throwaway, err := randomPassword()
		if err != nil {
			return err
		}
		r.red.Add(throwaway)
		if err := msess.CreateAccount(ctx, to, throwaway); err != nil {
			return fmt.Errorf("create %s: %w", to, err)
		}
		if err := r.checkpoint("setSecret:after-create-user"); err != nil {
			return err
		}
	}
	if err := msess.CopyGrants(ctx, from, to); err != nil {
		return err
	}
	if err := r.checkpoint("setSecret:after-grants"); err != nil {
		return err
	}
	if err := msess.SetPassword(ctx, to, pend.Password); err != nil {
		return fmt.Errorf("set the AWSPENDING password for %s: %w", to, err)
	}
	r.outcome = "password-set"
	return r.checkpoint("setSecret:after-alter")
}

func randomPassword() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random password: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
