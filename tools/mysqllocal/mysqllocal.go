// Package mysqllocal runs a MySQL-compatible server inside the calling
// process (github.com/dolthub/go-mysql-server, reporting version 8.0.31), so
// that the sandbox, chaos runs and tests can rotate real database users
// without installing a database.
//
// It supports what password rotation needs: CREATE USER, GRANT, SHOW
// GRANTS, ALTER USER ... IDENTIFIED BY, mysql_native_password logins and
// the mysql.user table. Users live in memory for the life of the Server,
// across Stop and Restart (a restarted MySQL keeps its users too).
//
// The server has one account with every privilege: root, with no password,
// on any host ('root'@'%'), as the shared test MariaDB has root with no
// password on loopback.
package mysqllocal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"sync"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/server"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/mysql_db"
	"github.com/sirupsen/logrus"
)

// Options configures a Server. The zero value is usable.
type Options struct {
	// Addr is the TCP address to listen on; default "127.0.0.1:0" (a free
	// loopback port; Addr() tells which).
	Addr string
	// Databases are created empty at start; default ["app"].
	Databases []string
	// Log receives go-mysql-server's own log lines (it logs through the
	// process-wide logrus logger); discarded when nil.
	Log io.Writer
}

// Server is an in-process MySQL-compatible server.
type Server struct {
	engine *sqle.Engine
	pro    *memory.DbProvider
	addr   string

	mu      sync.Mutex
	running *instance // nil while stopped
	closed  bool
}

// instance is one listening period, between a start and a Stop.
type instance struct {
	srv  *server.Server
	ln   *trackingListener
	done chan struct{} // closed when Accept returns
}

var dbName = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)

// logMu serialises changes to logrus's process-wide output.
var logMu sync.Mutex

// Start creates the server's databases and root account and starts
// listening. The context bounds only the start itself.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("mysqllocal: %w", err)
	}
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	names := opts.Databases
	if len(names) == 0 {
		names = []string{"app"}
	}
	dbs := make([]sql.Database, 0, len(names))
	for _, n := range names {
		if !dbName.MatchString(n) {
			return nil, fmt.Errorf("mysqllocal: database name %q: use 1 to 64 letters, digits or underscores", n)
		}
		dbs = append(dbs, memory.NewDatabase(n))
	}
	logMu.Lock()
	if opts.Log != nil {
		logrus.SetOutput(opts.Log)
	} else {
		logrus.SetOutput(io.Discard)
	}
	logMu.Unlock()

	pro := memory.NewDBProvider(dbs...)
	engine := sqle.NewDefault(pro)
	mdb := engine.Analyzer.Catalog.MySQLDb
	// Without a persister every user change panics the connection (nil
	// persister); users are kept in memory only.
	mdb.SetPersister(&mysql_db.NoopPersister{})
	ed := mdb.Editor()
	mdb.AddSuperUser(ed, "root", "%", "")
	ed.Close()
	mdb.SetEnabled(true)

	s := &Server{engine: engine, pro: pro, addr: addr}
	if err := s.listen(); err != nil {
		return nil, err
	}
	return s, nil
}

// listen starts an instance on s.addr; the caller holds s.mu or has the
// only reference to s.
func (s *Server) listen() error {
	nl, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("mysqllocal: listen on %s: %w", s.addr, err)
	}
	// Keep the port picked for ":0", so that Restart comes back on the same
	// address, as a restarted database does.
	s.addr = nl.Addr().String()
	ln := &trackingListener{Listener: nl, conns: map[net.Conn]struct{}{}}
	cfg := server.Config{Protocol: "tcp", Address: s.addr, Listener: ln}
	srv, err := server.NewServer(cfg, s.engine, sql.NewContext, memory.NewSessionBuilder(s.pro), nil)
	if err != nil {
		_ = nl.Close()
		return fmt.Errorf("mysqllocal: %w", err)
	}
	inst := &instance{srv: srv, ln: ln, done: make(chan struct{})}
	go func() {
		defer close(inst.done)
		_ = srv.Start() // returns when the listener is closed
	}()
	s.running = inst
	return nil
}

// Addr is the address the server listens on (host:port).
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// RootDSN is a go-sql-driver/mysql DSN for the root account (no password).
func (s *Server) RootDSN() string {
	return "root@tcp(" + s.Addr() + ")/"
}

// Stop stops listening and closes every open connection, as a database
// that goes down does; users and data stay. Stopping a stopped server does
// nothing.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopLocked()
}

func (s *Server) stopLocked() error {
	inst := s.running
	if inst == nil {
		return nil
	}
	s.running = nil
	err := inst.srv.Close()
	inst.ln.closeAll()
	<-inst.done
	return err
}

// Restart listens again on the same address after Stop (or stops first if
// the server is running). It fails if another process took the port.
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("mysqllocal: restart after Close")
	}
	if err := s.stopLocked(); err != nil {
		return err
	}
	return s.listen()
}

// Running reports whether the server is listening.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running != nil
}

// Close stops the server for good.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return s.stopLocked()
}

// trackingListener remembers the connections it accepted so that Stop can
// close them: go-mysql-server's Close stops accepting but leaves open
// connections serving.
type trackingListener struct {
	net.Listener
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		_ = c.Close()
		return nil, net.ErrClosed
	}
	tc := &trackedConn{Conn: c, l: l}
	l.conns[tc] = struct{}{}
	return tc, nil
}

func (l *trackingListener) Close() error {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	return l.Listener.Close()
}

func (l *trackingListener) closeAll() {
	l.mu.Lock()
	conns := make([]net.Conn, 0, len(l.conns))
	for c := range l.conns {
		conns = append(conns, c)
	}
	l.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

type trackedConn struct {
	net.Conn
	l    *trackingListener
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.conns, c)
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}
