package mysqldb

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/dbvault/dbvault/functions/rotator/checkpoint"
	"github.com/dbvault/dbvault/functions/rotator/internal/database"
)

// EnsureDatabase runs CREATE DATABASE IF NOT EXISTS with the name as a
// backquoted identifier.
func (s *session) EnsureDatabase(ctx context.Context, name string) error {
	stmt := "CREATE DATABASE IF NOT EXISTS " + quoteIdent(name)
	return s.exec(ctx, stmt, false, stmt)
}

// SetExactGrants reads SHOW GRANTS FOR a and plans the statements that make
// them exactly privileges on database.*: one GRANT of what is missing
// first, then a REVOKE of each other grant row (other objects, roles, the
// undeclared privileges on database.*, GRANT OPTION). It reads again after
// applying them, so that what the server shows only after a change (an ALL
// PRIVILEGES split into its parts, a privilege this code does not know) is
// revoked too, and stops when there is nothing left to do.
//
// Statements are built from the server's own SHOW GRANTS tokens (quoted as
// the server quoted them) and the declared names (from a fixed list); the
// database and account are backquoted identifiers. In the database name,
// the GRANT wildcards _ and % are escaped, so that a grant on app_db.* is
// not also a grant on appXdb.*; go-mysql-server, which takes the name
// literally, gets it unescaped.
func (s *session) SetExactGrants(ctx context.Context, a database.Account, dbname string, privileges, keep []string) error {
	d, err := s.dialect(ctx)
	if err != nil {
		return err
	}
	obj := grantObject(dbname, !d.patternGrantNames)
	acct := quoteAccount(a.User, a.Host)
	for pass := 0; pass < 4; pass++ {
		rows, err := s.showGrants(ctx, a)
		if err != nil {
			return err
		}
		plan, err := planExactGrants(rows, acct, obj, privileges, keep)
		if err != nil {
			return fmt.Errorf("make the grants of %s exact: %w", a, err)
		}
		if len(plan) == 0 {
			return nil
		}
		for _, st := range plan {
			if err := s.execPlanned(ctx, st.sql, st); err != nil {
				return err
			}
		}
	}
	return fmt.Errorf("make the grants of %s exact: SHOW GRANTS still differs from the declaration after four passes", a)
}

// grantObject is `dbname`.* for GRANT and REVOKE, as SHOW GRANTS shows it.
func grantObject(dbname string, literal bool) string {
	if !literal {
		dbname = strings.NewReplacer(`\`, `\\`, `_`, `\_`, `%`, `\%`).Replace(dbname)
	}
	return quoteIdent(dbname) + ".*"
}

// plannedStatement is one statement of the grants' reconciliation and the
// checkpoint passed after it.
type plannedStatement struct {
	sql        string
	checkpoint string
}

// execPlanned runs st (no password among args) and passes its checkpoint:
// the one place the database's statements meet a checkpoint.
func (s *session) execPlanned(ctx context.Context, op string, st plannedStatement, args ...any) error {
	if err := s.exec(ctx, op, false, st.sql, args...); err != nil {
		return err
	}
	return checkpoint.Reach(ctx, st.checkpoint)
}

// planExactGrants compares SHOW GRANTS rows with the declaration: GRANT of
// the missing declared privileges on obj first, then the REVOKEs (none of
// a privilege in keep on obj). MariaDB's "SET DEFAULT ROLE r FOR account"
// row becomes SET DEFAULT ROLE NONE, MariaDB's statement for it
// (https://mariadb.com/kb/en/set-default-role/; MySQL 8 keeps default
// roles out of SHOW GRANTS).
func planExactGrants(rows []string, acct, obj string, want, keep []string) ([]plannedStatement, error) {
	have := map[string]bool{}
	var revokes []plannedStatement
	revoke := func(sql string) {
		revokes = append(revokes, plannedStatement{sql, checkpoint.MySQLAfterRevoke})
	}
	for n, row := range rows {
		if isDefaultRoleRow(row) {
			revokes = append([]plannedStatement{{"SET DEFAULT ROLE NONE FOR " + acct, checkpoint.MySQLAfterRevoke}}, revokes...)
			continue
		}
		g, err := parseGrantRow(row)
		if err != nil {
			// The row may carry a password hash: describe it by position.
			return nil, fmt.Errorf("row %d of SHOW GRANTS not understood: %w", n+1, err)
		}
		if g.object == "" { // a role
			revoke("REVOKE " + g.privileges[0] + " FROM " + acct)
			continue
		}
		if g.grantOption {
			revoke("REVOKE GRANT OPTION ON " + g.object + " FROM " + acct)
		}
		if g.object == obj {
			for _, p := range g.privileges {
				if p == "ALL" || p == "ALL PRIVILEGES" {
					// Split on the next pass: revoke what is not declared.
					for _, q := range allDBPrivileges {
						have[q] = true
					}
					continue
				}
				have[p] = true
			}
			continue
		}
		var privs []string
		for _, p := range g.privileges {
			if p != "USAGE" {
				privs = append(privs, p)
			}
		}
		if len(privs) > 0 {
			revoke("REVOKE " + strings.Join(privs, ", ") + " ON " + g.object + " FROM " + acct)
		}
	}
	var plan []plannedStatement
	var missing, extra []string
	for _, p := range want {
		if !have[p] {
			missing = append(missing, p)
		}
	}
	for p := range have {
		if !slices.Contains(want, p) && !slices.Contains(keep, p) {
			extra = append(extra, p)
		}
	}
	slices.Sort(extra)
	if len(missing) > 0 {
		plan = append(plan, plannedStatement{"GRANT " + strings.Join(missing, ", ") + " ON " + obj + " TO " + acct, checkpoint.MySQLAfterGrant})
	}
	if len(extra) > 0 {
		revokes = append([]plannedStatement{{"REVOKE " + strings.Join(extra, ", ") + " ON " + obj + " FROM " + acct, checkpoint.MySQLAfterRevoke}}, revokes...)
	}
	return append(plan, revokes...), nil
}

// isDefaultRoleRow tells MariaDB's SET DEFAULT ROLE row of SHOW GRANTS.
func isDefaultRoleRow(row string) bool {
	toks, err := lex(row)
	return err == nil && len(toks) >= 3 && toks[0].is("SET") && toks[1].is("DEFAULT") && toks[2].is("ROLE")
}

// allDBPrivileges are what MySQL 8 means by ALL on db.* (GRANT OPTION
// aside); MariaDB's ALL has more, which SHOW GRANTS names once these are
// revoked.
var allDBPrivileges = []string{
	"SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "REFERENCES", "INDEX", "ALTER",
	"CREATE TEMPORARY TABLES", "LOCK TABLES", "EXECUTE", "CREATE VIEW", "SHOW VIEW",
	"CREATE ROUTINE", "ALTER ROUTINE", "EVENT", "TRIGGER",
}

type grantRow struct {
	// privileges are the privilege texts as the server wrote them (upper
	// case words; a column list kept, e.g. "UPDATE (`total`)"), or the
	// role for a role grant.
	privileges []string
	// object is what follows ON (e.g. "`db`.*", "PROCEDURE `db`.`p`"),
	// empty for a role grant.
	object      string
	grantOption bool
}

// parseGrantRow reads one SHOW GRANTS row, MariaDB's or MySQL 8's format.
// USAGE ON *.* is returned with no privileges.
func parseGrantRow(row string) (grantRow, error) {
	toks, err := lex(row)
	if err != nil {
		return grantRow{}, err
	}
	if len(toks) < 3 || !toks[0].is("GRANT") {
		return grantRow{}, fmt.Errorf("not a GRANT statement")
	}
	toAt, onAt := -1, -1
	for i, t := range toks {
		if t.is("ON") && onAt < 0 && toAt < 0 {
			onAt = i
		}
		if t.is("TO") {
			toAt = i
			break
		}
	}
	if toAt < 2 {
		return grantRow{}, fmt.Errorf("GRANT statement without TO")
	}
	var g grantRow
	for i := toAt + 1; i+2 < len(toks); i++ {
		if toks[i].is("WITH") && toks[i+1].is("GRANT") && toks[i+2].is("OPTION") {
			g.grantOption = true
		}
	}
	texts := func(ts []token) []string {
		out := make([]string, len(ts))
		for i, t := range ts {
			out[i] = t.text
		}
		return out
	}
	if onAt < 0 {
		g.privileges = []string{join(texts(toks[1:toAt]))}
		return g, nil
	}
	g.object = join(texts(toks[onAt+1 : toAt]))
	depth := 0
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			g.privileges = append(g.privileges, join(cur))
		}
		cur = nil
	}
	for _, t := range toks[1:onAt] {
		switch {
		case t.text == "(":
			depth++
		case t.text == ")":
			depth--
		case t.text == "," && depth == 0:
			flush()
			continue
		}
		if t.kind == tokWord {
			cur = append(cur, strings.ToUpper(t.text))
			continue
		}
		cur = append(cur, t.text) // quoted column names as written
	}
	flush()
	if g.object == "*.*" && len(g.privileges) == 1 && g.privileges[0] == "USAGE" {
		g.privileges = nil
	}
	if len(g.privileges) == 0 && g.object == "" {
		return grantRow{}, fmt.Errorf("GRANT statement without privileges")
	}
	return g, nil
}

// quoteIdent writes a backquoted identifier.
func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }
