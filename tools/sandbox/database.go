package sandbox

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
)

// ErrRejected is wrapped by CheckLogin's error when the server answered and
// refused the credentials (MySQL error 1045, access denied).
var ErrRejected = errors.New("the database refused the credentials")

// Database is the MySQL-family server that users are rotated on: the
// embedded one (mysqllocal) or a real server named by a DSN. It remembers
// the users and databases it created so that Cleanup can drop them.
type Database struct {
	// Host and Port are where clients reach the server.
	Host string
	Port int
	// Description says which server this is, for the report.
	Description string

	admin    *sql.DB
	embedded EmbeddedServer

	mu    sync.Mutex
	users []string // user names created (dropped with their clones)
	dbs   []string // databases created
}

// EmbeddedServer is the embedded server (tools/mysqllocal) as Database
// uses it.
type EmbeddedServer interface {
	Addr() string
	Close() error
}

// startEmbedded starts the embedded server; nil when the program is built
// without it (the build tag sandbox_noembedded, embedded.go).
var startEmbedded func(context.Context) (EmbeddedServer, error)

// HasEmbedded reports whether this program can start the embedded server.
// go-mysql-server is about half of the sandbox command's source: `go run
// mage.go sandbox` builds it without (tag sandbox_noembedded) and uses the
// MariaDB or MySQL it finds, compiling the embedded server only when it
// finds none.
func HasEmbedded() bool { return startEmbedded != nil }

// ErrNoEmbedded is OpenDatabase's error for an empty DSN in a program built
// without the embedded server.
var ErrNoEmbedded = errors.New("this program is built without the embedded server (tag sandbox_noembedded): name a server with a DSN")

// LocalDSN is the server the sandbox looks for when none is named: the
// MariaDB or MySQL of a developer's machine or of CI, root without a
// password on 127.0.0.1:3306.
const LocalDSN = "root@tcp(127.0.0.1:3306)/"

// FindLocal reports whether a server answers on LocalDSN, within a second:
// nil when it does, else what went wrong.
func FindLocal(ctx context.Context) error {
	cfg, err := mysql.ParseDSN(LocalDSN)
	if err != nil {
		return err
	}
	cfg.Timeout = time.Second
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return err
	}
	db := sql.OpenDB(conn)
	defer func() { _ = db.Close() }()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var v string
	return db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&v)
}

// OpenDatabase connects to the server that dsn names (a go-sql-driver/mysql
// DSN over TCP, for an account that can create users and databases), or,
// when dsn is empty, starts the embedded server.
func OpenDatabase(ctx context.Context, dsn string) (*Database, error) {
	d := &Database{}
	var cfg *mysql.Config
	if dsn == "" {
		if startEmbedded == nil {
			return nil, ErrNoEmbedded
		}
		srv, err := startEmbedded(ctx)
		if err != nil {
			return nil, err
		}
		d.embedded = srv
		cfg = mysql.NewConfig()
		cfg.User, cfg.Net, cfg.Addr = "root", "tcp", srv.Addr()
	} else {
		c, err := mysql.ParseDSN(dsn)
		if err != nil {
			// The DSN may hold a password: say what is wrong without it.
			return nil, errors.New("the MySQL DSN is not valid (expected user[:password]@tcp(host:port)/)")
		}
		if c.Net != "tcp" {
			return nil, fmt.Errorf("the MySQL DSN names the network %q; the rotator reaches its database over tcp(host:port)", c.Net)
		}
		cfg = c
	}
	host, port, err := splitHostPort(cfg.Addr)
	if err != nil {
		d.closeEmbedded()
		return nil, err
	}
	d.Host, d.Port = host, port
	cfg.Timeout = 5 * time.Second
	cfg.InterpolateParams = true
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		d.closeEmbedded()
		return nil, fmt.Errorf("database: %w", err)
	}
	d.admin = sql.OpenDB(conn)
	var version string
	if err := d.admin.QueryRowContext(ctx, "SELECT VERSION()").Scan(&version); err != nil {
		_ = d.admin.Close()
		d.closeEmbedded()
		return nil, fmt.Errorf("database at %s (user %s): %w", cfg.Addr, cfg.User, err)
	}
	if d.embedded != nil {
		d.Description = fmt.Sprintf("embedded go-mysql-server (reports %s) at %s", version, cfg.Addr)
	} else {
		d.Description = fmt.Sprintf("%s at %s", version, cfg.Addr)
	}
	return d, nil
}

func splitHostPort(addr string) (string, int, error) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("database address %q: %w", addr, err)
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 {
		return "", 0, fmt.Errorf("database address %q: the port is not a number from 1 to 65535", addr)
	}
	return h, n, nil
}

// Addr is host:port.
func (d *Database) Addr() string { return net.JoinHostPort(d.Host, strconv.Itoa(d.Port)) }

// Admin is the administrative connection pool.
func (d *Database) Admin() *sql.DB { return d.admin }

// UniqueName returns prefix followed by 8 random hex digits, a name no
// other run uses.
func UniqueName(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return prefix + hex.EncodeToString(b)
}

// RandomPassword returns a password of 36 lower-case hexadecimal
// characters (18 bytes from crypto/rand).
func RandomPassword() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// CreateDatabase creates a database (dropped by Cleanup).
func (d *Database) CreateDatabase(ctx context.Context, name string) error {
	if _, err := d.admin.ExecContext(ctx, "CREATE DATABASE "+quoteIdent(name)); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	d.mu.Lock()
	d.dbs = append(d.dbs, name)
	d.mu.Unlock()
	return nil
}

// CreateUser creates 'user'@'%' with a password and grants it privileges
// on a database ("SELECT, INSERT" on dbname.*), or every privilege on
// every database with GRANT OPTION when master is true (what the master
// user of the alternating-users strategy needs to create users and copy
// grants). Cleanup drops the user and user+cloneSuffix.
func (d *Database) CreateUser(ctx context.Context, user, password, dbname string, master bool) error {
	d.mu.Lock()
	d.users = append(d.users, user)
	d.mu.Unlock()
	if _, err := d.admin.ExecContext(ctx, "CREATE USER ?@'%' IDENTIFIED BY ?", user, password); err != nil {
		return fmt.Errorf("create user %s: %w", user, err)
	}
	// #nosec G202 -- an identifier cannot be a placeholder; quoteIdent quotes it, and the names are the sandbox's own
	grant := "GRANT SELECT, INSERT, UPDATE, DELETE ON " + quoteIdent(dbname) + ".* TO ?@'%'"
	if master {
		grant = "GRANT ALL PRIVILEGES ON *.* TO ?@'%' WITH GRANT OPTION"
	}
	if _, err := d.admin.ExecContext(ctx, grant, user); err != nil {
		return fmt.Errorf("grant privileges to %s: %w", user, err)
	}
	return nil
}

// NewUser creates a user named UniqueName(prefix) with a random password
// and CreateUser's privileges on its own database: on the embedded server
// the "app" database it starts with, elsewhere a new one named as the user.
// It returns them as a database secret's value that names this server.
func (d *Database) NewUser(ctx context.Context, prefix string) (Secret, error) {
	v := Secret{Engine: "mysql", Host: d.Host, Port: d.Port, Username: UniqueName(prefix), Password: RandomPassword(), DBName: "app"}
	if d.embedded == nil {
		v.DBName = v.Username
		if err := d.CreateDatabase(ctx, v.DBName); err != nil {
			return Secret{}, err
		}
	}
	if err := d.CreateUser(ctx, v.Username, v.Password, v.DBName, false); err != nil {
		return Secret{}, err
	}
	return v, nil
}

// cloneSuffix is the rotator's default suffix for the alternate user.
const cloneSuffix = "_clone"

// Cleanup drops every user (and its alternate) and database this Database
// created. It goes on after a failure and returns every error.
func (d *Database) Cleanup(ctx context.Context) error {
	d.mu.Lock()
	users, dbs := d.users, d.dbs
	d.users, d.dbs = nil, nil
	d.mu.Unlock()
	var errs []error
	for _, u := range users {
		for _, name := range []string{u, u + cloneSuffix} {
			if _, err := d.admin.ExecContext(ctx, "DROP USER IF EXISTS ?@'%'", name); err != nil {
				errs = append(errs, fmt.Errorf("drop user %s: %w", name, err))
			}
		}
	}
	for _, db := range dbs {
		if _, err := d.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+quoteIdent(db)); err != nil {
			errs = append(errs, fmt.Errorf("drop database %s: %w", db, err))
		}
	}
	return errors.Join(errs...)
}

// Close closes the connection and stops the embedded server.
func (d *Database) Close() error {
	err := d.admin.Close()
	d.closeEmbedded()
	return err
}

func (d *Database) closeEmbedded() {
	if d.embedded != nil {
		_ = d.embedded.Close()
	}
}

// quoteIdent quotes a MySQL identifier.
func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// CheckLogin logs in with the credentials and runs SELECT 1. A refusal of
// the credentials wraps ErrRejected; any other failure (unreachable, hung)
// does not. The error never contains the password.
func CheckLogin(ctx context.Context, host string, port int, user, password, dbname string) error {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net = user, password, "tcp"
	cfg.Addr = net.JoinHostPort(host, strconv.Itoa(port))
	cfg.DBName = dbname
	cfg.Timeout = 3 * time.Second
	cfg.ReadTimeout = 5 * time.Second
	cfg.WriteTimeout = 5 * time.Second
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return fmt.Errorf("login as %s at %s: %w", user, cfg.Addr, err)
	}
	db := sql.OpenDB(conn)
	defer func() { _ = db.Close() }()
	cctx, cancel := context.WithTimeout(ctx, 8*time.Second)
	defer cancel()
	var one int
	err = db.QueryRowContext(cctx, "SELECT 1").Scan(&one)
	var me *mysql.MySQLError
	switch {
	case errors.As(err, &me) && me.Number == 1045:
		return fmt.Errorf("login as %s at %s: %w (MySQL error %d)", user, cfg.Addr, ErrRejected, me.Number)
	case err != nil:
		return fmt.Errorf("login as %s at %s: %w", user, cfg.Addr, err)
	}
	return nil
}

// track makes Cleanup drop a user (and its clone) and a database that
// something else (the rotator) creates.
func (d *Database) track(user, dbname string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.users = append(d.users, user)
	if dbname != "" {
		d.dbs = append(d.dbs, dbname)
	}
}

// Grants returns SHOW GRANTS FOR 'user'@'%'.
func (d *Database) Grants(ctx context.Context, user string) ([]string, error) {
	rows, err := d.admin.QueryContext(ctx, "SHOW GRANTS FOR "+quoteIdent(user)+"@'%'")
	if err != nil {
		return nil, fmt.Errorf("show grants for %s: %w", user, err)
	}
	defer func() { _ = rows.Close() }()
	var out []string
	for rows.Next() {
		var g string
		if err := rows.Scan(&g); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}
