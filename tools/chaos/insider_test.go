package chaos

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/dbvault/dbvault/tools/sandbox"

	"github.com/dbvault/dbvault/tools/internal/testmaria"
)

// TestChangeOwnPassword: the insider's change takes effect on the embedded
// server and on MariaDB (when there): the new password logs in, the old one
// is refused.
func TestChangeOwnPassword(t *testing.T) {
	ctx := context.Background()
	for _, dsn := range []string{"", mariaDSN(t)} {
		if dsn == "-" {
			continue
		}
		db, err := sandbox.OpenDatabase(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Cleanup(ctx); _ = db.Close() })
		u, err := db.NewUser(ctx, "chi_")
		if err != nil {
			t.Fatal(err)
		}
		user, old, pw := u.Username, u.Password, sandbox.RandomPassword()
		if err := changeOwnPassword(ctx, db.Host, db.Port, user, old, pw); err != nil {
			t.Fatalf("%s: %v", db.Description, err)
		}
		if err := sandbox.CheckLogin(ctx, db.Host, db.Port, user, pw, ""); err != nil {
			t.Errorf("%s: the insider's password does not log in: %v", db.Description, err)
		}
		if err := sandbox.CheckLogin(ctx, db.Host, db.Port, user, old, ""); !errors.Is(err, sandbox.ErrRejected) {
			t.Errorf("%s: the old password is not refused: %v", db.Description, err)
		}
	}
}

// mariaDSN is the MariaDB of the test machine (CHAOS_TEST_MYSQL_DSN
// overrides it), or "-" when it is not reachable and CI is unset (in CI
// the test fails instead).
func mariaDSN(t *testing.T) string {
	t.Helper()
	dsn, err := testmaria.Reach("CHAOS_TEST_MYSQL_DSN")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("MariaDB: %v", err)
		}
		t.Logf("no MariaDB (CI unset), embedded server only: %v", err)
		return "-"
	}
	return dsn
}
