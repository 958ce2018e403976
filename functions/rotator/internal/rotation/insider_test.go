package rotation_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/dbvault/dbvault/functions/rotator/internal/database"
	"github.com/dbvault/dbvault/functions/rotator/internal/rotation"
	"github.com/dbvault/dbvault/functions/rotator/internal/testdb"
)

// provisioned is a declared user after two rotations: AWSCURRENT names
// the clone, AWSPREVIOUS the user (the next pending one).
func (e *env) provisioned(t *testing.T, privileges ...string) declaredFixture {
	t.Helper()
	d := e.declared(t, privileges...)
	for i := 0; i < 2; i++ {
		if err := e.rotate(d.arn); err != nil {
			t.Fatalf("rotation %d: %v", i+1, err)
		}
	}
	return d
}

// setOwnPassword is what any reader of the secret can do with the
// credentials it read: no privilege is needed.
func (e *env) setOwnPassword(t *testing.T, user, password, newPassword string) {
	t.Helper()
	e.extraSecrets = append(e.extraSecrets, newPassword)
	if _, err := testdb.OpenAs(t, testdb.Addr(), user, password, "").Exec("SET PASSWORD = PASSWORD('" + newPassword + "')"); err != nil {
		t.Fatalf("%s sets its own password: %v", user, err)
	}
}

func showCreateUser(t *testing.T, e *env, user string) string {
	t.Helper()
	var row string
	if err := e.root.QueryRow("SHOW CREATE USER `" + user + "`@`%`").Scan(&row); err != nil {
		t.Fatal(err)
	}
	return row
}

// A reader changes the password of AWSPREVIOUS's account (the next
// pending one): ownership is in the secret's history, not in a password
// that still works, so rotations go on, and the reader's password is gone
// with the rotation that resets that account.
func TestReaderChangesAWSPREVIOUSPassword(t *testing.T) {
	e := newEnv(t)
	d := e.provisioned(t, "SELECT")
	prev := e.get(d.arn, rotation.StagePrevious)
	e.setOwnPassword(t, prev.Username, prev.Password, "readers-own-password-1")
	if err := e.rotate(d.arn); err != nil {
		t.Fatalf("rotation after the reader changed AWSPREVIOUS's password: %v", err)
	}
	if testdb.CanLogin(t, testdb.Addr(), prev.Username, "readers-own-password-1") {
		t.Fatal("the reader's own password still logs in")
	}
	if cur := e.get(d.arn, rotation.StageCurrent); cur.Username != prev.Username || !testdb.CanLogin(t, testdb.Addr(), cur.Username, cur.Password) {
		t.Fatal("AWSCURRENT does not log in")
	}
	if err := e.rotate(d.arn); err != nil {
		t.Fatalf("the rotation after: %v", err)
	}
}

// A reader changes the password of AWSCURRENT's account, locking out every
// other reader: the next rotation restores AWSCURRENT's password (and says
// so in a warning) and succeeds.
func TestReaderChangesAWSCURRENTPassword(t *testing.T) {
	e := newEnv(t)
	d := e.provisioned(t, "SELECT")
	cur := e.get(d.arn, rotation.StageCurrent)
	e.setOwnPassword(t, cur.Username, cur.Password, "readers-own-password-2")
	if testdb.CanLogin(t, testdb.Addr(), cur.Username, cur.Password) {
		t.Fatal("setup: AWSCURRENT still logs in")
	}
	if err := e.rotate(d.arn); err != nil {
		t.Fatalf("rotation after the reader changed AWSCURRENT's password: %v", err)
	}
	if !testdb.CanLogin(t, testdb.Addr(), cur.Username, cur.Password) {
		t.Fatal("the former AWSCURRENT's password was not restored: its readers stay locked out")
	}
	if testdb.CanLogin(t, testdb.Addr(), cur.Username, "readers-own-password-2") {
		t.Fatal("the reader's own password still logs in")
	}
	if !strings.Contains(e.logs.String(), "changed outside rotation") {
		t.Fatal("no warning that AWSCURRENT's password had been changed")
	}
	if err := e.rotate(d.arn); err != nil {
		t.Fatalf("the rotation after: %v", err)
	}
}

// A rotation cancelled after setSecret (its AWSPENDING label removed before
// finishSecret) created an account that only an unlabelled version names:
// the next rotation recognises it and succeeds.
func TestCancelledRotationDoesNotStopRotation(t *testing.T) {
	e := newEnv(t)
	run := func(t *testing.T, arn string) {
		e.unfinished(t, arn, 0)
		for i := 1; i <= 2; i++ {
			if err := e.rotate(arn); err != nil {
				t.Fatalf("rotation %d after the cancelled one: %v", i, err)
			}
			cur := e.get(arn, rotation.StageCurrent)
			if !testdb.CanLogin(t, testdb.Addr(), cur.Username, cur.Password) {
				t.Fatalf("rotation %d: AWSCURRENT does not log in", i)
			}
		}
	}
	t.Run("declared users", func(t *testing.T) { run(t, e.declared(t, "SELECT").arn) })
	t.Run("alternating users", func(t *testing.T) { run(t, e.fixture(true).arn) })
}

// A second login method (MariaDB's IDENTIFIED VIA ... OR ...) on the
// pending account and on AWSCURRENT's is gone after the next rotation.
func TestSecondLoginMethodRemoved(t *testing.T) {
	e := newEnv(t)
	d := e.provisioned(t, "SELECT")
	prev, cur := e.get(d.arn, rotation.StagePrevious), e.get(d.arn, rotation.StageCurrent)
	backdoor := map[string]string{prev.Username: "backdoor-password-1", cur.Username: "backdoor-password-2"}
	for _, s := range []struct{ user, pw string }{{prev.Username, prev.Password}, {cur.Username, cur.Password}} {
		e.extraSecrets = append(e.extraSecrets, backdoor[s.user])
		if _, err := e.root.Exec("ALTER USER ?@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD(?) OR mysql_native_password USING PASSWORD(?)", s.user, s.pw, backdoor[s.user]); err != nil {
			t.Fatal(err)
		}
		if !testdb.CanLogin(t, testdb.Addr(), s.user, backdoor[s.user]) {
			t.Fatal("setup: the second method does not log in")
		}
	}
	if err := e.rotate(d.arn); err != nil {
		t.Fatal(err)
	}
	for user, pw := range backdoor {
		if testdb.CanLogin(t, testdb.Addr(), user, pw) {
			t.Errorf("the second login method of %s survived the rotation", user)
		}
		if row := showCreateUser(t, e, user); strings.Contains(row, " OR ") {
			t.Errorf("%s still has two login methods", user)
		}
	}
	if !testdb.CanLogin(t, testdb.Addr(), cur.Username, cur.Password) {
		t.Fatal("the former AWSCURRENT's password no longer logs in")
	}
}

// A role with a default role on the pending account: the rotation takes
// both away (MariaDB's SHOW GRANTS row "SET DEFAULT ROLE r FOR ..." is
// understood) and the account is exactly the declared one.
func TestDefaultRoleOnPendingAccountRemoved(t *testing.T) {
	e := newEnv(t)
	d := e.provisioned(t, "SELECT")
	role := testdb.Name("rtr_")
	testdb.Exec(t, e.root, "CREATE ROLE `"+role+"`", "GRANT INSERT ON `"+d.db+"`.* TO `"+role+"`",
		"GRANT `"+role+"` TO `"+d.user+"`@`%`", "SET DEFAULT ROLE `"+role+"` FOR `"+d.user+"`@`%`")
	t.Cleanup(func() { _, _ = e.root.Exec("DROP ROLE IF EXISTS `" + role + "`") })
	// MariaDB lets only a holder of the role's ADMIN OPTION revoke it, as
	// the master has for a role it created.
	testdb.Exec(t, e.root, "GRANT `"+role+"` TO `"+d.master+"`@`%` WITH ADMIN OPTION")
	if err := e.rotate(d.arn); err != nil {
		t.Fatalf("rotation onto an account with a default role: %v", err)
	}
	d.checkGrants(t, e.root, d.user) // no role row, no SET DEFAULT ROLE row
	var def string
	if err := e.root.QueryRow("SELECT default_role FROM mysql.user WHERE User = ? AND Host = '%'", d.user).Scan(&def); err != nil || def != "" {
		t.Fatalf("default role %q (%v) after the rotation", def, err)
	}
}

// ACCOUNT LOCK, a resource limit and REQUIRE SSL on the pending account,
// and a lock on AWSCURRENT's: all reset by the next rotation.
func TestLockLimitsAndRequireReset(t *testing.T) {
	e := newEnv(t)
	d := e.provisioned(t, "SELECT")
	cur := e.get(d.arn, rotation.StageCurrent)
	acct := "`" + d.user + "`@`%`"
	testdb.Exec(t, e.root, "ALTER USER "+acct+" ACCOUNT LOCK", "ALTER USER "+acct+" WITH MAX_USER_CONNECTIONS 1",
		"ALTER USER "+acct+" REQUIRE SSL", "ALTER USER `"+cur.Username+"`@`%` ACCOUNT LOCK")
	if err := e.rotate(d.arn); err != nil {
		t.Fatalf("rotation onto a locked, limited account that requires TLS: %v", err)
	}
	for _, user := range []string{d.user, cur.Username} {
		row := showCreateUser(t, e, user)
		for _, bad := range []string{"ACCOUNT LOCK", "MAX_USER_CONNECTIONS", "REQUIRE"} {
			if strings.Contains(row, bad) {
				t.Errorf("%s still has %s", user, bad)
			}
		}
	}
	if !testdb.CanLogin(t, testdb.Addr(), cur.Username, cur.Password) {
		t.Fatal("the former AWSCURRENT does not log in")
	}
}

// An account with the declared user name at another host than % is
// refused, named, and nothing is created: a login from 127.0.0.1 would be
// authenticated as that account.
func TestAccountAtAnotherHostRefused(t *testing.T) {
	e := newEnv(t)
	d := e.declared(t, "SELECT")
	testdb.Exec(t, e.root, "CREATE USER `"+d.user+"`@`127.0.0.1` IDENTIFIED BY 'other-host-password-1'",
		"GRANT ALL PRIVILEGES ON `"+d.db+"`.* TO `"+d.user+"`@`127.0.0.1`")
	t.Cleanup(func() { _, _ = e.root.Exec("DROP USER IF EXISTS ?@'127.0.0.1'", d.user) })
	err := e.rotate(d.arn)
	if err == nil || !strings.Contains(err.Error(), d.user+"@127.0.0.1 exists beside the declared") {
		t.Fatalf("rotation beside %s@127.0.0.1: %v", d.user, err)
	}
	var n int
	if err := e.root.QueryRow("SELECT (SELECT COUNT(*) FROM mysql.user WHERE User = ? AND Host = '%') + (SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?)", d.user, d.db).Scan(&n); err != nil || n != 0 {
		t.Fatalf("something was created (%d, %v)", n, err)
	}
}

// Two setSecret invocations with one token (Secrets Manager's retry while
// the first still runs). The other one runs whole at a point of this one:
// after this one found AWSPENDING rejected (the account then exists when
// this one looks), or between this one's existence check and its CREATE
// USER. Both succeed; neither claims a takeover.
func TestConcurrentSetSecretNeverClaimsTakeover(t *testing.T) {
	e := newEnv(t)
	check := func(t *testing.T, d declaredFixture, token string, err, otherErr error) {
		t.Helper()
		if otherErr != nil {
			t.Fatalf("the other invocation: %v", otherErr)
		}
		if err != nil {
			t.Fatalf("setSecret racing another: %v", err)
		}
		if err := e.steps(d.arn, token, rotation.StepTest, rotation.StepFinish); err != nil {
			t.Fatal(err)
		}
		d.checkGrants(t, e.root, d.user)
	}
	t.Run("account created after the AWSPENDING login", func(t *testing.T) {
		d := e.declared(t, "SELECT")
		token := e.start(d.arn)
		if err := e.step(d.arn, token, rotation.StepCreate); err != nil {
			t.Fatal(err)
		}
		var started bool // the other invocation passes here too: once only
		var otherErr error
		e.h.Checkpoint = func(name string) error {
			if name == "setSecret:after-login-pending" && !started {
				started = true
				otherErr = e.step(d.arn, token, rotation.StepSet)
			}
			return nil
		}
		defer func() { e.h.Checkpoint = func(string) error { return nil } }()
		err := e.step(d.arn, token, rotation.StepSet)
		check(t, d, token, err, otherErr)
	})
	t.Run("account created between the existence check and CREATE USER", func(t *testing.T) {
		d := e.declared(t, "SELECT")
		token := e.start(d.arn)
		if err := e.step(d.arn, token, rotation.StepCreate); err != nil {
			t.Fatal(err)
		}
		var started bool
		var otherErr error
		inner := e.h.DB
		e.h.DB = racingDB{Database: inner, afterExists: func() {
			if !started {
				started = true
				otherErr = e.step(d.arn, token, rotation.StepSet)
			}
		}}
		defer func() { e.h.DB = inner }()
		err := e.step(d.arn, token, rotation.StepSet)
		check(t, d, token, err, otherErr)
	})
}

// racingDB calls afterExists after every AccountExists: a test runs
// another invocation there.
type racingDB struct {
	database.Database
	afterExists func()
}

func (d racingDB) Login(ctx context.Context, l database.Login) (database.Session, error) {
	s, err := d.Database.Login(ctx, l)
	if err != nil {
		return nil, err
	}
	return racingSession{Session: s, afterExists: d.afterExists}, nil
}

type racingSession struct {
	database.Session
	afterExists func()
}

func (s racingSession) AccountExists(ctx context.Context, a database.Account) (bool, error) {
	ok, err := s.Session.AccountExists(ctx, a)
	s.afterExists()
	return ok, err
}

// The same for an AWS-shaped alternating secret (not declared): the
// secret, not a declaration, names the account, so the rotator does not use
// the master to restore a password the database rejects (see
// TestAlternatingSecretNamingAnotherAccountIsRefused). The rotation stops
// with the fix and changes no account; with the password put back, the
// same rotation finishes.
func TestReaderChangesAWSCURRENTPasswordAlternating(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(true)
	if err := e.rotate(f.arn); err != nil {
		t.Fatal(err)
	}
	cur := e.get(f.arn, rotation.StageCurrent)
	e.setOwnPassword(t, cur.Username, cur.Password, "readers-own-password-3")
	err := e.rotate(f.arn)
	if err == nil || !strings.Contains(err.Error(), "rejected AWSCURRENT's password") || !strings.Contains(err.Error(), "set it back") {
		t.Fatalf("rotation after the reader changed AWSCURRENT's password = %v, want a refusal that says what to fix", err)
	}
	if !testdb.CanLogin(t, testdb.Addr(), cur.Username, "readers-own-password-3") {
		t.Fatal("the rotator changed the password of an account whose AWSCURRENT does not log in")
	}
	// The operator puts AWSCURRENT's password back and retries the steps.
	testdb.Exec(t, e.root, "SET PASSWORD FOR `"+cur.Username+"`@`%` = PASSWORD('"+cur.Password+"')")
	token := e.holder(f.arn, rotation.StagePending)
	if err := e.steps(f.arn, token, rotation.StepSet, rotation.StepTest, rotation.StepFinish); err != nil {
		t.Fatalf("the rotation after the password was put back: %v", err)
	}
	if e.holder(f.arn, rotation.StageCurrent) != token {
		t.Fatal("the retried rotation did not finish")
	}
}

// Whoever may write an AWS-shaped alternating secret names another account
// in AWSCURRENT, with a password of their choosing: the rotator must not
// give that account the password with the master's rights (the confused
// deputy AWS's template guards against), whichever account it is.
func TestAlternatingSecretNamingAnotherAccountIsRefused(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(true)
	victim := testdb.Name("victim_")
	testdb.CreateUser(t, e.root, victim, "victims-password-1")
	e.extraSecrets = append(e.extraSecrets, "victims-password-1")
	var v map[string]any
	if err := json.Unmarshal([]byte(e.raw(f.arn, rotation.StageCurrent)), &v); err != nil {
		t.Fatal(err)
	}
	v["username"], v["password"] = victim, "chosen-password-1"
	if _, err := e.sm.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{SecretId: aws.String(f.arn), SecretString: aws.String(mustJSON(t, v))}); err != nil {
		t.Fatal(err)
	}
	if err := e.rotate(f.arn); err == nil || !strings.Contains(err.Error(), "rejected AWSCURRENT's password for "+victim) {
		t.Fatalf("rotation of a secret naming another account = %v, want a refusal", err)
	}
	if testdb.CanLogin(t, testdb.Addr(), victim, "chosen-password-1") || !testdb.CanLogin(t, testdb.Addr(), victim, "victims-password-1") {
		t.Fatal("the rotator changed the password of the account the secret named")
	}
}

// resetRecorder records whose account each ResetAccount call resets.
type resetRecorder struct {
	inner database.Database
	mu    *sync.Mutex
	users *[]string
}

func (d resetRecorder) Login(ctx context.Context, l database.Login) (database.Session, error) {
	s, err := d.inner.Login(ctx, l)
	if err != nil {
		return nil, err
	}
	return resetRecordingSession{Session: s, d: d}, nil
}

type resetRecordingSession struct {
	database.Session
	d resetRecorder
}

func (s resetRecordingSession) ResetAccount(ctx context.Context, a database.Account, pw string, plain bool) error {
	s.d.mu.Lock()
	*s.d.users = append(*s.d.users, a.User)
	s.d.mu.Unlock()
	return s.Session.ResetAccount(ctx, a, pw, plain)
}

// AWSCURRENT's account is in use by the applications: when it is exactly
// as declared and its password logs in, the rotation does not set that
// password again; the pending account is always reset.
func TestCurrentAccountAsDeclaredIsLeftAlone(t *testing.T) {
	e := newEnv(t)
	d := e.provisioned(t, "SELECT")
	cur := e.get(d.arn, rotation.StageCurrent)
	prev := e.get(d.arn, rotation.StagePrevious)
	var users []string
	e.h.DB = resetRecorder{inner: e.h.DB, mu: &sync.Mutex{}, users: &users}
	if err := e.rotate(d.arn); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(users, prev.Username) {
		t.Errorf("the pending account %s was not reset (reset: %v)", prev.Username, users)
	}
	if slices.Contains(users, cur.Username) {
		t.Errorf("AWSCURRENT's account %s, exactly as declared, was reset (reset: %v)", cur.Username, users)
	}
}

// expiringDB answers, as MySQL 8 does with disconnect_on_expired_password,
// that the password of user has expired, for every login as user.
type expiringDB struct {
	database.Database
	user string
}

func (d expiringDB) Login(ctx context.Context, l database.Login) (database.Session, error) {
	if l.User == d.user {
		return nil, fmt.Errorf("log in as %s: %w (MySQL error 1862)", l.User, database.ErrPasswordExpired)
	}
	return d.Database.Login(ctx, l)
}

// AWSCURRENT's password has expired, and the server refuses its login
// (MySQL 8): the master resets AWSCURRENT's account, which clears the
// expiry, and the rotation goes on.
func TestExpiredCurrentAccountIsResetByTheMaster(t *testing.T) {
	e := newEnv(t)
	d := e.provisioned(t, "SELECT")
	cur := e.get(d.arn, rotation.StageCurrent)
	var users []string
	e.h.DB = resetRecorder{inner: expiringDB{Database: e.h.DB, user: cur.Username}, mu: &sync.Mutex{}, users: &users}
	if err := e.rotate(d.arn); err != nil {
		t.Fatalf("rotation with AWSCURRENT's password expired: %v", err)
	}
	if !slices.Contains(users, cur.Username) {
		t.Errorf("AWSCURRENT's account %s was not reset (reset: %v)", cur.Username, users)
	}
	if !contains(e.logs.String(), "AWSCURRENT's password had expired on the server") || contains(e.logs.String(), "changed outside rotation") {
		t.Error("the log does not say that AWSCURRENT's password had expired, or says it was changed")
	}
}

// liftedExpiry answers, as MySQL 8 does, that user's password has expired
// when it is the right one (the server checks it first), until a master
// resets that account.
type liftedExpiry struct {
	database.Database
	user string
	mu   *sync.Mutex
	done *bool
}

func (d liftedExpiry) Login(ctx context.Context, l database.Login) (database.Session, error) {
	s, err := d.Database.Login(ctx, l)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	expired := l.User == d.user && !*d.done
	d.mu.Unlock()
	if expired {
		_ = s.Close()
		return nil, fmt.Errorf("log in as %s: %w (MySQL error 1862)", l.User, database.ErrPasswordExpired)
	}
	return liftingSession{Session: s, d: d}, nil
}

type liftingSession struct {
	database.Session
	d liftedExpiry
}

func (s liftingSession) ResetAccount(ctx context.Context, a database.Account, pw string, plain bool) error {
	err := s.Session.ResetAccount(ctx, a, pw, plain)
	if err == nil && a.User == s.d.user {
		s.d.mu.Lock()
		*s.d.done = true
		s.d.mu.Unlock()
	}
	return err
}

// A first rotation, cancelled after setSecret, created the account that
// only its unlabelled version names, and the account's password then
// expired: the server still accepts that password (MySQL 8 refuses the
// login after checking it), which proves the account is the vault's, so
// the next rotation takes it up instead of refusing it as another's.
func TestExpiredPendingAccountIsStillTheVaults(t *testing.T) {
	e := newEnv(t)
	d := e.declared(t, "SELECT")
	token := e.start(d.arn)
	if err := e.steps(d.arn, token, rotation.StepCreate, rotation.StepSet); err != nil {
		t.Fatal(err)
	}
	pending := e.get(d.arn, rotation.StagePending).Username
	e.removePending(d.arn)
	done := false
	e.h.DB = liftedExpiry{Database: e.h.DB, user: pending, mu: &sync.Mutex{}, done: &done}
	if err := e.rotate(d.arn); err != nil {
		t.Fatalf("rotation after an unfinished one whose account's password expired: %v", err)
	}
	if !done {
		t.Error("the pending account was not reset")
	}
}
