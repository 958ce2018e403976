package rotation

// Declared users: the vault's own secrets (see the package comment).

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/dbvault/dbvault/functions/rotator/appusers"
	"github.com/dbvault/dbvault/functions/rotator/internal/database"
	"github.com/dbvault/dbvault/functions/rotator/internal/secret"
)

// declaredUsers: a declared application user (APP_USERS) and its clone
// take turns, as alternating users do, but the pair, the database and the
// privileges come from the declaration, never from the secret's value. The
// first rotation of an unprovisioned secret creates the declared user.
type declaredUsers struct {
	alternatingUsers
	decl appusers.User
	// pin is DB_HOST:DB_PORT, nil when unset.
	pin *endpoint
}

func (declaredUsers) Name() string { return "declared-users" }

// checkCurrent refuses an AWSCURRENT that does not belong to the
// declaration: another user than the declared one or its clone (the secret
// was edited), or no master at all. (strategyFor has already put
// MASTER_SECRET_ARN and DB_HOST into it.)
func (d declaredUsers) checkCurrent(cur secret.Secret) error {
	if cur.Username != d.decl.Username && cur.Username != d.decl.Username+d.suffix {
		return fmt.Errorf("AWSCURRENT names the user %s, but this secret is declared (APP_USERS) for %s and %s%s; the secret was edited outside rotation: put back a value for the declared user before rotating again", cur.Username, d.decl.Username, d.decl.Username, d.suffix)
	}
	if cur.MasterARN == "" {
		return fmt.Errorf("AWSCURRENT has no masterarn; a declared secret names the master secret that provisions its user")
	}
	return checkPinned(d.pin, "AWSCURRENT", cur)
}

func (d declaredUsers) PendingUsername(cur secret.Secret) string {
	if cur.Unprovisioned() || cur.Username != d.decl.Username {
		return d.decl.Username
	}
	return d.decl.Username + d.suffix
}

func (d declaredUsers) CheckPending(cur, pend secret.Secret) error {
	if want := d.PendingUsername(cur); pend.Username != want {
		return fmt.Errorf("AWSPENDING names the user %s but the declared user after %s is %s; refusing to change another user's password", pend.Username, cur.Username, want)
	}
	if err := checkPinned(d.pin, "AWSPENDING", pend); err != nil {
		return err
	}
	return checkSameServer(cur, pend)
}

// SetPassword refuses when an account with the declared user name or the
// clone's exists at another host than %, creates the declared database
// when missing and the pending user when missing, and resets it to exactly
// the declared state: the declared privileges, no role and no default
// role, no TLS requirement of its own (the cluster requires TLS of every
// connection), no resource limits, unlocked, one login method with the
// AWSPENDING password. Then it resets AWSCURRENT's account the same way
// with AWSCURRENT's own password (see resetCurrent). It needs no stored
// password to still work, and always reconciles, also when AWSPENDING
// already logs in.
func (d declaredUsers) SetPassword(ctx context.Context, r *deps, cur, pend secret.Secret) (string, error) {
	master, err := r.master(ctx, cur)
	if err != nil {
		return "", err
	}
	to := database.Account{User: pend.Username, Host: "%"}
	err = r.provision(ctx, master, cur, pend, to, account{
		plain:    true,
		declared: true,
		database: d.decl.Database,
		before: func(msess database.Session) error {
			return d.checkHosts(ctx, msess)
		},
		grant: func(msess database.Session) error {
			return msess.SetExactGrants(ctx, to, d.decl.Database, d.decl.Privileges, nil)
		},
		after: func(msess database.Session) error {
			return d.resetCurrent(ctx, r, msess, cur)
		},
	})
	if err != nil {
		return "", err
	}
	return "password-set", nil
}

// checkHosts refuses when the declared user or its clone exists at another
// host than %: a login from a host that account matches would be
// authenticated as that account, not as the vault's (the server picks the
// most specific host).
func (d declaredUsers) checkHosts(ctx context.Context, msess database.Session) error {
	for _, user := range []string{d.decl.Username, d.decl.Username + d.suffix} {
		hosts, err := msess.AccountHosts(ctx, user)
		if err != nil {
			return err
		}
		for _, h := range hosts {
			if h != "%" {
				other := database.Account{User: user, Host: h}
				return fmt.Errorf("the account %s exists beside the declared %s@%%: a login from a host it matches would be authenticated as %s, which the vault does not manage. Drop or rename %s, or choose another user name; then remove this version's AWSPENDING label and rotate again", other, user, other, other)
			}
		}
	}
	return nil
}

// resetCurrent resets AWSCURRENT's account (when AWSCURRENT is
// provisioned) with AWSCURRENT's own password: unchanged for the
// applications using it, but a password someone set on it, a second login
// method, a lock, limits, roles, a default role and grants beyond the
// declaration are gone. The password is set again only when AWSCURRENT's
// no longer logs in or the account differs otherwise (AccountDrift). Privileges on the declared database that a
// declaration may name are kept, so a declaration that shrank reaches this
// account on its next turn as the pending one, not under the applications
// using it now. When AWSCURRENT's password did not log in before, a
// warning says it was changed outside rotation and restored.
func (d declaredUsers) resetCurrent(ctx context.Context, r *deps, msess database.Session, cur secret.Secret) error {
	if cur.Unprovisioned() {
		return nil
	}
	acct := database.Account{User: cur.Username, Host: "%"}
	works, expired, err := r.tryLogin(ctx, cur)
	if err != nil {
		return fmt.Errorf("cannot try AWSCURRENT's password: %w", err)
	}
	exists, err := msess.AccountExists(ctx, acct)
	if err != nil {
		return err
	}
	if !exists {
		if err := msess.CreateAccount(ctx, acct, cur.Password); err != nil && !errors.Is(err, database.ErrAccountExists) {
			return fmt.Errorf("re-create AWSCURRENT's account %s: %w", acct, err)
		}
		r.warn("AWSCURRENT's account had been dropped outside rotation; re-created with AWSCURRENT's password", slog.String("account", acct.String()))
	}
	if err := msess.SetExactGrants(ctx, acct, d.decl.Database, d.decl.Privileges, appusers.Privileges); err != nil {
		return err
	}
	if exists && works {
		// The applications are logging in with this password right now:
		// it is set again only when the account differs from the
		// declaration (a second login method, a lock, limits), so that
		// no login of theirs meets a change that undoes nothing.
		drift, err := msess.AccountDrift(ctx, acct, true)
		if err != nil {
			return err
		}
		if drift == "" {
			return nil
		}
		r.info("AWSCURRENT's account differs from the declaration; resetting it with AWSCURRENT's own password", slog.String("account", acct.String()), slog.String("differs", drift))
	}
	if err := msess.ResetAccount(ctx, acct, cur.Password, true); err != nil {
		return fmt.Errorf("reset AWSCURRENT's account %s: %w", acct, err)
	}
	switch {
	case exists && expired:
		r.warn("AWSCURRENT's password had expired on the server (a password lifetime: default_password_lifetime, or PASSWORD EXPIRE on the account); the account has been reset with it, which lifts the expiry", slog.String("account", acct.String()))
	case exists && !works:
		r.warn("AWSCURRENT's password no longer logged in: it was changed outside rotation (or the account locked or restricted), and AWSCURRENT's password has been restored", slog.String("account", acct.String()))
	}
	return nil
}
