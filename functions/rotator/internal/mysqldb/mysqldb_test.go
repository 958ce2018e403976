package mysqldb_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dbvault/dbvault/functions/rotator/checkpoint"
	"github.com/dbvault/dbvault/functions/rotator/faultproxy"
	"github.com/dbvault/dbvault/functions/rotator/internal/database"
	"github.com/dbvault/dbvault/functions/rotator/internal/mysqldb"
	"github.com/dbvault/dbvault/functions/rotator/internal/testdb"
)

func login(t *testing.T, db *mysqldb.DB, addr, user, pw string) (database.Session, error) {
	t.Helper()
	h, p := testdb.HostPort(t, addr)
	return db.Login(context.Background(), database.Login{Host: h, Port: p, User: user, Password: pw})
}

func TestLoginTellsRejectionFromUnreachable(t *testing.T) {
	root := testdb.Root(t)
	user := testdb.Name("rt_")
	testdb.CreateUser(t, root, user, "right-password")
	db := mysqldb.New(mysqldb.Options{ConnectTimeout: 2 * time.Second})

	s, err := login(t, db, testdb.Addr(), user, "right-password")
	if err != nil {
		t.Fatal(err)
	}
	acct, err := s.CurrentAccount(context.Background())
	if err != nil || acct != (database.Account{User: user, Host: "%"}) {
		t.Fatalf("CurrentAccount = %v, %v", acct, err)
	}
	_ = s.Close()

	_, err = login(t, db, testdb.Addr(), user, "wrong-password")
	if !errors.Is(err, database.ErrLoginRejected) {
		t.Fatalf("wrong password: %v, want ErrLoginRejected", err)
	}
	if strings.Contains(err.Error(), "wrong-password") {
		t.Fatalf("error quotes the password: %v", err)
	}
	p := testdb.Proxy(t, testdb.Addr())
	testdb.SetMode(t, p, faultproxy.Drop)
	_, err = login(t, db, p.Addr(), user, "right-password")
	if err == nil || errors.Is(err, database.ErrLoginRejected) {
		t.Fatalf("database down: %v, want an error that is not a rejection", err)
	}
}

func TestSetPasswordWithEveryCharacter(t *testing.T) {
	root := testdb.Root(t)
	user := testdb.Name("rt_")
	testdb.CreateUser(t, root, user, "first-password")
	db := mysqldb.New(mysqldb.Options{})
	s, err := login(t, db, testdb.Addr(), user, "first-password")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	pw := testdb.EveryChar() + "?" + "--" + "#" // placeholders and comment markers too
	if err := s.SetPassword(context.Background(), database.Account{User: user, Host: "%"}, pw); err != nil {
		t.Fatal(err)
	}
	if !testdb.CanLogin(t, testdb.Addr(), user, pw) {
		t.Fatal("the new password does not log in")
	}
	if testdb.CanLogin(t, testdb.Addr(), user, "first-password") {
		t.Fatal("the old password still logs in")
	}
}

func TestCopyGrantsKeepsGrantOptionAndRequire(t *testing.T) {
	root := testdb.Root(t)
	dbName := testdb.Name("rtdb_")
	testdb.CreateDatabase(t, root, dbName)
	testdb.Exec(t, root, "CREATE TABLE `"+dbName+"`.orders (id INT, total INT)")
	role := testdb.Name("rtrole_")
	testdb.Exec(t, root, "CREATE ROLE `"+role+"`")
	t.Cleanup(func() { _, _ = root.Exec("DROP ROLE IF EXISTS `" + role + "`") })
	user := testdb.Name("rt_")
	testdb.CreateUser(t, root, user, "pw-original",
		"SELECT, INSERT ON `"+dbName+"`.* ",
		"UPDATE (total) ON `"+dbName+"`.orders",
	)
	testdb.Exec(t, root, "GRANT DELETE ON `"+dbName+"`.orders TO `"+user+"`@`%` WITH GRANT OPTION",
		"GRANT `"+role+"` TO `"+user+"`@`%`", "ALTER USER `"+user+"`@`%` REQUIRE SSL")
	clone := user + "_clone"

	var stopAt string
	var seen []string
	db := mysqldb.New(mysqldb.Options{})
	s, err := login(t, db, testdb.Addr(), "root", "")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	ctx := checkpoint.With(context.Background(), func(name string) error {
		seen = append(seen, name)
		if name == stopAt {
			return errors.New("simulated crash")
		}
		return nil
	})
	to := database.Account{User: clone, Host: "%"}
	if ok, err := s.AccountExists(ctx, to); err != nil || ok {
		t.Fatalf("AccountExists before = %v, %v", ok, err)
	}
	if err := s.CreateAccount(ctx, to, "throwaway-123"); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.AccountExists(ctx, to); err != nil || !ok {
		t.Fatalf("AccountExists after = %v, %v", ok, err)
	}
	// Stopped after the REQUIRE statement, then run again: a retried
	// setSecret copies again.
	stopAt = "mysql:after-require"
	if err := s.CopyGrants(ctx, database.Account{User: user, Host: "%"}, to); err == nil || !strings.Contains(err.Error(), "stopped at checkpoint mysql:after-require") {
		t.Fatalf("CopyGrants with a stop after REQUIRE: %v", err)
	}
	if !slices.Contains(seen, "mysql:after-grant") {
		t.Fatalf("checkpoints seen: %v", seen)
	}
	stopAt = ""
	if err := s.CopyGrants(ctx, database.Account{User: user, Host: "%"}, to); err != nil {
		t.Fatal(err)
	}
	want, got := testdb.Grants(t, root, user), testdb.Grants(t, root, clone)
	if strings.Join(want, "\n") != strings.Join(got, "\n") {
		t.Fatalf("grants differ:\n%s\n---\n%s", strings.Join(want, "\n"), strings.Join(got, "\n"))
	}
	if st := testdb.SSLType(t, root, clone); st != "ANY" {
		t.Fatalf("clone ssl_type = %q, want ANY (REQUIRE SSL)", st)
	}
	// Read from the server: MariaDB 10.11's mysql.user.User is char(128).
	if n, err := s.MaxUserNameLength(ctx); err != nil || n != 128 {
		t.Fatalf("MaxUserNameLength = %d, %v; want 128 on MariaDB 10.11", n, err)
	}
}

func TestHungDatabaseFailsWithinTheBound(t *testing.T) {
	root := testdb.Root(t)
	user := testdb.Name("rt_")
	testdb.CreateUser(t, root, user, "pw-hang-test")
	p := testdb.Proxy(t, testdb.Addr())
	db := mysqldb.New(mysqldb.Options{ConnectTimeout: 500 * time.Millisecond, StatementTimeout: 500 * time.Millisecond})

	// Hung before login: the connect timeout ends it.
	testdb.SetMode(t, p, faultproxy.Hang)
	start := time.Now()
	_, err := login(t, db, p.Addr(), user, "pw-hang-test")
	if err == nil || errors.Is(err, database.ErrLoginRejected) {
		t.Fatalf("login to a hung server: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("login to a hung server took %s", d)
	}
	if !strings.Contains(err.Error(), "no answer within") {
		t.Errorf("error does not say it timed out: %v", err)
	}

	// Hung after login: the statement timeout ends it.
	testdb.SetMode(t, p, faultproxy.Pass)
	s, err := login(t, db, p.Addr(), user, "pw-hang-test")
	if err != nil {
		t.Fatal(err)
	}
	testdb.SetMode(t, p, faultproxy.Hang)
	start = time.Now()
	err = s.Probe(context.Background())
	if err == nil {
		t.Fatal("probe on a hung server succeeded")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("probe on a hung server took %s", d)
	}
	closed := make(chan struct{})
	go func() { _ = s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close on a hung server did not return within 5s")
	}
}

func TestTLSRequiredRefusesPlaintextServer(t *testing.T) {
	testdb.Root(t) // skip without the server
	tlsCfg, err := mysqldb.TLSConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	db := mysqldb.New(mysqldb.Options{TLS: tlsCfg})
	_, err = login(t, db, testdb.Addr(), "root", "")
	if err == nil {
		t.Fatal("logged in over plaintext although TLS is required")
	}
	if errors.Is(err, database.ErrLoginRejected) || !strings.Contains(err.Error(), "does not offer TLS") {
		t.Fatalf("error = %v, want the no-TLS refusal", err)
	}
}

func TestEmbeddedBundle(t *testing.T) {
	if _, err := mysqldb.TLSConfig(nil); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(mysqldb.RDSCABundle), "BEGIN CERTIFICATE"); n < 100 {
		t.Fatalf("the embedded RDS bundle has %d certificates, want the global bundle (102)", n)
	}
	if _, err := mysqldb.TLSConfig([]byte("not a certificate")); err == nil {
		t.Fatal("accepted an extra CA file without a certificate")
	}
}

// TestSetPasswordKeepsThePlugin (real MariaDB; go-mysql-server has no
// ed25519): a password change by an administrator keeps the account's
// authentication plugin. ALTER USER ... IDENTIFIED BY would make an
// ed25519 account mysql_native_password.
func TestSetPasswordKeepsThePlugin(t *testing.T) {
	root := testdb.Root(t)
	ed25519(t, root)
	ctx := context.Background()
	admin := testdb.Name("rtm_")
	testdb.CreateUser(t, root, admin, "admin-password-1")
	testdb.Exec(t, root, "GRANT ALL PRIVILEGES ON *.* TO `"+admin+"`@`%` WITH GRANT OPTION")
	for _, plugin := range []string{"ed25519", "mysql_native_password"} {
		user := testdb.Name("rt_")
		testdb.Exec(t, root, "CREATE USER `"+user+"`@`%` IDENTIFIED VIA "+plugin+" USING PASSWORD('first-password-1')")
		testdb.DropUserAtEnd(t, root, user)
		for _, who := range []string{admin, user} {
			loginAs, pw := admin, "admin-password-1"
			if who == user {
				loginAs, pw = user, "first-password-1"
			}
			s, err := login(t, mysqldb.New(mysqldb.Options{}), testdb.Addr(), loginAs, pw)
			if err != nil {
				t.Fatal(err)
			}
			newPW := "changed-by-" + who[:3] + "-1"
			err = s.SetPassword(ctx, database.Account{User: user, Host: "%"}, newPW)
			_ = s.Close()
			if err != nil {
				t.Fatalf("%s: %v", plugin, err)
			}
			var got string
			if err := root.QueryRow("SELECT plugin FROM mysql.user WHERE User = ? AND Host = '%'", user).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != plugin {
				t.Fatalf("after a change by %s the plugin is %s, was %s", who[:3], got, plugin)
			}
			if !testdb.CanLogin(t, testdb.Addr(), user, newPW) {
				t.Fatalf("%s: the new password does not log in", plugin)
			}
			// The next change logs in with the first password.
			testdb.Exec(t, root, "SET PASSWORD FOR `"+user+"`@`%` = PASSWORD('first-password-1')")
		}
	}
}

// TestCopyGrantsMakesTheCloneExact (real MariaDB): a clone that already
// holds more than the user (another database, an ALL PRIVILEGES, a role,
// GRANT OPTION, a default role, REQUIRE SSL, other resource limits) ends
// with exactly the user's grants, REQUIRE and limits, and keeps what both
// hold.
func TestCopyGrantsMakesTheCloneExact(t *testing.T) {
	root := testdb.Root(t)
	dbName, other, third := testdb.Name("rtdb_"), testdb.Name("rtdb_"), testdb.Name("rtdb_")
	for _, d := range []string{dbName, other, third} {
		testdb.CreateDatabase(t, root, d)
	}
	role := testdb.Name("rtrole_")
	testdb.Exec(t, root, "CREATE ROLE `"+role+"`")
	t.Cleanup(func() { _, _ = root.Exec("DROP ROLE IF EXISTS `" + role + "`") })
	user := testdb.Name("rt_")
	testdb.CreateUser(t, root, user, "pw-original", "SELECT, INSERT ON `"+dbName+"`.*", "SELECT ON `"+third+"`.*")
	testdb.Exec(t, root, "ALTER USER `"+user+"`@`%` WITH MAX_QUERIES_PER_HOUR 100 MAX_USER_CONNECTIONS 7")
	clone := user + "_clone"
	testdb.CreateUser(t, root, clone, "pw-clone-1", "SELECT, INSERT, DELETE ON `"+dbName+"`.*", "UPDATE ON `"+other+"`.*", "ALL PRIVILEGES ON `"+third+"`.*")
	testdb.Exec(t, root, "GRANT SELECT ON `"+dbName+"`.* TO `"+clone+"`@`%` WITH GRANT OPTION",
		"GRANT `"+role+"` TO `"+clone+"`@`%`", "SET DEFAULT ROLE `"+role+"` FOR `"+clone+"`@`%`",
		"ALTER USER `"+clone+"`@`%` REQUIRE SSL WITH MAX_QUERIES_PER_HOUR 5")
	s, err := login(t, mysqldb.New(mysqldb.Options{}), testdb.Addr(), "root", "")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	if err := s.CopyGrants(context.Background(), database.Account{User: user, Host: "%"}, database.Account{User: clone, Host: "%"}); err != nil {
		t.Fatal(err)
	}
	want, got := testdb.Grants(t, root, user), testdb.Grants(t, root, clone)
	slices.Sort(want)
	slices.Sort(got)
	if strings.Join(want, "\n") != strings.Join(got, "\n") {
		t.Fatalf("grants differ:\n%s\n---\n%s", strings.Join(want, "\n"), strings.Join(got, "\n"))
	}
	if st := testdb.SSLType(t, root, clone); st != "" {
		t.Fatalf("clone ssl_type = %q, want none", st)
	}
	var q, c int
	if err := root.QueryRow("SELECT max_questions, max_user_connections FROM mysql.user WHERE User = ? AND Host = '%'", clone).Scan(&q, &c); err != nil || q != 100 || c != 7 {
		t.Fatalf("clone limits %d, %d (%v); want 100, 7", q, c, err)
	}
	// Then setSecret's reset of the alternate user (not plain) keeps them:
	// it used to refuse the limits it had just copied.
	if err := s.ResetAccount(context.Background(), database.Account{User: clone, Host: "%"}, "pw-clone-2", false); err != nil {
		t.Fatalf("reset of the clone with AWSCURRENT's limits: %v", err)
	}
	if err := root.QueryRow("SELECT max_questions, max_user_connections FROM mysql.user WHERE User = ? AND Host = '%'", clone).Scan(&q, &c); err != nil || q != 100 || c != 7 {
		t.Fatalf("clone limits after the reset %d, %d (%v); want 100, 7", q, c, err)
	}
}
