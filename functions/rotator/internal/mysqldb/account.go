package mysqldb

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/go-sql-driver/mysql"

	"github.com/dbvault/dbvault/functions/rotator/internal/database"
)

// dialect holds the account statements that differ between the server
// families. Each "?" is a driver-escaped argument: the account's user and
// host, then the password where withPassword is set.
type dialect struct {
	name string
	// onlyPassword leaves the account exactly one login method: the
	// password.
	onlyPassword []accountStatement
	// noLimits sets every resource limit the server keeps to 0 (none).
	noLimits string
	// noDefaultRole makes the account's sessions start with no role ("" if
	// the server has no default roles).
	noDefaultRole string
	// accountOptions: the server keeps account locks and TLS requirements
	// and answers SHOW CREATE USER (go-mysql-server does none of these).
	accountOptions bool
}

type accountStatement struct {
	sql          string
	withPassword bool
}

// mariaDB: ALTER USER ... IDENTIFIED VIA replaces the whole list of
// authentication rules ("IDENTIFIED {VIA|WITH} authentication_rule [OR
// authentication_rule] ..."), so a second method added with OR is gone;
// SET PASSWORD FOR would replace only the first
// (https://mariadb.com/kb/en/alter-user/), which also lists MariaDB's
// extra resource limit MAX_STATEMENT_TIME. SET DEFAULT ROLE NONE FOR
// removes the default role (https://mariadb.com/kb/en/set-default-role/).
var mariaDB = dialect{
	name:           "MariaDB",
	onlyPassword:   []accountStatement{{"ALTER USER ?@? IDENTIFIED VIA mysql_native_password USING PASSWORD(?)", true}},
	noLimits:       noLimits + " MAX_STATEMENT_TIME 0",
	noDefaultRole:  "SET DEFAULT ROLE NONE FOR ?@?",
	accountOptions: true,
}

// mySQL8 (MySQL 8.0, Aurora MySQL 3): a secondary password kept with
// RETAIN CURRENT PASSWORD survives ALTER USER ... IDENTIFIED BY; only
// DISCARD OLD PASSWORD removes it (MySQL 8.0 Reference Manual, Password
// Management, dual password support:
// https://dev.mysql.com/doc/refman/8.0/en/password-management.html#dual-passwords).
// SET DEFAULT ROLE NONE TO removes the default roles
// (https://dev.mysql.com/doc/refman/8.0/en/set-default-role.html).
var mySQL8 = dialect{
	name: "MySQL 8",
	onlyPassword: []accountStatement{
		{"ALTER USER ?@? IDENTIFIED BY ?", true},
		{"ALTER USER ?@? DISCARD OLD PASSWORD", false},
	},
	noLimits:       noLimits,
	noDefaultRole:  "SET DEFAULT ROLE NONE TO ?@?",
	accountOptions: true,
}

// embedded is go-mysql-server (version_comment "Dolt"), the sandbox's
// server: it has one password per account and parses neither ACCOUNT
// UNLOCK, REQUIRE, DISCARD OLD PASSWORD, SET DEFAULT ROLE nor SHOW CREATE
// USER, so there is nothing of those to reset or read back.
var embedded = dialect{
	name:         "go-mysql-server",
	onlyPassword: []accountStatement{{"ALTER USER ?@? IDENTIFIED BY ?", true}},
	noLimits:     noLimits,
}

// The statements every dialect shares (the same syntax on MariaDB and
// MySQL 8: https://mariadb.com/kb/en/alter-user/,
// https://dev.mysql.com/doc/refman/8.0/en/alter-user.html).
const (
	unlockAccount = "ALTER USER ?@? ACCOUNT UNLOCK"
	requireNone   = "ALTER USER ?@? REQUIRE NONE"
	noLimits      = "ALTER USER ?@? WITH MAX_QUERIES_PER_HOUR 0 MAX_UPDATES_PER_HOUR 0 MAX_CONNECTIONS_PER_HOUR 0 MAX_USER_CONNECTIONS 0"
)

// dialect tells the server family (MariaDB's cached per address).
func (s *session) dialect(ctx context.Context) (dialect, error) {
	maria, err := s.isMariaDB(ctx)
	if err != nil || maria {
		return mariaDB, err
	}
	literal, err := s.literalGrantNames(ctx)
	if err != nil || literal {
		return embedded, err
	}
	return mySQL8, nil
}

// resetStatements is what ResetAccount sends, in order: the account
// unlocked, and when plain no TLS requirement, no resource limits and no
// default role; the password last, so that a login with it proves the rest
// was done.
func resetStatements(d dialect, plain bool) []accountStatement {
	var out []accountStatement
	if d.accountOptions {
		out = append(out, accountStatement{unlockAccount, false})
	}
	if plain {
		if d.accountOptions {
			out = append(out, accountStatement{requireNone, false})
		}
		out = append(out, accountStatement{d.noLimits, false})
		if d.noDefaultRole != "" {
			out = append(out, accountStatement{d.noDefaultRole, false})
		}
	}
	return append(out, d.onlyPassword...)
}

// ResetAccount runs resetStatements for a, then reads the account back
// (checkAccount).
func (s *session) ResetAccount(ctx context.Context, a database.Account, password string, plain bool) error {
	d, err := s.dialect(ctx)
	if err != nil {
		return err
	}
	for _, st := range resetStatements(d, plain) {
		args := []any{a.User, a.Host}
		op := strings.Replace(strings.Replace(st.sql, "?@?", a.String(), 1), "?", "<password>", 1)
		if st.withPassword {
			args = append(args, password)
		}
		if err := s.exec(ctx, "reset "+a.String()+": "+op, st.withPassword, st.sql, args...); err != nil {
			return err
		}
	}
	if !d.accountOptions {
		return nil
	}
	row, err := s.showCreateUser(ctx, a)
	if err != nil {
		return err
	}
	if err := checkAccount(row, plain); err != nil {
		return fmt.Errorf("%s after the reset (SHOW CREATE USER): %w", a, err)
	}
	return nil
}

// AccountDrift reads the account back as ResetAccount does and names what
// differs. MySQL 8 does not show a secondary password kept with RETAIN
// CURRENT PASSWORD in SHOW CREATE USER
// (https://dev.mysql.com/doc/refman/8.0/en/show-create-user.html), so on
// MySQL 8 the answer is always that one: its accounts are always reset.
// go-mysql-server keeps one password per account and none of the other
// properties, so there is nothing to differ.
func (s *session) AccountDrift(ctx context.Context, a database.Account, plain bool) (string, error) {
	d, err := s.dialect(ctx)
	if err != nil {
		return "", err
	}
	switch {
	case d.name == mySQL8.name:
		return "a retained secondary password, which MySQL 8 does not show", nil
	case !d.accountOptions:
		return "", nil
	}
	row, err := s.showCreateUser(ctx, a)
	if err != nil {
		return "", err
	}
	if err := checkAccount(row, plain); err != nil {
		return err.Error(), nil
	}
	return "", nil
}

func (s *session) showCreateUser(ctx context.Context, a database.Account) (string, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	op := "SHOW CREATE USER " + a.String()
	var row string
	if err := s.conn.QueryRowContext(ctx, "SHOW CREATE USER "+quoteAccount(a.User, a.Host)).Scan(&row); err != nil {
		return "", stmtError(op, false, ctx.Err(), s.timeout, err)
	}
	return row, nil
}

// checkAccount reads a SHOW CREATE USER row (MariaDB's or MySQL 8's) and
// names the first property that a reset account must not have: more than
// one login method (MariaDB's OR, MySQL 8's AND IDENTIFIED of a second
// factor), ACCOUNT LOCK, a non-zero resource limit, and when plain a TLS
// requirement of its own or a default role. The row holds the password
// hash as a quoted string: no quoted string is ever put in a message.
func checkAccount(row string, plain bool) error {
	toks, err := lex(row)
	if err != nil {
		return errors.New("the account's definition was not understood")
	}
	if len(toks) < 2 || !toks[0].is("CREATE") || !toks[1].is("USER") {
		return errors.New("the account's definition is not a CREATE USER statement")
	}
	identified := 0
	for i, t := range toks {
		next := ""
		if i+1 < len(toks) && toks[i+1].kind == tokWord {
			next = strings.ToUpper(toks[i+1].text)
		}
		switch {
		case t.is("IDENTIFIED"):
			identified++
		case t.is("OR"):
			return errors.New("it has more than one login method (IDENTIFIED VIA ... OR ...)")
		case t.is("ACCOUNT") && next == "LOCK":
			return errors.New("it is locked (ACCOUNT LOCK)")
		case t.kind == tokWord && strings.HasPrefix(strings.ToUpper(t.text), "MAX_") && next != "0":
			return fmt.Errorf("it has the resource limit %s", strings.ToUpper(t.text))
		case plain && t.is("REQUIRE") && next != "NONE" && (i == 0 || !toks[i-1].is("PASSWORD")): // not MySQL 8's PASSWORD REQUIRE CURRENT
			return fmt.Errorf("it has a TLS requirement of its own (REQUIRE %s)", next)
		case plain && t.is("DEFAULT") && next == "ROLE":
			return errors.New("it has a default role")
		}
	}
	if identified > 1 {
		return fmt.Errorf("it has %d login methods", identified)
	}
	return nil
}

// AccountHosts lists the host part of every account named user.
func (s *session) AccountHosts(ctx context.Context, user string) ([]string, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	op := "look up the accounts named " + user + " in mysql.user"
	rs, err := s.conn.QueryContext(ctx, "SELECT Host FROM mysql.user WHERE User = ?", user)
	if err != nil {
		return nil, stmtError(op, false, ctx.Err(), s.timeout, err)
	}
	defer func() { _ = rs.Close() }()
	var hosts []string
	for rs.Next() {
		var h string
		if err := rs.Scan(&h); err != nil {
			return nil, stmtError(op, false, ctx.Err(), s.timeout, err)
		}
		hosts = append(hosts, h)
	}
	if err := rs.Err(); err != nil {
		return nil, stmtError(op, false, ctx.Err(), s.timeout, err)
	}
	return hosts, nil
}

// errCannotUser is ER_CANNOT_USER ("Operation CREATE USER failed for
// ..."), MariaDB's and MySQL's answer to CREATE USER for an account that
// exists.
const errCannotUser = 1396

func isExists(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == errCannotUser
}
