// Package mysqldb implements the rotator's database interfaces
// (internal/database) for MySQL-family servers (MySQL 8, Aurora MySQL,
// MariaDB) with github.com/go-sql-driver/mysql.
//
// Passwords reach the server only as driver-escaped parameters, never pasted
// into SQL; account names in statements built from SHOW GRANTS are written as
// backquoted identifiers. TLS is required and verified against the embedded
// Amazon RDS CA bundle unless the function's own configuration disables it;
// there is no fallback to plaintext. Every connection attempt is bounded by a
// connect timeout and every statement by a statement timeout, both under the
// caller's context.
package mysqldb

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/dbvault/dbvault/functions/rotator/internal/database"
)

// RDSCABundle is the Amazon RDS global CA bundle (PEM), embedded so that a
// verified TLS connection needs no file at run time. See docs/rotator.md
// for its origin, checksum and how to refresh it.
//
//go:embed rds-ca-bundle.pem
var RDSCABundle []byte

// Options configure a DB.
type Options struct {
	// TLS is the base TLS configuration (root CAs, minimum version); each
	// login clones it and sets ServerName to the secret's host. Nil means
	// plaintext, which only the function's configuration (DB_TLS=disabled)
	// may choose.
	TLS *tls.Config
	// ConnectTimeout bounds one login: TCP connect, TLS and authentication.
	ConnectTimeout time.Duration
	// StatementTimeout bounds one statement and its result.
	StatementTimeout time.Duration
	// Dial, when set, replaces the TCP dialer (tests route through a proxy).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// DB opens sessions on MySQL-family servers. It implements database.Database.
type DB struct {
	opts Options
	// dialects caches each server address's dialect, learnt once per
	// process (see session.dialect).
	dialects *sync.Map
}

var (
	_ database.Database = (*DB)(nil)
	_ database.Session  = (*session)(nil)
)

// New returns a DB. Zero timeouts get defaults (5 s connect, 10 s statement).
func New(opts Options) *DB {
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = 5 * time.Second
	}
	if opts.StatementTimeout <= 0 {
		opts.StatementTimeout = 10 * time.Second
	}
	return &DB{opts: opts, dialects: &sync.Map{}}
}

// TLSConfig returns the verify-full TLS configuration: the embedded RDS
// bundle plus extraPEM (an operator's or a test's CA, may be nil) as roots,
// TLS 1.2 or later. Host names are verified (ServerName is set per login).
func TLSConfig(extraPEM []byte) (*tls.Config, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(RDSCABundle) {
		return nil, errors.New("the embedded RDS CA bundle holds no certificate")
	}
	if len(extraPEM) > 0 && !pool.AppendCertsFromPEM(extraPEM) {
		return nil, errors.New("the extra CA file holds no PEM certificate")
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

type discardLogger struct{}

func (discardLogger) Print(...any) {}

// SessionSQLMode is the SQL mode of every session, as the driver sets it.
const SessionSQLMode = "'TRADITIONAL'"

// Login opens one session. A refusal of the credentials wraps
// database.ErrLoginRejected; anything else (unreachable, timeout, TLS) does not.
func (d *DB) Login(ctx context.Context, l database.Login) (database.Session, error) {
	cfg := mysql.NewConfig()
	cfg.User = l.User
	cfg.Passwd = l.Password
	cfg.Net = "tcp"
	cfg.Addr = net.JoinHostPort(l.Host, strconv.Itoa(l.Port))
	cfg.DBName = l.DBName
	cfg.Timeout = d.opts.ConnectTimeout
	// The context bounds every call; the socket timeouts are a backstop,
	// set longer so that the context's clearer error comes first.
	cfg.ReadTimeout = d.opts.StatementTimeout + d.opts.ConnectTimeout
	cfg.WriteTimeout = d.opts.StatementTimeout + d.opts.ConnectTimeout
	cfg.InterpolateParams = true // escaped by the driver; works on servers that cannot prepare account statements
	cfg.AllowFallbackToPlaintext = false
	cfg.AllowCleartextPasswords = false
	cfg.Logger = discardLogger{} // the driver's own log lines bypass our redaction
	// The session's SQL mode is pinned: the server's default may hold
	// ANSI_QUOTES, under which SHOW GRANTS and SHOW CREATE USER quote names
	// with " instead of `, or NO_BACKSLASH_ESCAPES, under which a \ in a
	// string literal is not an escape; the grants and account parsers read
	// neither. TRADITIONAL holds neither, and on MySQL 8 no mode that changes
	// what account statements do; MariaDB's adds NO_AUTO_CREATE_USER, which
	// its default has too and which only stops GRANT from creating users
	// (the rotator uses CREATE USER) (MySQL 8.0 Reference Manual, Server SQL Modes:
	// https://dev.mysql.com/doc/refman/8.0/en/sql-mode.html). The driver
	// sends SET sql_mode='TRADITIONAL' right after the login.
	cfg.Params = map[string]string{"sql_mode": SessionSQLMode}
	if d.opts.Dial != nil {
		cfg.DialFunc = d.opts.Dial
	}
	if d.opts.TLS != nil {
		t := d.opts.TLS.Clone()
		t.ServerName = l.Host
		cfg.TLS = t
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("configure connection to %s: %w", l.Address(), err)
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	cctx, cancel := context.WithTimeout(ctx, d.opts.ConnectTimeout)
	defer cancel()
	c, err := db.Conn(cctx)
	if errors.Is(err, mysql.ErrMalformPkt) {
		// go-sql-driver/mysql (v1.10.1, packets.go readAuthResult) strips a
		// trailing 0 byte from an auth switch request's data, which cuts
		// MariaDB's 32-byte ed25519 scramble 1 time in 256 (auth.go then
		// answers ErrMalformPkt); a new connection gets a new scramble.
		c, err = db.Conn(cctx)
	}
	if err != nil {
		_ = db.Close()
		return nil, loginError(l, err, d.opts.ConnectTimeout, cctx.Err())
	}
	return &session{db: db, conn: c, timeout: d.opts.StatementTimeout, addr: l.Address(), dialects: d.dialects}, nil
}

func loginError(l database.Login, err error, timeout time.Duration, ctxErr error) error {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		// ER_ACCESS_DENIED_ERROR, ER_ACCESS_DENIED_NO_PASSWORD_ERROR; and
		// go-mysql-server's answer for a user that does not exist.
		if me.Number == 1045 || me.Number == 1698 || (me.Number == 2012 && strings.Contains(me.Message, "No authentication methods available")) {
			return fmt.Errorf("log in as %s at %s: %w (MySQL error %d)", l.User, l.Address(), database.ErrLoginRejected, me.Number)
		}
		// ER_ACCOUNT_HAS_BEEN_LOCKED: MariaDB 4151, MySQL 8 3118. The
		// password is not checked, so the login proves nothing.
		if me.Number == 4151 || me.Number == 3118 {
			return fmt.Errorf("log in as %s at %s: the account is locked (ACCOUNT LOCK): %w (MySQL error %d)", l.User, l.Address(), database.ErrLoginRejected, me.Number)
		}
		// Blocked after too many failed logins: MySQL 8's
		// FAILED_LOGIN_ATTEMPTS and PASSWORD_LOCK_TIME (3955,
		// ER_USER_ACCESS_DENIED_FOR_USER_ACCOUNT_BLOCKED_BY_PASSWORD_LOCK;
		// https://dev.mysql.com/doc/refman/8.0/en/password-management.html,
		// "Failed-Login Tracking and Temporary Account Locking"), MariaDB's
		// max_password_errors (4150, ER_USER_IS_BLOCKED). The password is
		// not checked either; the master's ALTER USER ... ACCOUNT UNLOCK
		// lifts a temporary lock in MySQL 8.0.19 and later
		// (https://dev.mysql.com/doc/refman/8.0/en/account-locking.html).
		if me.Number == 3955 || me.Number == 4150 {
			return fmt.Errorf("log in as %s at %s: the account is blocked after too many failed logins: %w (MySQL error %d)", l.User, l.Address(), database.ErrLoginRejected, me.Number)
		}
		// ER_MUST_CHANGE_PASSWORD_LOGIN: the password was right but has
		// expired, and MySQL 8 (disconnect_on_expired_password, on by
		// default) refuses the login of a client that does not say it can
		// handle one, which go-sql-driver/mysql does not
		// (https://dev.mysql.com/doc/refman/8.0/en/expired-password-handling.html).
		// Not a rejected password: no other password is tried on it (each
		// would count as a failed login); where a master may reset the
		// account, the rotation does (deps.logsIn).
		if me.Number == 1862 {
			return fmt.Errorf("log in as %s at %s: %w, and the server refuses the login (MySQL 8's disconnect_on_expired_password; MySQL error 1862)", l.User, l.Address(), database.ErrPasswordExpired)
		}
		return fmt.Errorf("log in as %s at %s: MySQL error %d (%s): %s", l.User, l.Address(), me.Number, me.SQLState, me.Message)
	}
	if ctxErr != nil {
		return fmt.Errorf("log in as %s at %s: no answer within %s (is the database up and reachable from the function?): %w", l.User, l.Address(), timeout, err)
	}
	if errors.Is(err, mysql.ErrNoTLS) {
		return fmt.Errorf("log in as %s at %s: the server does not offer TLS and DB_TLS requires it (no fallback to plaintext): %w", l.User, l.Address(), err)
	}
	var certErr *tls.CertificateVerificationError
	var hostErr x509.HostnameError
	if errors.As(err, &certErr) || errors.As(err, &hostErr) {
		return fmt.Errorf("log in as %s at %s: the server's TLS certificate failed verification (check the CA bundle and that the secret's host is a name on the certificate): %w", l.User, l.Address(), err)
	}
	if errors.Is(err, mysql.ErrInvalidConn) {
		return fmt.Errorf("log in as %s at %s: the connection broke (is the database up and reachable from the function?): %w", l.User, l.Address(), err)
	}
	return fmt.Errorf("log in as %s at %s: %w", l.User, l.Address(), err)
}

// StatementError is a server's refusal of a statement. Op describes the
// statement without any password.
type StatementError struct {
	Op  string
	Err *mysql.MySQLError
}

func (e *StatementError) Error() string {
	return fmt.Sprintf("%s: MySQL error %d (%s): %s", e.Op, e.Err.Number, string(e.Err.SQLState[:]), e.Err.Message)
}

// Unwrap gives the driver's error.
func (e *StatementError) Unwrap() error { return e.Err }

type session struct {
	db       *sql.DB
	conn     *sql.Conn
	timeout  time.Duration
	addr     string
	dialects *sync.Map // the DB's cache: addr -> dialect
}

func (s *session) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout)
}

// exec runs a statement. secretArgs says that its arguments include a
// password: then a syntax error, whose message quotes the statement, is
// reported by number only.
func (s *session) exec(ctx context.Context, op string, secretArgs bool, query string, args ...any) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err := s.conn.ExecContext(ctx, query, args...)
	return stmtError(op, secretArgs, ctx.Err(), s.timeout, err)
}

func stmtError(op string, secretArgs bool, ctxErr error, timeout time.Duration, err error) error {
	if err == nil {
		return nil
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		if secretArgs && (me.Number == 1064 || strings.Contains(me.Message, "near '")) {
			return &StatementError{Op: op, Err: &mysql.MySQLError{Number: me.Number, SQLState: me.SQLState, Message: "(message withheld: it would quote a password)"}}
		}
		return &StatementError{Op: op, Err: me}
	}
	if ctxErr != nil {
		return fmt.Errorf("%s: no answer within %s: %w", op, timeout, err)
	}
	if errors.Is(err, mysql.ErrInvalidConn) {
		return fmt.Errorf("%s: the connection broke (is the database up?): %w", op, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

func (s *session) CurrentAccount(ctx context.Context) (database.Account, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	var v string
	if err := s.conn.QueryRowContext(ctx, "SELECT CURRENT_USER()").Scan(&v); err != nil {
		var me *mysql.MySQLError
		if errors.As(err, &me) && me.Number == 1820 {
			return database.Account{}, fmt.Errorf("SELECT CURRENT_USER(): %w (MySQL error 1820: %s)", database.ErrPasswordExpired, me.Message)
		}
		return database.Account{}, stmtError("SELECT CURRENT_USER()", false, ctx.Err(), s.timeout, err)
	}
	// The host part never contains '@'; a user name may.
	i := strings.LastIndex(v, "@")
	if i < 0 {
		return database.Account{}, fmt.Errorf("SELECT CURRENT_USER(): unexpected answer without @")
	}
	return database.Account{User: v[:i], Host: v[i+1:]}, nil
}

// SetPassword keeps the account's authentication plugin. On MariaDB it
// uses SET PASSWORD FOR ... = PASSWORD(...), which hashes for the plugin
// the account has (mysql_native_password, ed25519) and which anyone may run
// on their own account, whereas ALTER USER ... IDENTIFIED BY would switch
// the account to mysql_native_password (and asks the CREATE USER privilege
// even for one's own account). MySQL 8, Aurora MySQL and go-mysql-server
// have no PASSWORD() and take ALTER USER ... IDENTIFIED BY; should that be
// refused for lack of privilege (1227), MySQL 8's SET PASSWORD FOR ... =
// 'auth_string' is tried as well
// (https://dev.mysql.com/doc/refman/8.0/en/set-password.html), never a
// PASSWORD() those servers would refuse as a syntax error after the
// password had been sent, and written to any log that records failed
// statements.
func (s *session) SetPassword(ctx context.Context, a database.Account, password string) error {
	d, err := s.dialect(ctx)
	if err != nil {
		return err
	}
	if d.passwordFunction {
		return s.exec(ctx, "SET PASSWORD FOR "+a.String()+" = PASSWORD(<password>)", true,
			"SET PASSWORD FOR ?@? = PASSWORD(?)", a.User, a.Host, password)
	}
	err = s.exec(ctx, "ALTER USER "+a.String()+" IDENTIFIED BY <password>", true,
		"ALTER USER ?@? IDENTIFIED BY ?", a.User, a.Host, password)
	var me *mysql.MySQLError
	if err == nil || !errors.As(err, &me) || me.Number != 1227 {
		return err
	}
	return s.exec(ctx, "SET PASSWORD FOR "+a.String()+" = <password>", true,
		"SET PASSWORD FOR ?@? = ?", a.User, a.Host, password)
}

// SetOwnPassword: MariaDB's SET PASSWORD = PASSWORD(...), which a session
// with an expired password may run; MySQL 8 has no PASSWORD() (a syntax
// error, 1064), and takes ALTER USER USER() IDENTIFIED BY in that state.
// A session with an expired password can ask the server nothing else, so
// the dialect is known only when another session at this address learnt
// it; when it is MySQL 8's, the statement that would fail is not sent.
func (s *session) SetOwnPassword(ctx context.Context, password string) error {
	if d, ok := s.dialects.Load(s.addr); ok && !d.(dialect).passwordFunction {
		return s.exec(ctx, "ALTER USER USER() IDENTIFIED BY <password>", true, "ALTER USER USER() IDENTIFIED BY ?", password)
	}
	err := s.exec(ctx, "SET PASSWORD = PASSWORD(<password>)", true, "SET PASSWORD = PASSWORD(?)", password)
	var me *mysql.MySQLError
	if err == nil || !errors.As(err, &me) || me.Number != 1064 {
		return err
	}
	return s.exec(ctx, "ALTER USER USER() IDENTIFIED BY <password>", true, "ALTER USER USER() IDENTIFIED BY ?", password)
}

func (s *session) AccountExists(ctx context.Context, a database.Account) (bool, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	var n int
	err := s.conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM mysql.user WHERE User = ? AND Host = ?", a.User, a.Host).Scan(&n)
	if err != nil {
		return false, stmtError("look up "+a.String()+" in mysql.user", false, ctx.Err(), s.timeout, err)
	}
	return n > 0, nil
}

// CreateAccount: an account that exists already (created meanwhile by
// another session) is an error wrapping database.ErrAccountExists.
func (s *session) CreateAccount(ctx context.Context, a database.Account, password string) error {
	err := s.exec(ctx, "CREATE USER "+a.String()+" IDENTIFIED BY <password>", true,
		"CREATE USER ?@? IDENTIFIED BY ?", a.User, a.Host, password)
	if isExists(err) {
		return fmt.Errorf("%w: %w", database.ErrAccountExists, err)
	}
	return err
}

func (s *session) showGrants(ctx context.Context, a database.Account) ([]string, error) {
	return s.queryStrings(ctx, "SHOW GRANTS FOR "+a.String(), "SHOW GRANTS FOR "+quoteAccount(a.User, a.Host))
}

// queryStrings runs a query whose rows are one string each.
func (s *session) queryStrings(ctx context.Context, op, query string, args ...any) ([]string, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	rs, err := s.conn.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, stmtError(op, false, ctx.Err(), s.timeout, err)
	}
	defer func() { _ = rs.Close() }()
	var out []string
	for rs.Next() {
		var row string
		if err := rs.Scan(&row); err != nil {
			return nil, stmtError(op, false, ctx.Err(), s.timeout, err)
		}
		out = append(out, row)
	}
	if err := rs.Err(); err != nil {
		return nil, stmtError(op, false, ctx.Err(), s.timeout, err)
	}
	return out, nil
}

// MaxUserNameLength reads the limit from the server: the width of
// mysql.user's User column in information_schema (MariaDB 10.11: 128,
// MySQL 8 and Aurora MySQL 3: 32). Only when the server does not say
// (no row, no privilege to see it) does it fall back to the smallest limit
// of the server's family: 80 on MariaDB (since 10.0), 32 otherwise.
func (s *session) MaxUserNameLength(ctx context.Context) (int, error) {
	qctx, cancel := s.ctx(ctx)
	defer cancel()
	var n sql.NullInt64
	err := s.conn.QueryRowContext(qctx, "SELECT CHARACTER_MAXIMUM_LENGTH FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'mysql' AND TABLE_NAME = 'user' AND COLUMN_NAME = 'User'").Scan(&n)
	if err == nil && n.Valid && n.Int64 >= 16 && n.Int64 <= 1024 {
		return int(n.Int64), nil
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		var me *mysql.MySQLError
		if !errors.As(err, &me) {
			return 0, stmtError("read the user name limit from information_schema", false, qctx.Err(), s.timeout, err)
		}
	}
	d, err := s.dialect(ctx)
	if err != nil {
		return 0, err
	}
	return d.shortestUserNameLimit, nil
}

func (s *session) Probe(ctx context.Context) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	var one int
	if err := s.conn.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return stmtError("probe query SELECT 1", false, ctx.Err(), s.timeout, err)
	}
	return nil
}

func (s *session) Close() error {
	err := s.conn.Close()
	if cerr := s.db.Close(); err == nil {
		err = cerr
	}
	return err
}
