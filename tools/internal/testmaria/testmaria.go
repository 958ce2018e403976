// Package testmaria finds the MariaDB that the tools' tests use: the one
// the test machine runs on 127.0.0.1:3306 (root, no password), or the DSN
// a variable names.
package testmaria

import (
	"context"
	"database/sql"
	"os"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql" // the server the tests reach
)

// DefaultDSN is the test machine's MariaDB.
const DefaultDSN = "root@tcp(127.0.0.1:3306)/"

// Reach returns the DSN (the variable env when set, else DefaultDSN) and
// the error of a ping within 3 s, nil when the server answers.
func Reach(env string) (string, error) {
	dsn := os.Getenv(env)
	if dsn == "" {
		dsn = DefaultDSN
	}
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return dsn, err
	}
	defer func() { _ = db.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return dsn, db.PingContext(ctx)
}

// Need returns the DSN of a MariaDB that answers; without one the test is
// skipped, unless CI is set: there it fails.
func Need(t testing.TB, env string) string {
	t.Helper()
	dsn, err := Reach(env)
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("no MariaDB (CI unset): %v", err)
		}
		t.Fatalf("MariaDB: %v", err)
	}
	return dsn
}
