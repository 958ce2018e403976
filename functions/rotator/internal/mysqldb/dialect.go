package mysqldb

import (
	"context"
	"strings"
)

// dialect is everything the rotator does differently per server family.
// A session learns it once per server address and process (dialectOf),
// and every statement that differs reads it from here.
type dialect struct {
	name string
	// passwordFunction: the server has PASSWORD() (MariaDB). SET PASSWORD
	// FOR ... = PASSWORD(...) then hashes for the plugin the account has,
	// and anyone may run it on their own account.
	passwordFunction bool
	// onlyPassword leaves the account exactly one login method: the
	// password. Each "?" is a driver-escaped argument: the account's user
	// and host, then the password where withPassword is set.
	onlyPassword []accountStatement
	// noLimits sets every resource limit the server keeps to 0 (none).
	noLimits string
	// noDefaultRole makes the account's sessions start with no role ("" if
	// the server has no default roles).
	noDefaultRole string
	// accountOptions: the server keeps account locks and TLS requirements
	// and answers SHOW CREATE USER.
	accountOptions bool
	// hidesSecondaryPassword: SHOW CREATE USER does not show a secondary
	// password kept with RETAIN CURRENT PASSWORD, so an account can never
	// be shown to have none.
	hidesSecondaryPassword bool
	// patternGrantNames: GRANT reads a database name as a pattern (_ and %
	// are wildcards), so a name is escaped to mean only itself.
	patternGrantNames bool
	// limitColumns: mysql.user holds the resource limits (max_questions,
	// max_updates, max_connections, max_user_connections).
	limitColumns bool
	// shortestUserNameLimit is the family's smallest limit on user names,
	// used only when information_schema does not tell the server's.
	shortestUserNameLimit int
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
// User names: 80 characters since 10.0 (128 in 10.11's mysql.user).
var mariaDB = dialect{
	name:                  "MariaDB",
	passwordFunction:      true,
	onlyPassword:          []accountStatement{{"ALTER USER ?@? IDENTIFIED VIA mysql_native_password USING PASSWORD(?)", true}},
	noLimits:              noLimits + " MAX_STATEMENT_TIME 0",
	noDefaultRole:         "SET DEFAULT ROLE NONE FOR ?@?",
	accountOptions:        true,
	patternGrantNames:     true,
	limitColumns:          true,
	shortestUserNameLimit: 80,
}

// mySQL8 (MySQL 8.0, Aurora MySQL 3): a secondary password kept with
// RETAIN CURRENT PASSWORD survives ALTER USER ... IDENTIFIED BY; only
// DISCARD OLD PASSWORD removes it (MySQL 8.0 Reference Manual, Password
// Management, dual password support:
// https://dev.mysql.com/doc/refman/8.0/en/password-management.html#dual-passwords),
// and SHOW CREATE USER does not show it
// (https://dev.mysql.com/doc/refman/8.0/en/show-create-user.html).
// SET DEFAULT ROLE NONE TO removes the default roles
// (https://dev.mysql.com/doc/refman/8.0/en/set-default-role.html).
// User names: 32 characters.
var mySQL8 = dialect{
	name: "MySQL 8",
	onlyPassword: []accountStatement{
		{"ALTER USER ?@? IDENTIFIED BY ?", true},
		{"ALTER USER ?@? DISCARD OLD PASSWORD", false},
	},
	noLimits:               noLimits,
	noDefaultRole:          "SET DEFAULT ROLE NONE TO ?@?",
	accountOptions:         true,
	hidesSecondaryPassword: true,
	patternGrantNames:      true,
	limitColumns:           true,
	shortestUserNameLimit:  32,
}

// embedded is go-mysql-server (version_comment "Dolt"), the server the
// sandbox starts when it is given none: it reports MySQL 8.0.31, has one
// password per account, parses neither ACCOUNT UNLOCK, REQUIRE, DISCARD
// OLD PASSWORD, SET DEFAULT ROLE nor SHOW CREATE USER (so there is nothing
// of those to reset or read back), keeps no resource limits and takes
// database names in GRANT literally.
var embedded = dialect{
	name:                  "go-mysql-server",
	onlyPassword:          []accountStatement{{"ALTER USER ?@? IDENTIFIED BY ?", true}},
	noLimits:              noLimits,
	shortestUserNameLimit: 32,
}

// The statements every dialect shares (the same syntax on MariaDB and
// MySQL 8: https://mariadb.com/kb/en/alter-user/,
// https://dev.mysql.com/doc/refman/8.0/en/alter-user.html).
const (
	unlockAccount = "ALTER USER ?@? ACCOUNT UNLOCK"
	requireNone   = "ALTER USER ?@? REQUIRE NONE"
	noLimits      = "ALTER USER ?@? WITH MAX_QUERIES_PER_HOUR 0 MAX_UPDATES_PER_HOUR 0 MAX_CONNECTIONS_PER_HOUR 0 MAX_USER_CONNECTIONS 0"
)

// dialectOf tells the family from SELECT VERSION(), @@version_comment:
// MariaDB names itself in its version ("10.11.6-MariaDB-0+deb12u1"),
// go-mysql-server in its comment; anything else is MySQL 8 or Aurora
// MySQL 3.
func dialectOf(version, comment string) dialect {
	switch {
	case strings.Contains(strings.ToLower(version), "mariadb"):
		return mariaDB
	case comment == "Dolt":
		return embedded
	}
	return mySQL8
}

// dialect is the server's dialect: the DB's, learnt by the first session
// at this address that needed it.
func (s *session) dialect(ctx context.Context) (dialect, error) {
	if d, ok := s.dialects.Load(s.addr); ok {
		return d.(dialect), nil
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	var version, comment string
	if err := s.conn.QueryRowContext(ctx, "SELECT VERSION(), @@version_comment").Scan(&version, &comment); err != nil {
		return dialect{}, stmtError("SELECT VERSION(), @@version_comment", false, ctx.Err(), s.timeout, err)
	}
	d := dialectOf(version, comment)
	s.dialects.Store(s.addr, d)
	return d, nil
}
