package mysqldb

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/go-sql-driver/mysql"

	"github.com/dbvault/dbvault/functions/rotator/internal/database"
)

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
	case d.hidesSecondaryPassword:
		return "a retained secondary password, which " + d.name + " does not show", nil
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
// factor), ACCOUNT LOCK, a non-zero resource limit other than the four
// CopyGrants copies from AWSCURRENT's account (copiedLimits) for an
// account that is not plain (the alternate user of an AWS-shaped secret),
// and when plain any non-zero limit, a TLS requirement of its own or a
// default role. The row holds the password
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
		case t.kind == tokWord && strings.HasPrefix(strings.ToUpper(t.text), "MAX_") && next != "0" && (plain || !copiedLimits[strings.ToUpper(t.text)]):
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

// copiedLimits are the resource limits copyLimits gives the alternate user
// from AWSCURRENT's account; any other (MariaDB's MAX_STATEMENT_TIME) is
// neither copied nor reset for it, so one set on it is refused.
var copiedLimits = map[string]bool{"MAX_QUERIES_PER_HOUR": true, "MAX_UPDATES_PER_HOUR": true, "MAX_CONNECTIONS_PER_HOUR": true, "MAX_USER_CONNECTIONS": true}

// AccountHosts lists the host part of every account named user.
func (s *session) AccountHosts(ctx context.Context, user string) ([]string, error) {
	return s.queryStrings(ctx, "look up the accounts named "+user+" in mysql.user",
		"SELECT Host FROM mysql.user WHERE User = ?", user)
}

// errCannotUser is ER_CANNOT_USER ("Operation CREATE USER failed for
// ..."), MariaDB's and MySQL's answer to CREATE USER for an account that
// exists.
const errCannotUser = 1396

func isExists(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == errCannotUser
}
