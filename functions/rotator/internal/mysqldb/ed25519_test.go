package mysqldb_test

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/dbvault/dbvault/functions/rotator/internal/mysqldb"
	"github.com/dbvault/dbvault/functions/rotator/internal/testdb"
)

// ed25519 makes sure MariaDB's ed25519 authentication plugin is active.
func ed25519(t *testing.T, root *sql.DB) {
	t.Helper()
	var n int
	if err := root.QueryRow("SELECT COUNT(*) FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'ed25519' AND PLUGIN_STATUS = 'ACTIVE'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		// Installed once and left in place: other tests may be using it.
		if _, err := root.Exec("INSTALL SONAME 'auth_ed25519'"); err != nil {
			t.Skipf("the ed25519 plugin cannot be installed: %v", err)
		}
	}
}

// TestLoginRetriesAScrambleEndingInZero (real MariaDB): go-sql-driver/mysql
// cuts a trailing 0 byte off an auth switch request's data, so the 1 in 256
// ed25519 scrambles that end in 0 fail with a malformed packet; Login then
// connects once more and gets a new scramble. The proxy here makes the
// first connection's scramble end in 0.
func TestLoginRetriesAScrambleEndingInZero(t *testing.T) {
	root := testdb.Root(t)
	ed25519(t, root)
	user := testdb.Name("rt_")
	testdb.Exec(t, root, "CREATE USER `"+user+"`@`%` IDENTIFIED VIA ed25519 USING PASSWORD('ed-password-1')")
	testdb.DropUserAtEnd(t, root, user)

	// The second connection's own scramble ends in 0 once in 256 runs too,
	// and then the login fails twice, which Login accepts: try again.
	for range 3 {
		var mu sync.Mutex
		var conns []*scrambleConn
		db := mysqldb.New(mysqldb.Options{Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			mu.Lock()
			defer mu.Unlock()
			sc := &scrambleConn{Conn: c, zero: len(conns) == 0}
			conns = append(conns, sc)
			return sc, nil
		}})
		s, err := login(t, db, testdb.Addr(), user, "ed-password-1")
		mu.Lock()
		if len(conns) == 2 && conns[1].endedInZero {
			mu.Unlock()
			continue
		}
		defer mu.Unlock()
		if len(conns) == 0 || !conns[0].switched {
			t.Fatal("the server sent no ed25519 auth switch request: the test proves nothing")
		}
		if err != nil {
			t.Fatalf("a scramble ending in 0 failed the login: %v", err)
		}
		_ = s.Close()
		if len(conns) != 2 {
			t.Fatalf("%d connections, want 2 (the cut scramble, then a new one)", len(conns))
		}
		return
	}
	t.Fatal("the retry's own scramble ended in 0 three times")
}

// scrambleConn reads the server's packets whole and, when zero is set,
// ends the scramble of an ed25519 auth switch request (0xFE,
// "client_ed25519\0", 32 bytes) with a 0 byte.
type scrambleConn struct {
	net.Conn
	zero        bool
	switched    bool // an ed25519 auth switch request came
	endedInZero bool // its scramble ended in 0 as the server sent it
	pending     []byte
}

func (c *scrambleConn) Read(p []byte) (int, error) {
	if len(c.pending) == 0 {
		header := make([]byte, 4)
		if _, err := io.ReadFull(c.Conn, header); err != nil {
			return 0, err
		}
		payload := make([]byte, int(header[0])|int(header[1])<<8|int(header[2])<<16)
		if _, err := io.ReadFull(c.Conn, payload); err != nil {
			return 0, err
		}
		if len(payload) > 1 && payload[0] == 0xfe && bytes.HasPrefix(payload[1:], []byte("client_ed25519\x00")) {
			c.switched = true
			c.endedInZero = payload[len(payload)-1] == 0
			if c.zero {
				payload[len(payload)-1] = 0
			}
		}
		c.pending = append(header, payload...)
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}
