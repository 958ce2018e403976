package rotation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/dbvault/dbvault/functions/rotator/checkpoint"
	"github.com/dbvault/dbvault/functions/rotator/internal/database"
	"github.com/dbvault/dbvault/functions/rotator/internal/secret"
)

// Strategy decides whose password a rotation changes and how. Each is a
// small value made by strategyFor; it keeps no state of the rotation and
// reports what it did by its results.
type Strategy interface {
	// Name is "single-user", "alternating-users" or "declared-users", for logs.
	Name() string
	// PendingUsername is the user name the AWSPENDING secret gets.
	PendingUsername(current secret.Secret) string
	// CheckPending refuses an AWSPENDING secret that does not follow from
	// AWSCURRENT (another user, host or port).
	CheckPending(current, pending secret.Secret) error
	// SetPassword makes the database accept pending's password (and, for
	// the strategies that create users, makes the user's grants right),
	// with the secret's versions and the database that r reads, and
	// returns the outcome for the step's log line.
	SetPassword(ctx context.Context, r *deps, current, pending secret.Secret) (outcome string, err error)
}

var (
	_ Strategy = singleUser{}
	_ Strategy = alternatingUsers{}
	_ Strategy = declaredUsers{}
)

// strategyFor picks the strategy: declared users when the secret's name is
// declared in APP_USERS, else alternating users when the current secret
// names a master secret (masterarn), single user otherwise. It returns cur
// as the rotation uses it: for a declared secret, MASTER_SECRET_ARN and
// (with DB_HOST set) the cluster's endpoint win over what the secret
// names. A declared secret whose AWSCURRENT names another user or no
// master is refused (the strategy is still returned, for the log line).
func (r *deps) strategyFor(cur secret.Secret) (Strategy, secret.Secret, error) {
	decl, ok := r.declaration()
	if !ok {
		if cur.MasterARN != "" {
			return alternatingUsers{suffix: r.h.Config.CloneSuffix}, cur, nil
		}
		return singleUser{}, cur, nil
	}
	d := declaredUsers{alternatingUsers: alternatingUsers{suffix: r.h.Config.CloneSuffix}, decl: decl, pin: r.pinned()}
	cur = r.atCluster(cur, "AWSCURRENT")
	if m := r.h.Config.MasterSecretARN; m != "" && cur.MasterARN != "" && cur.MasterARN != m {
		// MASTER_SECRET_ARN is the deployer's; the secret's masterarn
		// only records it (a replaced cluster has a new master secret,
		// and a writer of the secret could name any other). The new
		// version carries the configured one.
		r.info("the secret names another master secret than MASTER_SECRET_ARN; using MASTER_SECRET_ARN, and the new version carries it",
			slog.String("named", cur.MasterARN), slog.String("configured", m))
		cur.MasterARN = m
	}
	return d, cur, d.checkCurrent(cur)
}

// endpoint is a server address, for the DB_HOST/DB_PORT pin.
type endpoint struct {
	host string
	port int
}

func (e endpoint) String() string { return fmt.Sprintf("%s:%d", e.host, e.port) }

// pinned is DB_HOST:DB_PORT, or nil when DB_HOST is unset.
func (r *deps) pinned() *endpoint {
	if r.h.Config.DBHost == "" {
		return nil
	}
	return &endpoint{r.h.Config.DBHost, r.h.Config.DBPort}
}

// atCluster returns s (a declared secret's AWSCURRENT or AWSPREVIOUS,
// which names its stage) with DB_HOST:DB_PORT as its address when it names
// another. The deployer sets DB_HOST to the cluster's endpoint, so it is
// the truth: after the cluster was replaced (a new endpoint) the secret
// still names the old one, and a principal who can write the secret could
// name any other. Every login goes to DB_HOST, never to the address in the
// secret, and the version this rotation writes carries DB_HOST, so
// applications reading the secret follow the cluster from the next
// rotation on. The password is not touched.
func (r *deps) atCluster(s secret.Secret, which string) secret.Secret {
	pin := r.pinned()
	if pin == nil || (s.Host == pin.host && s.Port == pin.port) {
		return s
	}
	r.info("the secret names another database address than the cluster's endpoint; using the cluster's, and the new version carries it",
		slog.String("stage", which), slog.String("named", s.Endpoint()), slog.String("cluster", pin.String()))
	s.Host, s.Port = pin.host, pin.port
	return s
}

// checkPinned refuses a secret (which names its stage) that does not name
// exactly DB_HOST:DB_PORT, when that is set.
func checkPinned(pin *endpoint, which string, s secret.Secret) error {
	if pin == nil || (s.Host == pin.host && s.Port == pin.port) {
		return nil
	}
	return fmt.Errorf("%s names the database %q port %d, but this function rotates declared secrets and logs in as the master only at DB_HOST:DB_PORT %s; refusing before any login (the master password would go to that address). Put back the cluster's endpoint in the secret", which, s.Host, s.Port, pin)
}

func checkSameServer(cur, pend secret.Secret) error {
	if cur.Host != pend.Host || cur.Port != pend.Port {
		return fmt.Errorf("AWSPENDING names the database %s but AWSCURRENT names %s; refusing to change a password on another server", pend.Endpoint(), cur.Endpoint())
	}
	return nil
}

// master reads the master secret that cur names (masterarn), in AWS's shape
// or RDS's ({"username", "password"} only: then the host and port are
// DB_HOST:DB_PORT when set, else cur's), and checks that it is for cur's
// server.
func (r *deps) master(ctx context.Context, cur secret.Secret) (secret.Secret, error) {
	master, err := r.readMaster(ctx, cur)
	if err != nil {
		return master, err
	}
	return master, checkpoint.Reach(ctx, checkpoint.SetAfterGetMaster)
}

// readMaster is master without the checkpoint; createSecret calls it too,
// so that a master that cannot work is found before AWSPENDING is written.
func (r *deps) readMaster(ctx context.Context, cur secret.Secret) (secret.Secret, error) {
	master, err := r.getSecretAs(ctx, cur.MasterARN, StageCurrent, "", secret.ParseMaster)
	if err != nil {
		return master, fmt.Errorf("read the master secret (masterarn): %w", err)
	}
	if pin := r.pinned(); pin != nil {
		// The master login goes to DB_HOST:DB_PORT or nowhere.
		if master.Host == "" {
			master.Host, master.Port = pin.host, pin.port
		}
		if err := checkPinned(pin, "the master secret", master); err != nil {
			return master, err
		}
		if err := checkPinned(pin, "AWSCURRENT", cur); err != nil {
			return master, err
		}
	}
	if master.Host == "" {
		master.Host, master.Port = cur.Host, cur.Port
	}
	if master.Host != cur.Host || master.Port != cur.Port {
		return master, fmt.Errorf("the master secret (masterarn %s) names the database %s but AWSCURRENT names %s; the master secret must be for the server whose user it provisions: refusing to log in as the master on another server", cur.MasterARN, master.Endpoint(), cur.Endpoint())
	}
	return master, nil
}

// masterRotating explains a master password the database refused while the
// master secret is itself being rotated: RDS's rotation of a managed master
// secret "typically completes within one minute", and meanwhile
// "connections that retrieve the secret may get the previous version of
// the credentials"
// (https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_managed.html).
// That RDS labels its new password AWSPENDING meanwhile, as a Lambda
// rotation does, is not documented: the message names both causes.
// AWSCURRENT is still the only version used, as in AWS's templates: the
// step fails, and Secrets Manager retries it. It returns "" when the
// master secret has no AWSPENDING version of its own, or cannot be read.
func (r *deps) masterRotating(ctx context.Context, masterARN string) string {
	out, err := r.h.SM.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: &masterARN})
	if err != nil {
		return ""
	}
	for id, stages := range out.VersionIdsToStages {
		if slices.Contains(stages, StagePending) && !slices.Contains(stages, StageCurrent) {
			return fmt.Sprintf(", and the master secret has an AWSPENDING version (%s): if RDS is rotating it, its new password may not be AWSCURRENT yet, and Secrets Manager's retry of this step works once that rotation has finished; if an earlier rotation of it failed, see to that first", id)
		}
	}
	return ""
}

// account is what provision makes of the pending account besides its
// existence and password.
type account struct {
	// grant makes its privileges right.
	grant func(database.Session) error
	// plain: no TLS requirement, resource limits or default role of its
	// own (declared users); otherwise grant copies them.
	plain bool
	// declared: a declared user's account; database is then created
	// first (CREATE DATABASE IF NOT EXISTS), and AWSPREVIOUS is read at
	// DB_HOST:DB_PORT (atCluster) when the history is consulted (owned).
	declared bool
	database string
	// before runs first with the master session, before anything is
	// created; after runs last (both may be nil).
	before, after func(database.Session) error
}

// provision is the part of setSecret that both user-creating strategies
// share: try the AWSPENDING password (DBName left out: a new account may
// not have its grants yet), log in as the master, refuse a user name the
// server cannot hold, create the account to (or prove that an existing one
// is the vault's: owned), make its grants right, and reset it last: one
// login method with the AWSPENDING password, unlocked (ResetAccount), so a
// password, a second login method or a lock that anyone set on it is gone.
func (r *deps) provision(ctx context.Context, master, cur, pend secret.Secret, to database.Account, acct account) error {
	pendingWorks, err := r.logsIn(ctx, pend)
	if err != nil {
		return fmt.Errorf("cannot try the AWSPENDING password: %w", err)
	}
	if err := checkpoint.Reach(ctx, checkpoint.SetAfterLoginPending); err != nil {
		return err
	}
	msess, err := r.login(ctx, master)
	if errors.Is(err, database.ErrLoginRejected) {
		return fmt.Errorf("the database rejected the master secret's password (%s)%s: %w", master.Username, r.masterRotating(ctx, cur.MasterARN), err)
	}
	if err != nil {
		return fmt.Errorf("cannot log in with the master secret: %w", err)
	}
	defer func() { _ = msess.Close() }()
	if err := checkpoint.Reach(ctx, checkpoint.SetAfterLogin); err != nil {
		return err
	}
	max, err := msess.MaxUserNameLength(ctx)
	if err != nil {
		return err
	}
	if n := utf8.RuneCountInString(pend.Username); n > max {
		return fmt.Errorf("the user name %s is %d characters; this server allows %d. Shorten the user name or CLONE_SUFFIX, and remove the AWSPENDING label of this version", pend.Username, n, max)
	}
	if acct.before != nil {
		if err := acct.before(msess); err != nil {
			return err
		}
	}
	if acct.declared {
		if err := msess.EnsureDatabase(ctx, acct.database); err != nil {
			return err
		}
		if err := checkpoint.Reach(ctx, checkpoint.SetAfterCreateDatabase); err != nil {
			return err
		}
	}
	exists, err := msess.AccountExists(ctx, to)
	if err != nil {
		return err
	}
	if !exists {
		// Created with the AWSPENDING password itself: if the function
		// stops before the grants, the retry proves by logging in that the
		// account is this rotation's, and finishes it.
		err := msess.CreateAccount(ctx, to, pend.Password)
		switch {
		case errors.Is(err, database.ErrAccountExists):
			// Created since AccountExists: by another invocation of this
			// step (same token), or by someone else. owned tells which.
			exists = true
		case err != nil:
			return fmt.Errorf("create %s: %w", to, err)
		default:
			r.info("account created", slog.String("account", to.String()))
			if err := checkpoint.Reach(ctx, checkpoint.SetAfterCreateUser); err != nil {
				return err
			}
		}
	}
	if exists && !pendingWorks {
		if err := r.owned(ctx, cur, pend, to, acct.declared); err != nil {
			return err
		}
	}
	if err := acct.grant(msess); err != nil {
		return err
	}
	if err := checkpoint.Reach(ctx, checkpoint.SetAfterGrants); err != nil {
		return err
	}
	if err := msess.ResetAccount(ctx, to, pend.Password, acct.plain); err != nil {
		return fmt.Errorf("set the AWSPENDING password for %s: %w", to, err)
	}
	if acct.after != nil {
		if err := acct.after(msess); err != nil {
			return err
		}
	}
	return checkpoint.Reach(ctx, checkpoint.SetAfterAlter)
}

// owned returns nil when pend's existing account to is the vault's, and
// otherwise the refusal. The record of what the vault provisioned is this
// secret's history, which only the rotator and the administrators can
// write (readers can neither write nor relabel versions), and the rotator
// moves AWSCURRENT only to a version whose password it logged in with
// after provisioning the account. So the account is the vault's when:
//
//   - AWSCURRENT or AWSPREVIOUS names that user on the same server with a
//     password (a provisioned version; the deployer's first version has
//     none): no login is needed, so a password changed by someone who
//     could log in to it changes nothing;
//   - a version newer than AWSCURRENT (an unfinished rotation whose
//     AWSPENDING label was removed before finishSecret) names it, and its
//     password logs in;
//   - the AWSPENDING password of this token logs in to it: a retry after a
//     crash, or another invocation of this step that created it meanwhile
//     (tried last, just before refusing).
func (r *deps) owned(ctx context.Context, cur, pend secret.Secret, to database.Account, declared bool) error {
	candidates := map[string]secret.Secret{"AWSCURRENT": cur}
	prev, err := r.getSecretAs(ctx, r.ev.SecretID, StagePrevious, "", secret.ParseUnprovisioned)
	switch {
	case err == nil:
		if declared {
			prev = r.atCluster(prev, "AWSPREVIOUS")
		}
		candidates["AWSPREVIOUS"] = prev
	case !errNotFound(err):
		r.info("AWSPREVIOUS is unusable; not reading it", slog.String("reason", r.red.String(err.Error())))
	}
	for stage, c := range candidates {
		if c.Username == pend.Username && c.Password != "" && checkSameServer(c, pend) == nil {
			r.info("the account exists and is the vault's: this secret's "+stage+" names it", slog.String("account", to.String()))
			return nil
		}
	}
	ids, err := r.recentVersions(ctx)
	if err != nil {
		r.info("cannot list the versions newer than AWSCURRENT; not trying them", slog.String("reason", r.red.String(err.Error())))
	}
	for _, id := range ids {
		v, err := r.getVersion(ctx, id)
		if err != nil || v.Username != pend.Username || checkSameServer(v, pend) != nil {
			continue
		}
		works, expired, err := r.tryLogin(ctx, v)
		if err != nil {
			return fmt.Errorf("cannot try the password of version %s: %w", id, err)
		}
		if works || expired {
			r.info("the account exists and is the vault's: an unfinished rotation of this secret created it", slog.String("account", to.String()), slog.String("used_version", id))
			return nil
		}
	}
	works, expired, err := r.tryLogin(ctx, pend)
	if err != nil {
		return fmt.Errorf("cannot try the AWSPENDING password: %w", err)
	}
	if works || expired {
		r.info("the account exists and is the vault's: the server accepts the AWSPENDING password (another invocation of this step created it)", slog.String("account", to.String()))
		return nil
	}
	return fmt.Errorf("the account %s already exists and this secret's history does not show it as the vault's (neither AWSCURRENT nor AWSPREVIOUS names it, no newer version of this secret whose password logs in names it, and the AWSPENDING password does not log in to it); the vault will not take over an account it did not create. Drop or rename that account, or choose another user name; then remove this version's AWSPENDING label and rotate again", to)
}
