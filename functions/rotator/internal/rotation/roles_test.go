package rotation_test

import (
	"slices"
	"testing"

	"github.com/dbvault/dbvault/functions/rotator/internal/rotation"
	"github.com/dbvault/dbvault/functions/rotator/internal/testdb"
)

// TestAlternatingUsersKeepTheDefaultRole (real MariaDB, whose SHOW GRANTS
// has the SET DEFAULT ROLE row; go-mysql-server shows none): a user whose
// privileges come through a default role rotates to a clone that has the
// role and the same default role, so the clone's sessions can do what the
// user's could.
func TestAlternatingUsersKeepTheDefaultRole(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(true)
	role := testdb.Name("rtr_")
	testdb.Exec(t, e.root, "CREATE ROLE `"+role+"`", "GRANT SELECT ON `"+f.user+"_a`.* TO `"+role+"`",
		"GRANT `"+role+"` TO `"+f.user+"`@`%`", "SET DEFAULT ROLE `"+role+"` FOR `"+f.user+"`@`%`")
	t.Cleanup(func() { _, _ = e.root.Exec("DROP ROLE IF EXISTS `" + role + "`") })
	// The master may hand the role on, as the master that created it could.
	master := e.get(e.get(f.arn, rotation.StageCurrent).MasterARN, rotation.StageCurrent).Username
	testdb.Exec(t, e.root, "GRANT `"+role+"` TO `"+master+"`@`%` WITH ADMIN OPTION")
	if err := e.rotate(f.arn); err != nil {
		t.Fatalf("rotation of a user with a default role: %v", err)
	}
	cur := e.get(f.arn, rotation.StageCurrent)
	if cur.Username != f.user+"_clone" {
		t.Fatalf("AWSCURRENT is %s", cur.Username)
	}
	want, got := testdb.Grants(t, e.root, f.user), testdb.Grants(t, e.root, cur.Username)
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(want, got) {
		t.Fatalf("the clone's grants differ:\n user  %q\n clone %q", want, got)
	}
	var current string
	if err := testdb.OpenAs(t, testdb.Addr(), cur.Username, cur.Password, "").QueryRow("SELECT CURRENT_ROLE()").Scan(&current); err != nil || current != role {
		t.Fatalf("the clone's session starts with role %q (%v), want %s", current, err, role)
	}
	if err := e.rotate(f.arn); err != nil {
		t.Fatalf("rotation back: %v", err)
	}
}
