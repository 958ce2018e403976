package mysqldb

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/dbvault/dbvault/functions/rotator/checkpoint"
	"github.com/dbvault/dbvault/functions/rotator/internal/database"
)

// CopyGrants makes to's privileges exactly from's: every GRANT row of
// SHOW GRANTS FOR from is replayed for to (roles, column privileges and
// WITH GRANT OPTION included, and MariaDB's SET DEFAULT ROLE), then
// whatever to holds beyond them is revoked (privileges, roles, GRANT
// OPTION, a default role), then the TLS requirement (REQUIRE) and the
// resource limits (MAX_QUERIES_PER_HOUR and the others) are set to
// from's. Grants come before revokes, so a privilege both hold is never
// taken away; an ALL PRIVILEGES that from does not have is revoked whole
// and from's privileges granted again on the next pass.
func (s *session) CopyGrants(ctx context.Context, from, to database.Account) error {
	target := quoteAccount(to.User, to.Host)
	for pass := 0; pass < 4; pass++ {
		rows, err := s.showGrants(ctx, from)
		if err != nil {
			return err
		}
		for n, row := range rows {
			stmt, ok, err := RewriteGrant(row, target)
			if err != nil {
				// The row may carry a password hash: describe it by position.
				return fmt.Errorf("copy grants of %s: row %d of SHOW GRANTS not understood: %w", from, n+1, err)
			}
			if !ok {
				continue
			}
			op := fmt.Sprintf("copy grants of %s to %s (row %d of SHOW GRANTS)", from, to, n+1)
			if err := s.execPlanned(ctx, op, plannedStatement{stmt, checkpoint.MySQLAfterGrant}); err != nil {
				return err
			}
		}
		toRows, err := s.showGrants(ctx, to)
		if err != nil {
			return err
		}
		revokes, err := planRevokeExtras(rows, toRows, target)
		if err != nil {
			return fmt.Errorf("copy grants of %s to %s: %w", from, to, err)
		}
		if len(revokes) == 0 {
			if err := s.copyRequire(ctx, from, to); err != nil {
				return err
			}
			return s.copyLimits(ctx, from, to)
		}
		for _, st := range revokes {
			if err := s.execPlanned(ctx, "revoke from "+to.String()+" what "+from.String()+" does not hold", st); err != nil {
				return err
			}
		}
	}
	return fmt.Errorf("copy grants of %s to %s: SHOW GRANTS still differs after four passes", from, to)
}

// planRevokeExtras lists the REVOKEs that take from to (acct) what its
// SHOW GRANTS rows hold beyond from's: roles, privileges per object
// (column privileges as written), GRANT OPTION per object, a default role.
func planRevokeExtras(fromRows, toRows []string, acct string) ([]plannedStatement, error) {
	type holding struct {
		privs       map[string]bool
		grantOption bool
	}
	parse := func(rows []string) (map[string]*holding, map[string]bool, bool, error) {
		objs, roles, defaultRole := map[string]*holding{}, map[string]bool{}, false
		for n, row := range rows {
			toks, err := lex(row)
			if err != nil {
				return nil, nil, false, fmt.Errorf("row %d of SHOW GRANTS not understood: %w", n+1, err)
			}
			if len(toks) >= 3 && toks[0].is("SET") && toks[1].is("DEFAULT") && toks[2].is("ROLE") {
				defaultRole = true
				continue
			}
			g, err := parseGrantRow(row)
			if err != nil {
				return nil, nil, false, fmt.Errorf("row %d of SHOW GRANTS not understood: %w", n+1, err)
			}
			if g.object == "" {
				roles[g.privileges[0]] = true
				continue
			}
			h := objs[g.object]
			if h == nil {
				h = &holding{privs: map[string]bool{}}
				objs[g.object] = h
			}
			h.grantOption = h.grantOption || g.grantOption
			for _, p := range g.privileges {
				h.privs[p] = true
			}
		}
		return objs, roles, defaultRole, nil
	}
	fromObjs, fromRoles, fromDefault, err := parse(fromRows)
	if err != nil {
		return nil, err
	}
	toObjs, toRoles, toDefault, err := parse(toRows)
	if err != nil {
		return nil, err
	}
	var plan []plannedStatement
	add := func(sql string) { plan = append(plan, plannedStatement{sql, checkpoint.MySQLAfterRevoke}) }
	if toDefault && !fromDefault {
		add("SET DEFAULT ROLE NONE FOR " + acct)
	}
	var roles []string
	for r := range toRoles {
		if !fromRoles[r] {
			roles = append(roles, r)
		}
	}
	slices.Sort(roles)
	for _, r := range roles {
		add("REVOKE " + r + " FROM " + acct)
	}
	objects := make([]string, 0, len(toObjs))
	for o := range toObjs {
		objects = append(objects, o)
	}
	slices.Sort(objects)
	for _, o := range objects {
		h, f := toObjs[o], fromObjs[o]
		if f == nil {
			f = &holding{privs: map[string]bool{}}
		}
		if h.grantOption && !f.grantOption {
			add("REVOKE GRANT OPTION ON " + o + " FROM " + acct)
		}
		if f.privs["ALL"] || f.privs["ALL PRIVILEGES"] {
			continue
		}
		var extra []string
		for p := range h.privs {
			if !f.privs[p] {
				if p == "ALL" {
					p = "ALL PRIVILEGES"
				}
				extra = append(extra, p)
			}
		}
		if len(extra) == 0 {
			continue
		}
		slices.Sort(extra)
		if slices.Contains(extra, "ALL PRIVILEGES") {
			extra = []string{"ALL PRIVILEGES"}
		}
		add("REVOKE " + strings.Join(extra, ", ") + " ON " + o + " FROM " + acct)
	}
	return plan, nil
}

func (s *session) alterRequire(ctx context.Context, op, query string, args ...any) error {
	return s.execPlanned(ctx, op, plannedStatement{query, checkpoint.MySQLAfterRequire}, args...)
}

type tlsRequirement struct{ sslType, cipher, issuer, subject sql.NullString }

func (s *session) readRequire(ctx context.Context, a database.Account) (tlsRequirement, error) {
	qctx, cancel := s.ctx(ctx)
	defer cancel()
	var r tlsRequirement
	err := s.conn.QueryRowContext(qctx,
		"SELECT ssl_type, ssl_cipher, x509_issuer, x509_subject FROM mysql.user WHERE User = ? AND Host = ?",
		a.User, a.Host).Scan(&r.sslType, &r.cipher, &r.issuer, &r.subject)
	if err != nil {
		return r, stmtError("read the TLS requirement of "+a.String(), false, qctx.Err(), s.timeout, err)
	}
	return r, nil
}

// copyRequire makes to's TLS requirement (REQUIRE ...) from's, read from
// the account table, which both MariaDB and MySQL 8 keep in the same
// columns (SHOW GRANTS shows it only on MariaDB). Nothing is run when they
// already agree; REQUIRE NONE when from has none and to has one.
func (s *session) copyRequire(ctx context.Context, from, to database.Account) error {
	fr, err := s.readRequire(ctx, from)
	if err != nil {
		return err
	}
	tr, err := s.readRequire(ctx, to)
	if err != nil {
		return err
	}
	if fr == tr {
		return nil
	}
	op := "copy the TLS requirement of " + from.String() + " to " + to.String()
	switch strings.ToUpper(fr.sslType.String) {
	case "":
		return s.alterRequire(ctx, op, "ALTER USER ?@? REQUIRE NONE", to.User, to.Host)
	case "ANY":
		return s.alterRequire(ctx, op, "ALTER USER ?@? REQUIRE SSL", to.User, to.Host)
	case "X509":
		return s.alterRequire(ctx, op, "ALTER USER ?@? REQUIRE X509", to.User, to.Host)
	case "SPECIFIED":
		var parts []string
		var args = []any{to.User, to.Host}
		for _, p := range []struct{ kw, v string }{{"CIPHER", fr.cipher.String}, {"ISSUER", fr.issuer.String}, {"SUBJECT", fr.subject.String}} {
			if p.v != "" {
				parts = append(parts, p.kw+" ?")
				args = append(args, p.v)
			}
		}
		if len(parts) == 0 {
			return s.alterRequire(ctx, op, "ALTER USER ?@? REQUIRE SSL", to.User, to.Host)
		}
		return s.alterRequire(ctx, op, "ALTER USER ?@? REQUIRE "+strings.Join(parts, " AND "), args...)
	default:
		return fmt.Errorf("%s: unknown ssl_type %q", op, fr.sslType.String)
	}
}

// copyLimits makes to's resource limits from's (mysql.user's
// max_questions, max_updates, max_connections and max_user_connections,
// the same columns on MariaDB and MySQL 8; MySQL 8's SHOW GRANTS does not
// show them). Nothing is run when they agree, or when the server keeps no
// such columns (dialect.limitColumns).
func (s *session) copyLimits(ctx context.Context, from, to database.Account) error {
	d, err := s.dialect(ctx)
	if err != nil || !d.limitColumns {
		return err
	}
	read := func(a database.Account) ([4]int64, error) {
		qctx, cancel := s.ctx(ctx)
		defer cancel()
		var v [4]sql.NullInt64
		err := s.conn.QueryRowContext(qctx,
			"SELECT max_questions, max_updates, max_connections, max_user_connections FROM mysql.user WHERE User = ? AND Host = ?",
			a.User, a.Host).Scan(&v[0], &v[1], &v[2], &v[3])
		if err != nil {
			return [4]int64{}, stmtError("read the resource limits of "+a.String(), false, qctx.Err(), s.timeout, err)
		}
		return [4]int64{v[0].Int64, v[1].Int64, v[2].Int64, v[3].Int64}, nil
	}
	fl, err := read(from)
	if err != nil {
		return err
	}
	tl, err := read(to)
	if err != nil || fl == tl {
		return err
	}
	op := "copy the resource limits of " + from.String() + " to " + to.String()
	return s.exec(ctx, op, false,
		"ALTER USER ?@? WITH MAX_QUERIES_PER_HOUR ? MAX_UPDATES_PER_HOUR ? MAX_CONNECTIONS_PER_HOUR ? MAX_USER_CONNECTIONS ?",
		to.User, to.Host, fl[0], fl[1], fl[2], fl[3])
}
