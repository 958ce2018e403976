package faultproxy

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// echoServer answers each line with the same line.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer func() { _ = c.Close() }()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

func newProxy(t *testing.T, target string) *Proxy {
	t.Helper()
	p, err := New(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// roundTrip writes a line and reads the answer within d.
func roundTrip(c net.Conn, line string, d time.Duration) (string, error) {
	_ = c.SetDeadline(time.Now().Add(d))
	defer func() { _ = c.SetDeadline(time.Time{}) }()
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		return "", err
	}
	s, err := bufio.NewReader(c).ReadString('\n')
	if len(s) > 0 {
		s = s[:len(s)-1]
	}
	return s, err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestPass(t *testing.T) {
	p := newProxy(t, echoServer(t))
	c := dial(t, p.Addr())
	if got, err := roundTrip(c, "hello", 2*time.Second); err != nil || got != "hello" {
		t.Fatalf("pass: %q, %v", got, err)
	}
}

// TestHang: an open connection stalls (nothing comes back, the client's
// own deadline fires) and a new one is accepted but never answered; after
// Pass both carry on.
func TestHang(t *testing.T) {
	p := newProxy(t, echoServer(t))
	open := dial(t, p.Addr())
	if _, err := roundTrip(open, "before", 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := p.SetMode(Hang); err != nil {
		t.Fatal(err)
	}
	if _, err := roundTrip(open, "stalled", 200*time.Millisecond); !isTimeout(err) {
		t.Fatalf("open connection during Hang: %v, want a timeout", err)
	}
	fresh := dial(t, p.Addr()) // accepted: the dial succeeds
	if _, err := roundTrip(fresh, "held", 200*time.Millisecond); !isTimeout(err) {
		t.Fatalf("new connection during Hang: %v, want a timeout", err)
	}
	if err := p.SetMode(Pass); err != nil {
		t.Fatal(err)
	}
	// The held line went through when the hang ended; read it, then check
	// the connection works normally.
	_ = fresh.SetDeadline(time.Now().Add(2 * time.Second))
	r := bufio.NewReader(fresh)
	if s, err := r.ReadString('\n'); err != nil || s != "held\n" {
		t.Fatalf("held line after Hang: %q, %v", s, err)
	}
	if got, err := roundTrip(fresh, "after", 2*time.Second); err != nil || got != "after" {
		t.Fatalf("after Hang: %q, %v", got, err)
	}
}

// TestRefuse: nothing listens (connection refused) and open connections
// are closed; after Pass the same address accepts again.
func TestRefuse(t *testing.T) {
	p := newProxy(t, echoServer(t))
	addr := p.Addr()
	open := dial(t, addr)
	if err := p.SetMode(Refuse); err != nil {
		t.Fatal(err)
	}
	if _, err := roundTrip(open, "x", 2*time.Second); err == nil || isTimeout(err) {
		t.Fatalf("open connection during Refuse: %v, want it closed", err)
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial during Refuse: %v, want connection refused", err)
	}
	if err := p.SetMode(Pass); err != nil {
		t.Fatal(err)
	}
	if p.Addr() != addr {
		t.Fatalf("address changed: %s -> %s", addr, p.Addr())
	}
	c := dial(t, addr)
	if got, err := roundTrip(c, "back", 2*time.Second); err != nil || got != "back" {
		t.Fatalf("after Refuse: %q, %v", got, err)
	}
}

// TestDrop: open connections and new ones are closed at once.
func TestDrop(t *testing.T) {
	p := newProxy(t, echoServer(t))
	open := dial(t, p.Addr())
	if _, err := roundTrip(open, "x", 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := p.SetMode(Drop); err != nil {
		t.Fatal(err)
	}
	if p.Open() != 0 {
		t.Fatalf("Open() = %d after Drop", p.Open())
	}
	if _, err := roundTrip(open, "x", 2*time.Second); err == nil || isTimeout(err) {
		t.Fatalf("open connection after Drop: %v, want it closed", err)
	}
	fresh := dial(t, p.Addr())
	if _, err := roundTrip(fresh, "x", 2*time.Second); err == nil || isTimeout(err) {
		t.Fatalf("new connection during Drop: %v, want it closed", err)
	}
	// Both connections were accepted; only the first reached the target.
	if c := p.Counts(); c.Accepted != 2 || c.Connections != 1 {
		t.Fatalf("counts = %+v, want 2 accepted, 1 connection", c)
	}
}

func TestDropConnectionsKeepsMode(t *testing.T) {
	p := newProxy(t, echoServer(t))
	open := dial(t, p.Addr())
	if _, err := roundTrip(open, "x", 2*time.Second); err != nil {
		t.Fatal(err)
	}
	p.DropConnections()
	if _, err := roundTrip(open, "x", 2*time.Second); err == nil || isTimeout(err) {
		t.Fatalf("after DropConnections: %v, want closed", err)
	}
	c := dial(t, p.Addr())
	if got, err := roundTrip(c, "y", 2*time.Second); err != nil || got != "y" || p.Mode() != Pass {
		t.Fatalf("new connection after DropConnections: %q, %v, mode %v", got, err, p.Mode())
	}
}

func TestBadTarget(t *testing.T) {
	if _, err := New("no-port"); err == nil {
		t.Fatal("a target without a port was accepted")
	}
}

// TestCountsMySQL counts the commands of a real MySQL session through the
// proxy: one connection, three COM_QUERY, one COM_PING, and no handshake
// packet counted as a command.
func TestCountsMySQL(t *testing.T) {
	p := newProxy(t, mariaDB(t))
	cfg := mysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr = "root", "tcp", p.Addr()
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(conn)
	defer func() { _ = db.Close() }()
	ctx := context.Background()
	c, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		var one int
		if err := c.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.PingContext(ctx); err != nil {
		t.Fatal(err)
	}
	got := p.Counts()
	if got.Connections != 1 || got.Commands[ComQuery] != 3 || got.Commands[ComPing] != 1 || got.RoundTrips() != 4 {
		t.Fatalf("counts = %+v, want 1 connection, 3 COM_QUERY, 1 COM_PING, 4 round trips", got)
	}
	p.ResetCounts()
	if got := p.Counts(); got.Connections != 0 || got.RoundTrips() != 0 {
		t.Fatalf("after ResetCounts: %+v", got)
	}
}

// mariaDB is the address of the tests' MariaDB (ROTATOR_TEST_MYSQL_ADDR,
// else 127.0.0.1:3306). Without it the test is skipped, unless CI is set.
func mariaDB(t *testing.T) string {
	t.Helper()
	addr := os.Getenv("ROTATOR_TEST_MYSQL_ADDR")
	if addr == "" {
		addr = "127.0.0.1:3306"
	}
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("no MariaDB at %s (CI unset): %v", addr, err)
		}
		t.Fatalf("no MariaDB at %s: %v", addr, err)
	}
	_ = c.Close()
	return addr
}
