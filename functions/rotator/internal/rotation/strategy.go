package rotation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/dbvault/dbvault/functions/rotator/appusers"
	"github.com/dbvault/dbvault/functions/rotator/checkpoint"
	"github.com/dbvault/dbvault/functions/rotator/internal/database"
	"github.com/dbvault/dbvault/functions/rotator/internal/secret"
)

// Strategy decides whose password a rotation changes and how.
type Strategy interface {
	// Name is "single-user", "alternating-users" or "declared-users", for logs.
	Name() string
	// PendingUsername is the user name the AWSPENDING secret gets.
	PendingUsername(current secret.Secret) string
	// CheckPending refuses an AWSPENDING secret that does not follow from
	// AWSCURRENT (another user, host or port).
	CheckPending(current, pending secret.Secret) error
	// SetPassword makes the database accept pending's password (and, for
	// the strategies that create users, makes the user's grants right).
	SetPassword(ctx context.Context, r *run, current, pending secret.Secret) error
}

// declaration is the declared application user of the secret being
// rotated, found by the secret's Name from DescribeSecret.
func (r *run) declaration() (appusers.User, bool) {
	if r.desc == nil || r.desc.Name == nil {
		return appusers.User{}, false
	}
	u, ok := r.h.Config.AppUsers[*r.desc.Name]
	return u, ok
}

// strategyFor picks the strategy: declared users when the secret's name is
// declared in APP_USERS, else alternating users when the current secret
// names a master secret (masterarn), single user otherwise. A declared
// secret whose AWSCURRENT names another user or master is refused. For a
// declared secret with DB_HOST set, the cluster's endpoint wins over the
// host and port the secret names (refreshEndpoint), so cur is changed in
// place.
func (r *run) strategyFor(cur *secret.Secret) (Strategy, error) {
	var s Strategy = singleUser{}
	if decl, ok := r.declaration(); ok {
		d := declaredUsers{alternatingUsers: alternatingUsers{suffix: r.h.Config.CloneSuffix}, decl: decl, pin: r.pinned()}
		r.strategy = d.Name()
		r.refreshEndpoint(cur, "AWSCURRENT")
		if m := r.h.Config.MasterSecretARN; m != "" && cur.MasterARN != "" && cur.MasterARN != m {
			// MASTER_SECRET_ARN is the deployer's; the secret's masterarn
			// only records it (a replaced cluster has a new master secret,
			// and a writer of the secret could name any other). The new
			// version carries the configured one.
			r.info("the secret names another master secret than MASTER_SECRET_ARN; using MASTER_SECRET_ARN, and the new version carries it",
				slog.String("named", cur.MasterARN), slog.String("configured", m))
			cur.MasterARN = m
		}
		return d, d.checkCurrent(*cur)
	}
	if cur.MasterARN != "" {
		s = alternatingUsers{suffix: r.h.Config.CloneSuffix}
	}
	r.strategy = s.Name()
	return s, nil
}

// endpoint is a server address, for the DB_HOST/DB_PORT pin.
type endpoint struct {
	host string
	port int
}

func (e endpoint) String() string { return fmt.Sprintf("%s:%d", e.host, e.port) }

// pinned is DB_HOST:DB_PORT, or nil when DB_HOST is unset.
func (r *run) pinned() *endpoint {
	if r.h.Config.DBHost == "" {
		return nil
	}
	return &endpoint{r.h.Config.DBHost, r.h.Config.DBPort}
}

// refreshEndpoint puts DB_HOST:DB_PORT into s (a declared secret's
// AWSCURRENT or AWSPREVIOUS) when it names another address. The deployer
// sets DB_HOST to the cluster's endpoint, so it is the truth: after the
// cluster was replaced (a new endpoint) the secret still names the old one,
// and a principal who can write the secret could name any other. Every
// login goes to DB_HOST, never to the address in the secret, and the
// version this rotation writes carries DB_HOST, so applications reading
// the secret follow the cluster from the next rotation on. The password is
// not touched.
func (r *run) refreshEndpoint(s *secret.Secret, which string) {
	pin := r.pinned()
	if pin == nil || (s.Host == pin.host && s.Port == pin.port) {
		return
	}
	r.info("the secret names another database address than the cluster's endpoint; using the cluster's, and the new version carries it",
		slog.String("stage", which), slog.String("named", s.Endpoint()), slog.String("cluster", pin.String()))
	s.Host, s.Port = pin.host, pin.port
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
func (singleUser) SetPassword(ctx context.Context, r *run, cur, pend secret.Secret) error {
	// A retry after a crash: AWSPENDING already logs in, nothing to do.
	sess, err := r.login(ctx, pend)
	if err == nil {
		_ = sess.Close()
		r.outcome = "pending-already-set"
		return nil
	}
	if !errors.Is(err, database.ErrLoginRejected) {
		return fmt.Errorf("cannot try the AWSPENDING password: %w", err)
	}
	if err := checkpoint.Reach(ctx, checkpoint.SetAfterLoginPending); err != nil {
		return err
	}
	sess, err = r.login(ctx, cur)
	if err != nil && !errors.Is(err, database.ErrLoginRejected) {
		return fmt.Errorf("cannot log in with AWSCURRENT: %w", err)
	}
	if err != nil {
		if sess, err = r.loginFallback(ctx, pend); err != nil {
			return err
		}
	}
	defer func() { _ = sess.Close() }()
	if err := checkpoint.Reach(ctx, checkpoint.SetAfterLogin); err != nil {
		return err
	}
	acct, err := sess.CurrentAccount(ctx)
	if errors.Is(err, database.ErrPasswordExpired) {
		// The session runs nothing but a change of its own password, so
		// that comes first, and the account is verified after.
		if err := sess.SetOwnPassword(ctx, pend.Password); err != nil {
			return fmt.Errorf("the password of %s has expired; setting the AWSPENDING password failed: %w", pend.Username, err)
		}
		r.info("the password had expired: set the AWSPENDING password first, verifying the account after")
		acct, err = sess.CurrentAccount(ctx)
		if err != nil {
			return err
		}
		if acct.User != pend.Username {
			return fmt.Errorf("the password had expired, so the AWSPENDING password was set first; the database had authenticated %s as the account %s, whose password is now AWSPENDING's. Check that account (an anonymous or wildcard account matched the login)", pend.Username, acct)
		}
		r.outcome = "password-set"
		return checkpoint.Reach(ctx, checkpoint.SetAfterAlter)
	}
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
	return checkpoint.Reach(ctx, checkpoint.SetAfterAlter)
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
func (r *run) loginFallback(ctx context.Context, pend secret.Secret) (database.Session, error) {
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

// recentVersions lists the ids of the versions created after AWSCURRENT
// (labelled or not, the token being rotated excluded), newest first, at
// most maxRecentVersions.
func (r *run) recentVersions(ctx context.Context) ([]string, error) {
	var all []smtypes.SecretVersionsListEntry
	in := &secretsmanager.ListSecretVersionIdsInput{SecretId: &r.ev.SecretID, IncludeDeprecated: aws.Bool(true), MaxResults: aws.Int32(100)}
	for page := 0; page < 5; page++ {
		out, err := r.h.SM.ListSecretVersionIds(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("ListSecretVersionIds %s: %w", r.ev.SecretID, err)
		}
		all = append(all, out.Versions...)
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	var current *smtypes.SecretVersionsListEntry
	for i := range all {
		if has(all[i].VersionStages, StageCurrent) {
			current = &all[i]
		}
	}
	if current == nil || current.CreatedDate == nil {
		return nil, errors.New("no AWSCURRENT version with a creation date in the list")
	}
	var newer []smtypes.SecretVersionsListEntry
	for _, v := range all {
		id := aws.ToString(v.VersionId)
		if id == "" || id == r.ev.ClientRequestToken || id == aws.ToString(current.VersionId) || v.CreatedDate == nil || v.CreatedDate.Before(*current.CreatedDate) {
			continue
		}
		newer = append(newer, v)
	}
	sort.SliceStable(newer, func(i, j int) bool { return newer[i].CreatedDate.After(*newer[j].CreatedDate) })
	var ids []string
	for _, v := range newer {
		if len(ids) == maxRecentVersions {
			break
		}
		ids = append(ids, aws.ToString(v.VersionId))
	}
	return ids, nil
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
func (a alternatingUsers) SetPassword(ctx context.Context, r *run, cur, pend secret.Secret) error {
	master, err := r.master(ctx, cur)
	if err != nil {
		return err
	}
	// Log in as AWSCURRENT first: it tells the host part of its account.
	// When the password is rejected (someone who could log in changed it),
	// AWSCURRENT's record is the truth: its password is restored.
	var from database.Account
	csess, err := r.login(ctx, cur)
	switch {
	case errors.Is(err, database.ErrLoginRejected):
		if from, err = r.restoreCurrent(ctx, master, cur); err != nil {
			return err
		}
	case err != nil:
		return fmt.Errorf("cannot log in with AWSCURRENT: %w", err)
	default:
		from, err = csess.CurrentAccount(ctx)
		_ = csess.Close()
		if err != nil {
			return err
		}
	}
	if from.User != cur.Username {
		return fmt.Errorf("the database authenticated %s as the account %s; refusing to copy its grants", cur.Username, from)
	}
	to := database.Account{User: pend.Username, Host: from.Host}
	return r.provision(ctx, master, cur, pend, to, account{
		grant: func(msess database.Session) error { return msess.CopyGrants(ctx, from, to) },
	})
}

// restoreCurrent answers an AWSCURRENT password that the database rejects
// (alternating users): the account AWSCURRENT names is the vault's by the
// secret's record, so the master gives it back AWSCURRENT's password as
// its only login method and unlocks it, and a warning says so. It needs
// exactly one account of that name (otherwise it cannot tell which one
// AWSCURRENT's applications log in to), and AWSCURRENT must log in after.
func (r *run) restoreCurrent(ctx context.Context, master, cur secret.Secret) (database.Account, error) {
	msess, err := r.login(ctx, master)
	if err != nil {
		return database.Account{}, fmt.Errorf("the database rejected AWSCURRENT's password for %s; restoring it needs the master, and: %w", cur.Username, err)
	}
	defer func() { _ = msess.Close() }()
	hosts, err := msess.AccountHosts(ctx, cur.Username)
	if err != nil {
		return database.Account{}, err
	}
	if len(hosts) != 1 {
		return database.Account{}, fmt.Errorf("the database rejected AWSCURRENT's password for %s, and %d accounts have that name, so the rotator cannot tell which one to restore: put AWSCURRENT's password back on the right account, then rotate again", cur.Username, len(hosts))
	}
	acct := database.Account{User: cur.Username, Host: hosts[0]}
	if err := msess.ResetAccount(ctx, acct, cur.Password, false); err != nil {
		return acct, fmt.Errorf("restore AWSCURRENT's password on %s: %w", acct, err)
	}
	if ok, err := r.logsIn(ctx, cur); err != nil || !ok {
		return acct, fmt.Errorf("AWSCURRENT's password was restored on %s, but AWSCURRENT still does not log in (%v); check that account", acct, err)
	}
	r.warn("AWSCURRENT's password no longer logged in: it was changed outside rotation (or the account locked), and AWSCURRENT's password has been restored", slog.String("account", acct.String()))
	return acct, nil
}

// master reads the master secret that cur names (masterarn), in AWS's shape
// or RDS's ({"username", "password"} only: then the host and port are
// DB_HOST:DB_PORT when set, else cur's), and checks that it is for cur's
// server.
func (r *run) master(ctx context.Context, cur secret.Secret) (secret.Secret, error) {
	master, err := r.readMaster(ctx, cur)
	if err != nil {
		return master, err
	}
	return master, checkpoint.Reach(ctx, checkpoint.SetAfterGetMaster)
}

// readMaster is master without the checkpoint; createSecret calls it too,
// so that a master that cannot work is found before AWSPENDING is written.
func (r *run) readMaster(ctx context.Context, cur secret.Secret) (secret.Secret, error) {
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

// account is what provision makes of the pending account besides its
// existence and password.
type account struct {
	// grant makes its privileges right.
	grant func(database.Session) error
	// plain: no TLS requirement, resource limits or default role of its
	// own (declared users); otherwise grant copies them.
	plain bool
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
func (r *run) provision(ctx context.Context, master, cur, pend secret.Secret, to database.Account, acct account) error {
	pendingWorks, err := r.logsIn(ctx, pend)
	if err != nil {
		return fmt.Errorf("cannot try the AWSPENDING password: %w", err)
	}
	if err := checkpoint.Reach(ctx, checkpoint.SetAfterLoginPending); err != nil {
		return err
	}
	msess, err := r.login(ctx, master)
	if errors.Is(err, database.ErrLoginRejected) {
		return fmt.Errorf("the database rejected the master secret's password (%s): %w", master.Username, err)
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
	if d, ok := r.declaration(); ok {
		if err := msess.EnsureDatabase(ctx, d.Database); err != nil {
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
		if err := r.owned(ctx, cur, pend, to); err != nil {
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
	r.outcome = "password-set"
	return checkpoint.Reach(ctx, checkpoint.SetAfterAlter)
}

// logsIn reports whether s's credentials log in (without a default
// database). A refusal is false; any other failure is an error.
func (r *run) logsIn(ctx context.Context, s secret.Secret) (bool, error) {
	if s.Password == "" {
		return false, nil
	}
	sess, err := r.h.DB.Login(ctx, database.Login{Host: s.Host, Port: s.Port, User: s.Username, Password: s.Password})
	if errors.Is(err, database.ErrLoginRejected) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	_ = sess.Close()
	return true, nil
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
func (r *run) owned(ctx context.Context, cur, pend secret.Secret, to database.Account) error {
	candidates := map[string]secret.Secret{"AWSCURRENT": cur}
	prev, err := r.getSecretAs(ctx, r.ev.SecretID, StagePrevious, "", secret.ParseUnprovisioned)
	switch {
	case err == nil:
		if _, declared := r.declaration(); declared {
			r.refreshEndpoint(&prev, "AWSPREVIOUS")
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
		ok, err := r.logsIn(ctx, v)
		if err != nil {
			return fmt.Errorf("cannot try the password of version %s: %w", id, err)
		}
		if ok {
			r.info("the account exists and is the vault's: an unfinished rotation of this secret created it", slog.String("account", to.String()), slog.String("used_version", id))
			return nil
		}
	}
	ok, err := r.logsIn(ctx, pend)
	if err != nil {
		return fmt.Errorf("cannot try the AWSPENDING password: %w", err)
	}
	if ok {
		r.info("the account exists and is the vault's: the AWSPENDING password logs in (another invocation of this step created it)", slog.String("account", to.String()))
		return nil
	}
	return fmt.Errorf("the account %s already exists and this secret's history does not show it as the vault's (neither AWSCURRENT nor AWSPREVIOUS names it, no newer version of this secret whose password logs in names it, and the AWSPENDING password does not log in to it); the vault will not take over an account it did not create. Drop or rename that account, or choose another user name; then remove this version's AWSPENDING label and rotate again", to)
}

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
func (d declaredUsers) SetPassword(ctx context.Context, r *run, cur, pend secret.Secret) error {
	master, err := r.master(ctx, cur)
	if err != nil {
		return err
	}
	to := database.Account{User: pend.Username, Host: "%"}
	return r.provision(ctx, master, cur, pend, to, account{
		plain: true,
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
func (d declaredUsers) resetCurrent(ctx context.Context, r *run, msess database.Session, cur secret.Secret) error {
	if cur.Unprovisioned() {
		return nil
	}
	acct := database.Account{User: cur.Username, Host: "%"}
	works, err := r.logsIn(ctx, cur)
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
	if exists && !works {
		r.warn("AWSCURRENT's password no longer logged in: it was changed outside rotation (or the account locked or restricted), and AWSCURRENT's password has been restored", slog.String("account", acct.String()))
	}
	return nil
}
