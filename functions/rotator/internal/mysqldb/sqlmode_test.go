package mysqldb

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dbvault/dbvault/functions/rotator/internal/database"
	"github.com/dbvault/dbvault/functions/rotator/internal/testdb"
)

// Every session runs in TRADITIONAL mode, whatever the server's default:
// never ANSI_QUOTES or NO_BACKSLASH_ESCAPES, which change how SHOW GRANTS
// and SHOW CREATE USER print names and strings.
func TestSessionsRunInTraditionalMode(t *testing.T) {
	root := testdb.Root(t)
	var global string
	if err := root.QueryRow("SELECT @@GLOBAL.sql_mode").Scan(&global); err != nil {
		t.Fatal(err)
	}
	user := testdb.Name("rt_")
	testdb.CreateUser(t, root, user, "mode-password-1")
	h, p := testdb.HostPort(t, testdb.Addr())
	s, err := New(Options{ConnectTimeout: 5 * time.Second, StatementTimeout: 5 * time.Second}).Login(context.Background(), database.Login{Host: h, Port: p, User: user, Password: "mode-password-1"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	var mode string
	if err := s.(*session).conn.QueryRowContext(context.Background(), "SELECT @@SESSION.sql_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(mode, "ANSI_QUOTES") || strings.Contains(mode, "NO_BACKSLASH_ESCAPES") || !strings.Contains(mode, "STRICT_ALL_TABLES") || mode == global {
		t.Fatalf("session sql_mode %q (server default %q), want TRADITIONAL's modes", mode, global)
	}
}
