package rotation_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/dbvault/dbvault/functions/rotator/checkpoint"
	"github.com/dbvault/dbvault/functions/rotator/internal/rotation"
	"github.com/dbvault/dbvault/functions/rotator/internal/testdb"
	"github.com/dbvault/dbvault/functions/rotator/smlocal"
)

var errCrash = errors.New("simulated crash")

// rotationFixture is a user with its secret, for one strategy.
type rotationFixture struct {
	arn, user, password string
	alternating         bool
	// declared: a declared application user (APP_USERS), first rotation
	// from an unprovisioned secret.
	declared *declaredFixture
}

func (e *env) fixture(alternating bool) rotationFixture {
	e.t.Helper()
	f := rotationFixture{user: testdb.Name("rt_"), password: "initial-password-1", alternating: alternating}
	// Two grant rows, so that a crash can come between two GRANTs of the
	// clone (databases need not exist for a grant on MariaDB).
	testdb.CreateUser(e.t, e.root, f.user, f.password, "SELECT ON `"+f.user+"_a`.*", "INSERT ON `"+f.user+"_b`.*")
	var extra map[string]any
	if alternating {
		master := testdb.Name("rtm_")
		testdb.CreateUser(e.t, e.root, master, "master-password-1")
		testdb.Exec(e.t, e.root, "GRANT ALL PRIVILEGES ON *.* TO `"+master+"`@`%` WITH GRANT OPTION")
		extra = map[string]any{"masterarn": e.newSecret(dbSecret(e.t, master, "master-password-1", nil))}
	}
	f.arn = e.newSecret(dbSecret(e.t, f.user, f.password, extra))
	return f
}

// converged checks that the rotation to token finished with nothing lost:
// token is AWSCURRENT and logs in, the version before it is AWSPREVIOUS;
// single user: the old password no longer logs in; alternating users: the
// previous user still does.
func (e *env) converged(f rotationFixture, token, before string) {
	e.t.Helper()
	if got := e.holder(f.arn, rotation.StageCurrent); got != token {
		e.t.Fatalf("AWSCURRENT is %s, want %s", got, token)
	}
	if got := e.holder(f.arn, rotation.StagePrevious); got != before {
		e.t.Fatalf("AWSPREVIOUS is %s, want the former AWSCURRENT %s", got, before)
	}
	e.checkLabels(f.arn)
	cur, prev := e.get(f.arn, rotation.StageCurrent), e.get(f.arn, rotation.StagePrevious)
	if !testdb.CanLogin(e.t, testdb.Addr(), cur.Username, cur.Password) {
		e.t.Fatal("AWSCURRENT does not log in")
	}
	if d := f.declared; d != nil {
		// Whatever point the crash came at, the retry left exactly the
		// declared privileges.
		d.checkGrants(e.t, e.root, cur.Username)
	}
	if f.alternating {
		if prev.Password == "" && f.declared != nil {
			return // the unprovisioned first version: nothing to log in with
		}
		if !testdb.CanLogin(e.t, testdb.Addr(), prev.Username, prev.Password) {
			e.t.Fatal("AWSPREVIOUS's user no longer logs in")
		}
	} else if testdb.CanLogin(e.t, testdb.Addr(), prev.Username, prev.Password) {
		e.t.Fatal("the old password still logs in")
	}
}

// TestRecoveryAfterEveryCheckpoint stops a rotation at each named
// checkpoint (a crash there: nothing after it runs), then runs a fresh
// invocation either of the step that was stopped and those after it
// ("resume") or of the whole rotation from createSecret with the same token
// ("restart", what Secrets Manager does when it retries), and shows that
// both converge with nothing lost.
func TestRecoveryAfterEveryCheckpoint(t *testing.T) {
	e := newEnv(t)
	notReached := map[string]map[string]bool{
		"single": {"setSecret:after-get-previous": true, "setSecret:after-get-master": true, "setSecret:after-create-user": true,
			"setSecret:after-grants": true, "mysql:after-grant": true, "mysql:after-require": true,
			"setSecret:after-create-database": true, "mysql:after-revoke": true},
		// after-get-previous: only when AWSCURRENT is rejected
		// (TestSingleUserFallsBackToPrevious); after-require: only for a user
		// with REQUIRE, who cannot log in over this plaintext server
		// (TestCopyGrantsKeepsGrantOptionAndRequire stops there).
		"alternating": {"setSecret:after-get-previous": true, "mysql:after-require": true,
			"setSecret:after-create-database": true, "mysql:after-revoke": true},
		// after-revoke: only when the declaration shrank
		// (TestDeclaredUsersFollowTheDeclaration stops there).
		"declared": {"setSecret:after-get-previous": true, "mysql:after-require": true, "mysql:after-revoke": true},
	}
	for _, strategy := range []string{"single", "alternating", "declared"} {
		for _, point := range checkpoint.Names {
			for _, mode := range []string{"resume", "restart"} {
				t.Run(strategy+"/"+point+"/"+mode, func(t *testing.T) {
					var f rotationFixture
					if strategy == "declared" {
						d := e.declared(t, "SELECT", "INSERT", "UPDATE")
						f = rotationFixture{arn: d.arn, user: d.user, alternating: true, declared: &d}
					} else {
						f = e.fixture(strategy == "alternating")
					}
					before := e.holder(f.arn, rotation.StageCurrent)
					token := e.start(f.arn)
					fired := false
					e.h.Checkpoint = func(name string) error {
						if !slices.Contains(checkpoint.Names, name) {
							t.Errorf("checkpoint %q is not in checkpoint.Names (and README)", name)
						}
						if name == point && !fired {
							fired = true
							return errCrash
						}
						return nil
					}
					failedAt := -1
					for i, s := range allSteps {
						if err := e.step(f.arn, token, s); err != nil {
							if !errors.Is(err, errCrash) && !fired {
								t.Fatalf("%s failed before the checkpoint: %v", s, err)
							}
							failedAt = i
							break
						}
					}
					e.h.Checkpoint = func(string) error { return nil }
					if notReached[strategy][point] {
						if fired {
							t.Fatalf("checkpoint %s was reached, but the test lists it as not reached", point)
						}
						return
					}
					if !fired || failedAt < 0 {
						t.Fatalf("checkpoint %s was never reached", point)
					}
					from := failedAt
					if mode == "restart" {
						from = 0
					}
					if err := e.steps(f.arn, token, allSteps[from:]...); err != nil {
						t.Fatalf("recovery from %s: %v", allSteps[from], err)
					}
					e.converged(f, token, before)
					// And the next rotation works as usual.
					if err := e.rotate(f.arn); err != nil {
						t.Fatalf("next rotation: %v", err)
					}
				})
			}
		}
	}
}

// The database goes back to AWSPREVIOUS's password (a restore from a
// snapshot taken before the last rotation): AWSCURRENT no longer logs in,
// and setSecret must fall back to AWSPREVIOUS (and log that it did), and
// say clearly when no stored password works. The other history that leaves
// AWSCURRENT rejected, an unfinished rotation whose AWSPENDING label was
// removed, is TestSingleUserRecoversUnfinishedRotation: AWSPREVIOUS does
// not help there.
func TestSingleUserFallsBackToPrevious(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(false)
	if err := e.rotate(f.arn); err != nil {
		t.Fatal(err)
	}
	prev := e.get(f.arn, rotation.StagePrevious)
	reached := false
	// The database goes back to AWSPREVIOUS's password (a restore, say).
	testdb.Exec(t, e.root, "ALTER USER `"+f.user+"`@`%` IDENTIFIED BY '"+prev.Password+"'")
	e.h.Checkpoint = func(name string) error {
		if name == "setSecret:after-get-previous" {
			reached = true
		}
		return nil
	}
	if err := e.rotate(f.arn); err != nil {
		t.Fatalf("rotation with only AWSPREVIOUS valid: %v", err)
	}
	if !reached || !contains(e.logs.String(), "logged in with AWSPREVIOUS") {
		t.Fatal("the rotation did not fall back to AWSPREVIOUS")
	}
	cur := e.get(f.arn, rotation.StageCurrent)
	if !testdb.CanLogin(t, testdb.Addr(), f.user, cur.Password) {
		t.Fatal("AWSCURRENT does not log in")
	}
	// Now a password nobody knows: every stored one is rejected.
	testdb.Exec(t, e.root, "ALTER USER `"+f.user+"`@`%` IDENTIFIED BY 'changed-outside-rotation'")
	e.extraSecrets = append(e.extraSecrets, "changed-outside-rotation")
	err := e.rotate(f.arn)
	if err == nil {
		t.Fatal("rotation succeeded although no stored password works")
	}
	for _, want := range []string{"setSecret: cannot log in with AWSPENDING, AWSCURRENT or AWSPREVIOUS as " + f.user, "was the password changed outside rotation?"} {
		if !contains(err.Error(), want) {
			t.Fatalf("error %q does not say %q", err, want)
		}
	}
}

// TestSingleUserRecoversUnfinishedRotation: rotation A runs createSecret
// and setSecret (the database now holds A's password), then its AWSPENDING
// label is removed (CancelRotateSecret, or the clean-up AWS documents for
// a failed rotation) before finishSecret. A's password is now only in an
// unlabelled version. Rotation B must still set its password: AWSCURRENT
// and AWSPREVIOUS are rejected, A's version logs in, and the log names it
// by id.
func TestSingleUserRecoversUnfinishedRotation(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(false)
	tokenA := e.unfinished(t, f.arn, 1) // after one rotation, so that AWSPREVIOUS exists and is wrong too
	before := e.holder(f.arn, rotation.StageCurrent)
	if err := e.rotate(f.arn); err != nil {
		t.Fatalf("rotation after an unfinished one: %v", err)
	}
	cur := e.get(f.arn, rotation.StageCurrent)
	if e.holder(f.arn, rotation.StagePrevious) != before || !testdb.CanLogin(t, testdb.Addr(), f.user, cur.Password) {
		t.Fatal("the rotation did not converge")
	}
	if !contains(e.logs.String(), `"used_version":"`+tokenA+`"`) {
		t.Fatal("the log does not name the version whose password logged in")
	}
}

// The same recovery when Secrets Manager answers ListSecretVersionIds in
// short pages, an empty one first (as AWS may), behind several rotations:
// the rotator reads the list to its end, not a fixed number of pages.
func TestRecoveryReadsEveryPageOfVersions(t *testing.T) {
	e := newEnv(t, func(o *smlocal.Options) { o.ShortPages = true })
	f := e.fixture(false)
	token := e.unfinished(t, f.arn, 6)
	if err := e.rotate(f.arn); err != nil {
		t.Fatalf("rotation after an unfinished one, versions listed in short pages: %v", err)
	}
	if !contains(e.logs.String(), `"used_version":"`+token+`"`) {
		t.Fatal("the log does not name the version whose password logged in")
	}
}

// repeatingTokens is a Secrets Manager whose version list never ends: every
// page hands back the same NextToken.
type repeatingTokens struct {
	rotation.SecretsManager
}

func (r repeatingTokens) ListSecretVersionIds(ctx context.Context, in *secretsmanager.ListSecretVersionIdsInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.ListSecretVersionIdsOutput, error) {
	first := *in
	first.NextToken = nil
	out, err := r.SecretsManager.ListSecretVersionIds(ctx, &first, opts...)
	if err == nil {
		out.NextToken = aws.String("same")
	}
	return out, err
}

// A version list that hands back the same NextToken twice is refused at
// once, not read up to the bound while the function's time runs out.
func TestVersionListThatNeverEndsIsRefused(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(false)
	e.unfinished(t, f.arn, 1)
	e.h.SM = repeatingTokens{e.h.SM}
	_ = e.rotate(f.arn) // without the list, the unfinished rotation's password is not tried
	if !contains(e.logs.String(), "the service gave the same NextToken twice") {
		t.Fatal("the log does not say the version list repeated its NextToken")
	}
}

// unfinished rotates arn n times, then leaves a rotation as a cancelled one
// does: createSecret and setSecret ran, and its AWSPENDING label was removed
// before finishSecret. It returns that rotation's token.
func (e *env) unfinished(t *testing.T, arn string, n int) string {
	t.Helper()
	for range n {
		if err := e.rotate(arn); err != nil {
			t.Fatal(err)
		}
	}
	token := e.start(arn)
	if err := e.steps(arn, token, rotation.StepCreate, rotation.StepSet); err != nil {
		t.Fatal(err)
	}
	e.removePending(arn)
	return token
}

// Two invocations of createSecret for one token (Secrets Manager retries
// during the rotation window) overlap: the other stores its value between
// this one's check and its PutSecretValue, which then fails. That value is
// kept as the version's AWSPENDING, and the step succeeds, as a retry
// would; the rotation then finishes with it.
func TestOverlappingCreateSecretKeepsTheOtherValue(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(false)
	token := e.start(f.arn)
	other := dbSecret(t, f.user, "the-other-invocations-password-1", nil)
	e.h.Checkpoint = func(name string) error {
		if name != checkpoint.CreateAfterRandomPassword {
			return nil
		}
		_, err := e.sm.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{
			SecretId: aws.String(f.arn), ClientRequestToken: aws.String(token),
			SecretString: aws.String(other), VersionStages: []string{rotation.StagePending}})
		return err
	}
	err := e.step(f.arn, token, rotation.StepCreate)
	e.h.Checkpoint = nil
	if err != nil {
		t.Fatalf("createSecret beside another invocation: %v", err)
	}
	if got := e.raw(f.arn, rotation.StagePending); got != other {
		t.Fatalf("AWSPENDING is %q, want the other invocation's value", got)
	}
	if err := e.steps(f.arn, token, rotation.StepSet, rotation.StepTest, rotation.StepFinish); err != nil {
		t.Fatalf("the rest of the rotation: %v", err)
	}
	if !testdb.CanLogin(t, testdb.Addr(), f.user, "the-other-invocations-password-1") {
		t.Fatal("the kept value is not the password")
	}
}
