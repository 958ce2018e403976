package rotation_test

import (
	"strings"
	"testing"

	"github.com/dbvault/dbvault/functions/rotator/internal/rotation"
	"github.com/dbvault/dbvault/functions/rotator/internal/testdb"
)

// TestSingleUserWithExpiredPassword (real MariaDB): a user whose password
// has expired logs in, but its session refuses SELECT CURRENT_USER() with
// error 1820 and runs only SET PASSWORD. The rotation sets the AWSPENDING
// password first, then verifies the account; the new password works and is
// no longer expired (testSecret's probe and the query below would fail).
// MariaDB only: go-mysql-server has no password expiry, so the MySQL 8
// form (ALTER USER USER() IDENTIFIED BY, after SET PASSWORD = PASSWORD()
// is a syntax error there) is not exercised by a test.
func TestSingleUserWithExpiredPassword(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(false)
	testdb.Exec(t, e.root, "ALTER USER `"+f.user+"`@`%` PASSWORD EXPIRE")
	before := e.holder(f.arn, rotation.StageCurrent)
	token := e.start(f.arn)
	if err := e.steps(f.arn, token, allSteps...); err != nil {
		t.Fatalf("rotation of an expired password: %v", err)
	}
	e.converged(f, token, before)
	if !strings.Contains(e.logs.String(), "the password had expired") {
		t.Fatal("the log does not say the password had expired")
	}
	var one int
	if err := testdb.OpenAs(t, testdb.Addr(), f.user, e.get(f.arn, rotation.StageCurrent).Password, "").QueryRow("SELECT 1").Scan(&one); err != nil {
		t.Fatalf("the new password is still expired: %v", err)
	}
}
