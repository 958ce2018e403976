package rotation_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/dbvault/dbvault/functions/rotator/internal/rotation"
	"github.com/dbvault/dbvault/functions/rotator/internal/testdb"
	"github.com/dbvault/dbvault/tools/mysqllocal"
)

// TestStrategiesOnEmbeddedServer runs every strategy against the embedded
// MySQL-compatible server (go-mysql-server, reporting MySQL 8.0.31) that the
// sandbox uses by default: MySQL 8's SHOW GRANTS format and user name limit.
func TestStrategiesOnEmbeddedServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded server")
	}
	srv, err := mysqllocal.Start(context.Background(), mysqllocal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	cfg, err := mysql.ParseDSN(srv.RootDSN())
	if err != nil {
		t.Fatal(err)
	}
	cfg.InterpolateParams = true // go-mysql-server cannot prepare account statements
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	root := sql.OpenDB(conn)
	t.Cleanup(func() { _ = root.Close() })

	e := newEnv(t)
	h, p := testdb.HostPort(t, srv.Addr())
	secretFor := func(user, pw string, extra map[string]any) string {
		m := map[string]any{"engine": "mysql", "host": h, "port": p, "username": user, "password": pw}
		for k, v := range extra {
			m[k] = v
		}
		return mustJSON(t, m)
	}

	t.Run("single user", func(t *testing.T) {
		user := testdb.Name("rt_")
		testdb.CreateUser(t, root, user, "initial-password-1", "SELECT ON app.*")
		arn := e.newSecret(secretFor(user, "initial-password-1", nil))
		old := "initial-password-1"
		for i := 0; i < 4; i++ {
			if err := e.rotate(arn); err != nil {
				t.Fatalf("rotation %d: %v", i+1, err)
			}
			e.checkLabels(arn)
			cur := e.get(arn, rotation.StageCurrent)
			if !testdb.CanLogin(t, srv.Addr(), user, cur.Password) || testdb.CanLogin(t, srv.Addr(), user, old) {
				t.Fatalf("rotation %d: AWSCURRENT does not log in, or the old password still does", i+1)
			}
			old = cur.Password
		}
	})
	t.Run("alternating users", func(t *testing.T) {
		master := testdb.Name("rtm_")
		testdb.CreateUser(t, root, master, "master-password-1")
		testdb.Exec(t, root, "GRANT ALL PRIVILEGES ON *.* TO `"+master+"`@`%` WITH GRANT OPTION")
		masterARN := e.newSecret(secretFor(master, "master-password-1", nil))
		user := testdb.Name("rt_")
		testdb.CreateUser(t, root, user, "app-password-1", "SELECT, INSERT ON app.*")
		arn := e.newSecret(secretFor(user, "app-password-1", map[string]any{"masterarn": masterARN}))
		for i := 0; i < 4; i++ {
			if err := e.rotate(arn); err != nil {
				t.Fatalf("rotation %d: %v", i+1, err)
			}
			e.checkLabels(arn)
			cur, prev := e.get(arn, rotation.StageCurrent), e.get(arn, rotation.StagePrevious)
			if !testdb.CanLogin(t, srv.Addr(), cur.Username, cur.Password) || !testdb.CanLogin(t, srv.Addr(), prev.Username, prev.Password) {
				t.Fatalf("rotation %d: a user does not log in", i+1)
			}
		}
	})
	t.Run("declared users", func(t *testing.T) {
		d := e.declaredOn(t, root, srv.Addr(), "SELECT", "INSERT", "UPDATE", "DELETE")
		for i := 1; i <= 4; i++ {
			if i == 3 {
				d.declare("SELECT", "CREATE")
			}
			if err := e.rotate(d.arn); err != nil {
				t.Fatalf("rotation %d: %v", i, err)
			}
			e.checkLabels(d.arn)
			cur := e.get(d.arn, rotation.StageCurrent)
			if !testdb.CanLogin(t, srv.Addr(), cur.Username, cur.Password) {
				t.Fatalf("rotation %d: AWSCURRENT does not log in", i)
			}
			d.checkGrants(t, root, cur.Username)
		}
		if got := e.raw(d.masterARN, rotation.StageCurrent); got != d.masterRaw {
			t.Fatal("the master secret changed")
		}
	})
}
