// Package testdb gives the rotator's tests their databases: the shared
// MariaDB on 127.0.0.1:3306 with uniquely named users that are dropped after
// each test, a TCP proxy that can take the database down or make it hang, and
// a TLS-enabled MariaDB started from scratch with certificates made by the
// test. It is imported only by tests.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"

	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Addr is the shared server (override with ROTATOR_TEST_MYSQL_ADDR).
func Addr() string {
	if v := os.Getenv("ROTATOR_TEST_MYSQL_ADDR"); v != "" {
		return v
	}
	return "127.0.0.1:3306"
}

// HostPort splits an address into host and port.
func HostPort(t testing.TB, addr string) (string, int) {
	t.Helper()
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return h, n
}

// Root connects as root (no password) to the shared server. Without a
// server the test is skipped, unless CI is set: there it fails.
func Root(t testing.TB) *sql.DB {
	t.Helper()
	return RootAt(t, "tcp", Addr())
}

// RootAt connects as root to a server at net/addr.
func RootAt(t testing.TB, network, addr string) *sql.DB {
	t.Helper()
	cfg := mysql.NewConfig()
	cfg.User = "root"
	cfg.Net = network
	cfg.Addr = addr
	cfg.Timeout = 3 * time.Second
	cfg.InterpolateParams = true
	cfg.MultiStatements = false
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		if os.Getenv("CI") == "" && network == "tcp" && addr == Addr() {
			t.Skipf("no MariaDB at %s (CI unset): %v", addr, err)
		}
		t.Fatalf("connect as root to %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// Name returns a unique name for a user or database: prefix + 10 hex digits.
func Name(prefix string) string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// EveryChar is every character GetRandomPassword can emit under the
// rotator's default exclusions (printable ASCII without space / @ " ' \).
func EveryChar() string {
	var b strings.Builder
	for c := byte(33); c <= 126; c++ {
		if !strings.ContainsRune(`/@"'\`, rune(c)) {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Exec runs statements as root and fails the test on error.
func Exec(t testing.TB, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// CreateUser creates 'user'@'%' with a password and the given privileges
// (e.g. "SELECT ON db.*") and drops it, and its clones, when the test ends.
func CreateUser(t testing.TB, db *sql.DB, user, password string, grants ...string) {
	t.Helper()
	if _, err := db.Exec("CREATE USER ?@'%' IDENTIFIED BY ?", user, password); err != nil {
		t.Fatalf("create user %s: %v", user, err)
	}
	DropUserAtEnd(t, db, user)
	for _, g := range grants {
		Exec(t, db, "GRANT "+g+" TO `"+user+"`@`%`")
	}
}

// DropUserAtEnd drops user@% and user_clone@% (and any other suffix given)
// when the test ends.
func DropUserAtEnd(t testing.TB, db *sql.DB, user string, suffixes ...string) {
	t.Cleanup(func() {
		for _, s := range append([]string{"", "_clone"}, suffixes...) {
			_, _ = db.Exec("DROP USER IF EXISTS ?@'%'", user+s)
		}
	})
}

// CreateDatabase creates a database and drops it when the test ends.
func CreateDatabase(t testing.TB, db *sql.DB, name string) {
	t.Helper()
	Exec(t, db, "CREATE DATABASE `"+name+"`")
	t.Cleanup(func() { _, _ = db.Exec("DROP DATABASE IF EXISTS `" + name + "`") })
}

// CanLogin reports whether user/password logs in at addr (plaintext).
func CanLogin(t testing.TB, addr, user, password string) bool {
	t.Helper()
	db := open(t, addr, user, password, "")
	defer func() { _ = db.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := db.PingContext(ctx)
	if errors.Is(err, mysql.ErrMalformPkt) {
		// Not an answer: go-sql-driver/mysql (v1.10.1, packets.go
		// readAuthResult) strips a trailing 0 byte from an auth switch
		// request's data, which cuts MariaDB's 32-byte ed25519 scramble
		// 1 time in 256; the next connection gets a new scramble.
		err = db.PingContext(ctx)
	}
	if err == nil {
		return true
	}
	if me, ok := err.(*mysql.MySQLError); ok && me.Number == 1045 {
		return false
	}
	t.Fatalf("login %s at %s: unexpected error %v", user, addr, err)
	return false
}

// Grants returns SHOW GRANTS for user@%, with the user name replaced by
// USER, so two users' grants can be compared.
func Grants(t testing.TB, db *sql.DB, user string) []string {
	t.Helper()
	rows, err := db.Query("SHOW GRANTS FOR `" + user + "`@`%`")
	if err != nil {
		t.Fatalf("show grants for %s: %v", user, err)
	}
	defer func() { _ = rows.Close() }()
	var out []string
	for rows.Next() {
		var g string
		if err := rows.Scan(&g); err != nil {
			t.Fatal(err)
		}
		g = strings.ReplaceAll(g, "`"+user+"`", "`USER`")
		if i := strings.Index(g, " IDENTIFIED BY PASSWORD"); i >= 0 {
			// The hash differs between users; the rest must not.
			rest := g[i+len(" IDENTIFIED BY PASSWORD "):]
			if j := strings.Index(rest[1:], "'"); j >= 0 {
				g = g[:i] + rest[j+2:]
			}
		}
		out = append(out, g)
	}
	return out
}

// SSLType returns mysql.user.ssl_type of user@%.
func SSLType(t testing.TB, db *sql.DB, user string) string {
	t.Helper()
	var v string
	if err := db.QueryRow("SELECT ssl_type FROM mysql.user WHERE User = ? AND Host = '%'", user).Scan(&v); err != nil {
		t.Fatalf("ssl_type of %s: %v", user, err)
	}
	return v
}

// OpenAs connects as user/password to dbname at addr (plaintext) and fails
// the test if it cannot; the pool is closed when the test ends.
func OpenAs(t testing.TB, addr, user, password, dbname string) *sql.DB {
	t.Helper()
	db := open(t, addr, user, password, dbname)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// open is a pool for user/password and dbname at addr (plaintext).
func open(t testing.TB, addr, user, password, dbname string) *sql.DB {
	t.Helper()
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = user, password, "tcp", addr, dbname
	cfg.Timeout = 3 * time.Second
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return sql.OpenDB(conn)
}
