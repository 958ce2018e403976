package rotation_test

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/dbvault/dbvault/functions/rotator/appusers"
	"github.com/dbvault/dbvault/functions/rotator/internal/rotation"
	"github.com/dbvault/dbvault/functions/rotator/internal/testdb"
)

// declaredFixture is a declared application user: the master user and its
// secret in the RDS-managed shape ({"username", "password"} only), the
// declaration in the handler's AppUsers, and the unprovisioned secret the
// deployer writes (AWS's shape without a password).
type declaredFixture struct {
	arn, name, user, db  string
	masterARN, masterRaw string
	master, masterPW     string
	addr                 string
	e                    *env
}

func (e *env) declared(t testing.TB, privileges ...string) declaredFixture {
	t.Helper()
	return e.declaredOn(t, e.root, testdb.Addr(), privileges...)
}

// declaredOn makes the fixture on the server at addr, root its admin.
func (e *env) declaredOn(t testing.TB, root *sql.DB, addr string, privileges ...string) declaredFixture {
	t.Helper()
	d := declaredFixture{user: testdb.Name("rta_"), db: testdb.Name("rtdb_"), name: testdb.Name("db-credentials-"), addr: addr, e: e}
	d.master, d.masterPW = testdb.Name("rtm_"), "master-password-1"
	testdb.CreateUser(t, root, d.master, d.masterPW)
	testdb.Exec(t, root, "GRANT ALL PRIVILEGES ON *.* TO `"+d.master+"`@`%` WITH GRANT OPTION")
	testdb.DropUserAtEnd(t, root, d.user)
	t.Cleanup(func() { _, _ = root.Exec("DROP DATABASE IF EXISTS `" + d.db + "`") })
	d.masterRaw = mustJSON(t, map[string]any{"username": d.master, "password": d.masterPW})
	d.masterARN = e.newSecret(d.masterRaw)
	if e.h.Config.AppUsers == nil {
		e.h.Config.AppUsers = map[string]appusers.User{}
	}
	d.declare(privileges...)
	h, p := testdb.HostPort(t, addr)
	d.arn = e.newNamedSecret(d.name, mustJSON(t, map[string]any{
		"engine": "aurora-mysql", "host": h, "port": p, "username": d.user, "dbname": d.db,
		"masterarn": d.masterARN, "dbClusterIdentifier": "vault-cluster",
	}))
	return d
}

// declare sets (or changes) the declaration, as a new deployment would.
func (d declaredFixture) declare(privileges ...string) {
	d.e.h.Config.AppUsers[d.name] = appusers.User{Username: d.user, Database: d.db, Privileges: privileges}
}

// privileges returns the privileges user@% holds on the fixture's database
// and every other grant row it has (USAGE ON *.* left out).
func (d declaredFixture) privileges(t testing.TB, root *sql.DB, user string) (onDB []string, other []string) {
	t.Helper()
	for _, row := range testdb.Grants(t, root, user) {
		head, _, _ := strings.Cut(row, " TO ")
		switch {
		case strings.HasPrefix(head, "GRANT USAGE ON *.*") && !strings.Contains(row, "WITH GRANT OPTION"):
		case strings.HasSuffix(head, " ON `"+strings.ReplaceAll(d.db, "_", `\_`)+"`.*"), strings.HasSuffix(head, " ON `"+d.db+"`.*"):
			list := strings.TrimPrefix(head[:strings.LastIndex(head, " ON ")], "GRANT ")
			onDB = append(onDB, strings.Split(list, ", ")...)
			if strings.Contains(row, "WITH GRANT OPTION") {
				other = append(other, row)
			}
		default:
			other = append(other, row)
		}
	}
	slices.Sort(onDB)
	return onDB, other
}

// checkGrants fails unless user has exactly the declared privileges.
func (d declaredFixture) checkGrants(t testing.TB, root *sql.DB, user string) {
	t.Helper()
	want := slices.Clone(d.e.h.Config.AppUsers[d.name].Privileges)
	slices.Sort(want)
	got, other := d.privileges(t, root, user)
	if !slices.Equal(got, want) || len(other) > 0 {
		t.Fatalf("%s holds %v on %s and %v elsewhere; declared: %v", user, got, d.db, other, want)
	}
}

func TestDeclaredUsersProvisionAndAlternate(t *testing.T) {
	e := newEnv(t)
	d := e.declared(t, "SELECT", "INSERT", "UPDATE", "DELETE")
	e.h.Config.MasterSecretARN = d.masterARN
	masterVersions := len(e.stages(d.masterARN))

	if err := e.rotate(d.arn); err != nil {
		t.Fatalf("first rotation: %v", err)
	}
	cur := e.get(d.arn, rotation.StageCurrent)
	if cur.Username != d.user || len(cur.Password) != 32 || cur.DBName != d.db || cur.MasterARN != d.masterARN {
		t.Fatalf("first rotation: AWSCURRENT is user %s, dbname %s, password of %d characters", cur.Username, cur.DBName, len(cur.Password))
	}
	if !testdb.CanLogin(t, testdb.Addr(), d.user, cur.Password) {
		t.Fatal("the provisioned user does not log in")
	}
	var one int
	if err := testdb.OpenAs(t, testdb.Addr(), d.user, cur.Password, d.db).QueryRow("SELECT 1").Scan(&one); err != nil {
		t.Fatalf("the provisioned user cannot use its database: %v", err)
	}
	d.checkGrants(t, e.root, d.user)
	if raw := e.raw(d.arn, rotation.StageCurrent); !strings.Contains(raw, `"dbClusterIdentifier":"vault-cluster"`) || !strings.Contains(raw, `"engine":"aurora-mysql"`) {
		t.Fatal("the first rotation dropped a key of the deployer's value")
	}

	const n = 6
	for i := 2; i <= n; i++ {
		if err := e.rotate(d.arn); err != nil {
			t.Fatalf("rotation %d: %v", i, err)
		}
		e.checkLabels(d.arn)
		cur, prev := e.get(d.arn, rotation.StageCurrent), e.get(d.arn, rotation.StagePrevious)
		want := d.user + "_clone"
		if i%2 == 1 {
			want = d.user
		}
		if cur.Username != want || prev.Username == cur.Username {
			t.Fatalf("rotation %d: AWSCURRENT user %s (want %s), AWSPREVIOUS user %s", i, cur.Username, want, prev.Username)
		}
		if !testdb.CanLogin(t, testdb.Addr(), cur.Username, cur.Password) || !testdb.CanLogin(t, testdb.Addr(), prev.Username, prev.Password) {
			t.Fatalf("rotation %d: AWSCURRENT or AWSPREVIOUS does not log in", i)
		}
		d.checkGrants(t, e.root, cur.Username)
	}
	// The rotator only reads the master secret.
	if got := e.raw(d.masterARN, rotation.StageCurrent); got != d.masterRaw || len(e.stages(d.masterARN)) != masterVersions {
		t.Fatal("the master secret changed")
	}
	if !testdb.CanLogin(t, testdb.Addr(), d.master, d.masterPW) {
		t.Fatal("the master's password changed")
	}
}

// A changed declaration reaches the next pending user: what was removed is
// revoked (and a crash between two REVOKEs is repaired), what was added is
// granted, and grants added by hand are taken away.
func TestDeclaredUsersFollowTheDeclaration(t *testing.T) {
	e := newEnv(t)
	d := e.declared(t, "SELECT", "INSERT", "UPDATE", "DELETE")
	for i := 0; i < 2; i++ { // the user, then the clone
		if err := e.rotate(d.arn); err != nil {
			t.Fatalf("rotation %d: %v", i+1, err)
		}
	}
	// The user (AWSPREVIOUS now) got an extra grant by hand, and the
	// declaration changes: UPDATE and DELETE removed, CREATE added.
	other := testdb.Name("rtdbx_")
	testdb.CreateDatabase(t, e.root, other)
	testdb.Exec(t, e.root, "GRANT SELECT ON `"+other+"`.* TO `"+d.user+"`@`%`",
		"GRANT PROCESS ON *.* TO `"+d.user+"`@`%`",
		"GRANT INDEX ON `"+strings.ReplaceAll(d.db, "_", `\_`)+"`.* TO `"+d.user+"`@`%` WITH GRANT OPTION")
	d.declare("SELECT", "INSERT", "CREATE")

	// Stopped after the first REVOKE, then resumed: converges.
	token := e.start(d.arn)
	stops := 0
	e.h.Checkpoint = func(name string) error {
		if name == "mysql:after-revoke" && stops == 0 {
			stops++
			return errCrash
		}
		return nil
	}
	if err := e.steps(d.arn, token, allSteps...); err == nil || !strings.Contains(err.Error(), "stopped at checkpoint mysql:after-revoke") {
		t.Fatalf("rotation stopped after a REVOKE: %v", err)
	}
	e.h.Checkpoint = func(string) error { return nil }
	if err := e.steps(d.arn, token, rotation.StepSet, rotation.StepTest, rotation.StepFinish); err != nil {
		t.Fatalf("resumed: %v", err)
	}
	cur := e.get(d.arn, rotation.StageCurrent)
	if cur.Username != d.user {
		t.Fatalf("AWSCURRENT is %s, want %s", cur.Username, d.user)
	}
	d.checkGrants(t, e.root, d.user)
	// The clone (AWSCURRENT during that rotation, AWSPREVIOUS now, still in
	// use) keeps the privileges the declaration dropped until its turn
	// comes; the one it added reached it with the reset of AWSCURRENT's
	// account.
	if got, _ := d.privileges(t, e.root, d.user+"_clone"); !slices.Equal(got, []string{"CREATE", "DELETE", "INSERT", "SELECT", "UPDATE"}) {
		t.Fatalf("the clone's privileges before its turn: %v", got)
	}
	if err := e.rotate(d.arn); err != nil {
		t.Fatal(err)
	}
	d.checkGrants(t, e.root, d.user+"_clone")
}

// The vault never takes over an account it did not create: a pre-existing
// user, or a pre-existing clone, is refused and left as it was.
func TestDeclaredUsersRefuseTakeover(t *testing.T) {
	e := newEnv(t)
	check := func(t *testing.T, err error, account, password string, grantsBefore []string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), "the vault will not take over an account it did not create") || !strings.Contains(err.Error(), account+"@%") {
			t.Fatalf("rotation onto the existing %s: %v", account, err)
		}
		if !testdb.CanLogin(t, testdb.Addr(), account, password) {
			t.Fatalf("the password of %s changed", account)
		}
		if got := testdb.Grants(t, e.root, account); !slices.Equal(got, grantsBefore) {
			t.Fatalf("the grants of %s changed:\n%s\n---\n%s", account, strings.Join(grantsBefore, "\n"), strings.Join(got, "\n"))
		}
	}
	t.Run("existing user", func(t *testing.T) {
		d := e.declared(t, "SELECT")
		testdb.Exec(t, e.root, "CREATE DATABASE IF NOT EXISTS `"+d.db+"`")
		testdb.CreateUser(t, e.root, d.user, "someone-elses-1", "ALL PRIVILEGES ON `"+d.db+"`.*")
		before := testdb.Grants(t, e.root, d.user)
		check(t, e.rotate(d.arn), d.user, "someone-elses-1", before)
	})
	t.Run("existing clone", func(t *testing.T) {
		d := e.declared(t, "SELECT")
		if err := e.rotate(d.arn); err != nil {
			t.Fatal(err)
		}
		testdb.CreateUser(t, e.root, d.user+"_clone", "someone-elses-2", "SELECT, DELETE ON `"+d.db+"`.*")
		before := testdb.Grants(t, e.root, d.user+"_clone")
		check(t, e.rotate(d.arn), d.user+"_clone", "someone-elses-2", before)
	})
	t.Run("existing clone, AWS-shaped secret", func(t *testing.T) {
		f := e.fixture(true)
		testdb.CreateUser(t, e.root, f.user+"_clone", "someone-elses-3", "SELECT ON `"+f.user+"_c`.*")
		before := testdb.Grants(t, e.root, f.user+"_clone")
		check(t, e.rotate(f.arn), f.user+"_clone", "someone-elses-3", before)
	})
}

// A declared secret whose value was edited is refused before anything is
// created; the master it uses is always MASTER_SECRET_ARN's.
func TestDeclaredUsersRefuseEditedSecrets(t *testing.T) {
	e := newEnv(t)
	t.Run("masterarn is not MASTER_SECRET_ARN", func(t *testing.T) {
		// MASTER_SECRET_ARN (the deployer's) wins over the secret's
		// masterarn: a master it does not name is never used.
		d := e.declared(t, "SELECT")
		e.h.Config.MasterSecretARN = e.newSecret(mustJSON(t, map[string]any{"username": "other", "password": "other-password-1"}))
		defer func() { e.h.Config.MasterSecretARN = "" }()
		err := e.rotate(d.arn)
		if err == nil || !strings.Contains(err.Error(), "the database rejected the master secret's password (other)") {
			t.Fatalf("rotation with another master configured: %v", err)
		}
		if n := userCount(t, e.root, d.user); n != 0 {
			t.Fatal("the user was created")
		}
	})
	t.Run("master secret mid-rotation", func(t *testing.T) {
		// RDS is rotating the master secret: AWSCURRENT's password no
		// longer works, and the error says why and that it passes.
		d := e.declared(t, "SELECT")
		master := e.newSecret(mustJSON(t, map[string]any{"username": "other", "password": "old-password-1"}))
		if _, err := e.sm.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{
			SecretId: aws.String(master), SecretString: aws.String(mustJSON(t, map[string]any{"username": "other", "password": "new-password-1"})),
			ClientRequestToken: aws.String("11111111-2222-3333-4444-555555555555"), VersionStages: []string{rotation.StagePending},
		}); err != nil {
			t.Fatal(err)
		}
		e.h.Config.MasterSecretARN = master
		defer func() { e.h.Config.MasterSecretARN = "" }()
		err := e.rotate(d.arn)
		if err == nil || !strings.Contains(err.Error(), "the database rejected the master secret's password (other), and the master secret has an AWSPENDING version (11111111-2222-3333-4444-555555555555): if RDS is rotating it") {
			t.Fatalf("rotation while the master secret rotates: %v", err)
		}
	})
	t.Run("masterarn refreshed to MASTER_SECRET_ARN", func(t *testing.T) {
		// The cluster's master secret changed (a replaced cluster): the
		// secret still names the old one, the configured one is used, and
		// the new version names it.
		d := e.declared(t, "SELECT")
		e.h.Config.MasterSecretARN = e.newSecret(d.masterRaw)
		defer func() { e.h.Config.MasterSecretARN = "" }()
		if err := e.rotate(d.arn); err != nil {
			t.Fatal(err)
		}
		if got := e.get(d.arn, rotation.StageCurrent).MasterARN; got != e.h.Config.MasterSecretARN {
			t.Fatalf("the new version names the master %s, want MASTER_SECRET_ARN", got)
		}
		if n := userCount(t, e.root, d.user); n != 1 {
			t.Fatal("the user was not created")
		}
	})
	t.Run("username edited", func(t *testing.T) {
		d := e.declared(t, "SELECT")
		// Someone with write access points the secret at another account.
		victim := testdb.Name("rtv_")
		testdb.CreateUser(t, e.root, victim, "victim-password-1", "SELECT ON `"+d.db+"`.*")
		edited := e.get(d.arn, rotation.StageCurrent).WithCredentials(victim, "victim-password-1")
		value, err := edited.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.sm.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{SecretId: aws.String(d.arn), SecretString: aws.String(value)}); err != nil {
			t.Fatal(err)
		}
		err = e.rotate(d.arn)
		if err == nil || !strings.Contains(err.Error(), "AWSCURRENT names the user "+victim) || !strings.Contains(err.Error(), "declared") {
			t.Fatalf("rotation of an edited secret: %v", err)
		}
		if !testdb.CanLogin(t, testdb.Addr(), victim, "victim-password-1") {
			t.Fatal("the victim's password changed")
		}
	})
	t.Run("unprovisioned secret that is not declared", func(t *testing.T) {
		h, p := testdb.HostPort(t, testdb.Addr())
		arn := e.newSecret(mustJSON(t, map[string]any{"engine": "mysql", "host": h, "port": p, "username": "nobody"}))
		err := e.rotate(arn)
		if err == nil || !strings.Contains(err.Error(), `the key "password" is missing`) {
			t.Fatalf("rotation of an undeclared secret without a password: %v", err)
		}
	})
}

func userCount(t testing.TB, root *sql.DB, user string) int {
	t.Helper()
	var n int
	if err := root.QueryRow("SELECT COUNT(*) FROM mysql.user WHERE User = ?", user).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A function that rotates only declared secrets (DECLARED_ONLY) refuses a
// secret it does not declare before reading its value: a secret created by
// someone else, naming the vault's master secret and an existing user, and
// pointed at the vault's function, gets no master login and no account.
func TestDeclaredOnlyRefusesOtherSecrets(t *testing.T) {
	e := newEnv(t)
	d := e.declared(t, "SELECT")
	e.h.Config.MasterSecretARN = d.masterARN
	e.h.Config.DeclaredOnly = true
	h, p := testdb.HostPort(t, testdb.Addr())
	victim := "victim" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", ""))[:6]
	if _, err := e.root.Exec("CREATE USER '" + victim + "'@'%' IDENTIFIED BY 'victim-password-1'"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = e.root.Exec("DROP USER IF EXISTS '" + victim + "'@'%', '" + victim + "_clone'@'%'") })
	other := e.newSecret(mustJSON(t, map[string]any{"engine": "mysql", "host": h, "port": p, "username": victim, "password": "victim-password-1", "masterarn": d.masterARN}))
	err := e.rotate(other)
	if err == nil || !strings.Contains(err.Error(), "is not one this function declares") {
		t.Fatalf("rotation of an undeclared secret: %v", err)
	}
	if n := userCount(t, e.root, victim+"_clone"); n != 0 {
		t.Fatalf("the function created %s_clone for an undeclared secret", victim)
	}
	// The declared secret still rotates.
	if err := e.rotate(d.arn); err != nil {
		t.Fatalf("the declared secret: %v", err)
	}
	// Without DECLARED_ONLY, the same secret would be rotated as AWS's
	// alternating users (the drop-in behaviour), which is what the option
	// exists to rule out.
	e.h.Config.DeclaredOnly = false
	again := e.newSecret(mustJSON(t, map[string]any{"engine": "mysql", "host": h, "port": p, "username": victim, "password": "victim-password-1", "masterarn": d.masterARN}))
	if err := e.rotate(again); err != nil {
		t.Fatalf("without DECLARED_ONLY: %v", err)
	}
	if n := userCount(t, e.root, victim+"_clone"); n != 1 {
		t.Fatalf("without DECLARED_ONLY the clone was not created (%d): the test shows nothing", n)
	}
}
