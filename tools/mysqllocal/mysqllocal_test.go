package mysqllocal

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

func start(t *testing.T) *Server {
	t.Helper()
	s, err := Start(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// open connects with user and password and checks the login with a ping.
func open(t *testing.T, addr, user, password string) (*sql.DB, error) {
	t.Helper()
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr = user, password, "tcp", addr
	cfg.Timeout = 2 * time.Second
	cfg.InterpolateParams = true
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	t.Cleanup(func() { _ = db.Close() })
	return db, nil
}

func mustExec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// TestRotationStatements runs, through the real MySQL driver, every
// statement a rotation uses: CREATE USER, GRANT, SHOW GRANTS, a login with
// mysql_native_password, ALTER USER ... IDENTIFIED BY with a password that
// needs escaping, the mysql.user columns, CURRENT_USER() and VERSION().
func TestRotationStatements(t *testing.T) {
	s := start(t)
	root, err := open(t, s.Addr(), "root", "")
	if err != nil {
		t.Fatalf("root login: %v", err)
	}
	mustExec(t, root, "CREATE USER ?@? IDENTIFIED BY ?", "app", "%", "first-pass")
	mustExec(t, root, "GRANT SELECT, INSERT ON app.* TO 'app'@'%'")
	mustExec(t, root, "GRANT SELECT ON *.* TO 'app'@'%' WITH GRANT OPTION")

	rows, err := root.Query("SHOW GRANTS FOR 'app'@'%'")
	if err != nil {
		t.Fatal(err)
	}
	var grants []string
	for rows.Next() {
		var g string
		if err := rows.Scan(&g); err != nil {
			t.Fatal(err)
		}
		grants = append(grants, g)
	}
	_ = rows.Close()
	all := strings.Join(grants, "\n")
	if !strings.Contains(all, "`app`.*") || !strings.Contains(all, "WITH GRANT OPTION") {
		t.Fatalf("SHOW GRANTS lacks the grants just made:\n%s", all)
	}

	app, err := open(t, s.Addr(), "app", "first-pass")
	if err != nil {
		t.Fatalf("login with the created password: %v", err)
	}
	var cur string
	if err := app.QueryRow("SELECT CURRENT_USER()").Scan(&cur); err != nil || cur != "app@%" {
		t.Fatalf("CURRENT_USER() = %q, %v; want app@%%", cur, err)
	}
	var version string
	if err := app.QueryRow("SELECT VERSION()").Scan(&version); err != nil || !strings.HasPrefix(version, "8.") {
		t.Fatalf("VERSION() = %q, %v; want 8.x", version, err)
	}

	// A password with quotes, a backslash and a percent sign.
	next := `n'e"w\p%a_ss`
	if _, err := app.Exec("ALTER USER ?@? IDENTIFIED BY ?", "app", "%", next); err != nil {
		t.Fatalf("the user changes its own password: %v", err)
	}
	if _, err := open(t, s.Addr(), "app", "first-pass"); !isAccessDenied(err) {
		t.Fatalf("old password after ALTER USER: err = %v, want access denied", err)
	}
	if _, err := open(t, s.Addr(), "app", next); err != nil {
		t.Fatalf("new password after ALTER USER: %v", err)
	}

	var n int
	if err := root.QueryRow("SELECT COUNT(*) FROM mysql.user WHERE User = ? AND Host = ?", "app", "%").Scan(&n); err != nil || n != 1 {
		t.Fatalf("mysql.user count = %d, %v; want 1", n, err)
	}
	var sslType, cipher, issuer, subject []byte
	if err := root.QueryRow("SELECT ssl_type, ssl_cipher, x509_issuer, x509_subject FROM mysql.user WHERE User = ? AND Host = ?", "app", "%").
		Scan(&sslType, &cipher, &issuer, &subject); err != nil {
		t.Fatalf("mysql.user REQUIRE columns: %v", err)
	}
}

func isAccessDenied(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == 1045
}

// TestStopRestart: Stop refuses new connections and ends open ones; Restart
// comes back on the same address with the users as they were.
func TestStopRestart(t *testing.T) {
	s := start(t)
	addr := s.Addr()
	root, err := open(t, addr, "root", "")
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, root, "CREATE USER ?@? IDENTIFIED BY ?", "keep", "%", "pw")
	held, err := open(t, addr, "keep", "pw")
	if err != nil {
		t.Fatal(err)
	}
	held.SetMaxIdleConns(1)

	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if s.Running() {
		t.Fatal("Running() after Stop")
	}
	if _, err := open(t, addr, "keep", "pw"); err == nil {
		t.Fatal("login succeeded while stopped")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := held.Conn(ctx)
	if err == nil {
		err = c.PingContext(ctx)
		_ = c.Close()
	}
	if err == nil {
		t.Fatal("an open connection still answered after Stop")
	}

	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if s.Addr() != addr {
		t.Fatalf("address after Restart = %s, want %s", s.Addr(), addr)
	}
	if _, err := open(t, addr, "keep", "pw"); err != nil {
		t.Fatalf("login after Restart: %v", err)
	}
}

func TestBadOptions(t *testing.T) {
	if _, err := Start(context.Background(), Options{Databases: []string{"bad-name;"}}); err == nil {
		t.Fatal("a bad database name was accepted")
	}
	if _, err := Start(context.Background(), Options{Addr: "not an address"}); err == nil {
		t.Fatal("a bad address was accepted")
	}
}

func TestRootDSN(t *testing.T) {
	s := start(t)
	cfg, err := mysql.ParseDSN(s.RootDSN())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.User != "root" || cfg.Addr != s.Addr() {
		t.Fatalf("RootDSN = %s", s.RootDSN())
	}
	db, err := sql.Open("mysql", s.RootDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	if err := db.Ping(); err != nil {
		t.Fatalf("RootDSN does not log in: %v", err)
	}
}
