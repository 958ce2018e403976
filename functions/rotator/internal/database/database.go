// Package database is the rotator's view of a database: the few operations a
// rotation needs, behind two small interfaces. internal/mysqldb implements
// them for MySQL-family servers; tests may put anything else behind them.
package database

import (
	"context"
	"errors"
	"fmt"
)

// ErrLoginRejected is wrapped by a Login error when the server answered and
// refused the credentials (wrong password, unknown user). Any other Login
// error means the server could not be asked (down, hung, TLS refused), and
// trying another password would not help.
var ErrLoginRejected = errors.New("the database rejected the credentials")

// ErrPasswordExpired is wrapped by a Session error when the server accepted
// the login but, the account's password having expired, runs nothing but
// a change of the session's own password (MySQL error 1820, "You must SET
// PASSWORD before executing this statement").
var ErrPasswordExpired = errors.New("the account's password has expired")

// ErrAccountExists is wrapped by a CreateAccount error when the account
// exists already (another session created it meanwhile).
var ErrAccountExists = errors.New("the account already exists")

// Login is what it takes to open a session. It holds a password: never
// format it.
type Login struct {
	Host     string
	Port     int
	User     string
	Password string
	DBName   string // optional: the session's default database
}

// Address is "host:port", without credentials.
func (l Login) Address() string { return fmt.Sprintf("%s:%d", l.Host, l.Port) }

// Account is a database account, 'user'@'host' in MySQL's terms.
type Account struct {
	User string
	Host string
}

// String is user@host, for messages.
func (a Account) String() string { return a.User + "@" + a.Host }

// Database opens sessions. Login returns an error wrapping ErrLoginRejected
// when the credentials were refused.
type Database interface {
	Login(ctx context.Context, l Login) (Session, error)
}

// Session is one logged-in connection. Every method is bounded by ctx and by
// the implementation's own statement timeout.
type Session interface {
	// CurrentAccount is the account the server authenticated this session
	// as; its error wraps ErrPasswordExpired when the password has expired.
	CurrentAccount(ctx context.Context) (Account, error)
	// SetPassword changes an account's password.
	SetPassword(ctx context.Context, a Account, password string) error
	// SetOwnPassword changes the password of the session's own account,
	// the one statement a session with an expired password may run.
	SetOwnPassword(ctx context.Context, password string) error
	// AccountExists reports whether the account exists.
	AccountExists(ctx context.Context, a Account) (bool, error)
	// CreateAccount creates an account with a password; its error wraps
	// ErrAccountExists when the account exists.
	CreateAccount(ctx context.Context, a Account, password string) error
	// AccountHosts lists the host part of every account named user.
	AccountHosts(ctx context.Context, user string) ([]string, error)
	// ResetAccount makes a an account of the vault apart from its grants:
	// exactly one login method, password; unlocked; and when plain, no
	// TLS requirement of its own (REQUIRE NONE), no resource limits and no
	// default role. It needs no password of a to work. It reads the account
	// back and returns an error naming any property that still differs.
	ResetAccount(ctx context.Context, a Account, password string, plain bool) error
	// AccountDrift names the first property of a that ResetAccount would
	// change apart from its password (a second login method, a lock, a
	// resource limit, and when plain a TLS requirement of its own or a
	// default role), or "" when there is none. A server that cannot show a
	// property is asked to reset it: then the answer names that.
	AccountDrift(ctx context.Context, a Account, plain bool) (string, error)
	// CopyGrants makes to's privileges exactly from's: every privilege and
	// role that from has (keeping WITH GRANT OPTION, and the default role),
	// anything else to holds revoked, and from's TLS requirement (REQUIRE)
	// and resource limits.
	CopyGrants(ctx context.Context, from, to Account) error
	// EnsureDatabase creates a database unless it exists (CREATE DATABASE
	// IF NOT EXISTS).
	EnsureDatabase(ctx context.Context, name string) error
	// SetExactGrants makes the account's privileges exactly privileges
	// (database-level names, e.g. "SELECT") on database.*: it GRANTs what
	// is missing and REVOKEs everything else the account holds (other
	// privileges on that database, privileges on any other object, roles,
	// a default role, GRANT OPTION), never revoking a declared privilege,
	// so a session using the account keeps working throughout. Privileges
	// in keep that the account holds on database.* are left in place (not
	// granted when missing).
	SetExactGrants(ctx context.Context, a Account, database string, privileges, keep []string) error
	// MaxUserNameLength is the longest user name the server accepts, in characters.
	MaxUserNameLength(ctx context.Context) (int, error)
	// Probe runs a trivial query, to prove the session works.
	Probe(ctx context.Context) error
	// Close ends the session.
	Close() error
}
