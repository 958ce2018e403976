package chaos

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/dbvault/dbvault/tools/sandbox"
)

// The insider is the threat to declared users: a reader of the secret
// (any principal allowed GetSecretValue) logs in with AWSCURRENT's or
// AWSPREVIOUS's credential and changes that account's own password to one
// it chose. On MariaDB that is SET PASSWORD = PASSWORD('...'), which needs
// no privilege: "Any client that has connected to the server using a
// non-anonymous account can change the password for that account"
// (https://mariadb.com/kb/en/set-password/). MySQL 8.0 lets an account
// change its own password with ALTER USER USER() IDENTIFIED BY, and asks
// for the current one only when password_require_current is on, which it
// is not by default (https://dev.mysql.com/doc/refman/8.0/en/alter-user.html,
// https://dev.mysql.com/worklog/task/?id=11544). Aurora MySQL 3 is
// MySQL 8.0-compatible; that it keeps this default is not confirmed here.
//
// What the rotation must do about it: its next rotation resets both of the
// secret's accounts to the declared state (the pending account gets
// AWSPENDING's password, AWSCURRENT's account its own password again), so
// the next completed rotation must succeed (no "will not take over", no
// AWSPENDING left), and after it AWSCURRENT logs in and the insider's
// password logs in to neither account. That next rotation touches the
// insider's account either way: AWSCURRENT's account is reset by every
// rotation, and AWSPREVIOUS's account is the one the next rotation makes
// pending.

// The stages an insider can hold a credential of.
const (
	stageCurrent  = "AWSCURRENT"
	stagePrevious = "AWSPREVIOUS"
)

// insiderRate is the share of declared rotations preceded by an insider
// step (when the drawn stage has a credential to use).
const insiderRate = 0.15

// tamper is an insider step: whose credential was used, which account's
// password changed, and to what.
type tamper struct {
	stage    string
	user     string
	password string
}

// newInsiderRand is the insider's generator for a seed. It is not the
// faults' generator: adding insider steps leaves every fault drawn for a
// seed as it was, and the insider's draws (two per declared rotation,
// whatever the state) are known from the seed alone.
func newInsiderRand(seed uint64) *rand.Rand {
	// #nosec G404 -- the generator chooses insider steps and must repeat from a seed; it makes no secret
	return rand.New(rand.NewPCG(seed^0x1d5e7, seed^0x5bd1e9955bd1e995))
}

// drawInsider draws, before a declared rotation, whether an insider step
// comes first and with which stage's credential.
func drawInsider(rng *rand.Rand) (stage string, ok bool) {
	ok = rng.Float64() < insiderRate
	stage = stageCurrent
	if rng.IntN(2) == 1 {
		stage = stagePrevious
	}
	return stage, ok
}

// maybeInsider draws and, if drawn, makes the insider step before rotation
// i of a declared subject. A drawn stage with no usable credential (a
// secret not yet provisioned, no AWSPREVIOUS with a password of the other
// account yet) or a subject still waiting for the rotation after an
// earlier step gets none. The error is for a failure of the checker; a
// credential that does not log in is a violation.
func (e *env) maybeInsider(ctx context.Context, rng *rand.Rand, s *subject, i int, rep *Report) error {
	stage, ok := drawInsider(rng)
	if !ok || s.tamper != nil {
		return nil
	}
	return e.insider(ctx, s, stage, i, rep)
}

// insider makes the insider step with stage's credential, if it has one.
func (e *env) insider(ctx context.Context, s *subject, stage string, i int, rep *Report) error {
	st := e.describe(ctx, s)
	if st.err != nil {
		return fmt.Errorf("insider: DescribeSecret: %w", st.err)
	}
	id := st.current
	if stage == stagePrevious {
		id = st.previous
	}
	if id == "" || (st.pending != "" && st.pending != st.current) {
		return nil
	}
	v, err := e.value(ctx, s, id)
	if err != nil {
		return fmt.Errorf("insider: read %s: %w", stage, err)
	}
	if v.Password == "" {
		return nil
	}
	if stage == stagePrevious {
		cur, err := e.value(ctx, s, st.current)
		if err != nil {
			return fmt.Errorf("insider: read AWSCURRENT: %w", err)
		}
		if cur.Username == v.Username {
			return nil // AWSPREVIOUS is the unprovisioned first version's user: no second account yet
		}
	}
	t := &tamper{stage: stage, user: v.Username, password: sandbox.RandomPassword()}
	rep.Checks++
	if err := changeOwnPassword(ctx, e.DB.Host, e.DB.Port, v.Username, v.Password, t.password); err != nil {
		rep.Violations = append(rep.Violations, fmt.Sprintf("%s rotation %d: insider step with %s's credential: %v", s.strategy, i, stage, err))
		return nil
	}
	s.tamper = t
	rep.Insider[stage]++
	fmt.Fprintf(e.out, "%-11s rotation %2d: insider: logged in with %s's credential and changed the password of %s\n", s.strategy, i, stage, v.Username)
	return nil
}

// changeOwnPassword logs in as user with password and changes the
// account's own password to newPassword: SET PASSWORD = PASSWORD(...)
// (MariaDB), else ALTER USER on the account CURRENT_USER() names (MySQL 8,
// and go-mysql-server, which refuses SET PASSWORD). The error never holds
// a password.
func changeOwnPassword(ctx context.Context, host string, port int, user, password, newPassword string) error {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net = user, password, "tcp"
	cfg.Addr = net.JoinHostPort(host, strconv.Itoa(port))
	cfg.Timeout = 3 * time.Second
	cfg.InterpolateParams = true // the password is sent escaped inside the statement, never in an error
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return fmt.Errorf("log in as %s: %w", user, err)
	}
	db := sql.OpenDB(conn)
	defer func() { _ = db.Close() }()
	cctx, cancel := context.WithTimeout(ctx, 8*time.Second)
	defer cancel()
	c, err := db.Conn(cctx)
	if err != nil {
		return fmt.Errorf("log in as %s: %w", user, err)
	}
	defer func() { _ = c.Close() }()
	_, setErr := c.ExecContext(cctx, "SET PASSWORD = PASSWORD(?)", newPassword)
	if setErr == nil {
		return nil
	}
	var account string
	if err := c.QueryRowContext(cctx, "SELECT CURRENT_USER()").Scan(&account); err != nil {
		return fmt.Errorf("as %s: SET PASSWORD failed (%s) and SELECT CURRENT_USER() too: %w", user, mysqlCode(setErr), err)
	}
	at := strings.LastIndexByte(account, '@')
	if at < 0 {
		return fmt.Errorf("as %s: CURRENT_USER() is not user@host", user)
	}
	if _, err := c.ExecContext(cctx, "ALTER USER ?@? IDENTIFIED BY ?", account[:at], account[at+1:], newPassword); err != nil {
		return fmt.Errorf("as %s: SET PASSWORD failed (%s) and ALTER USER failed (%s)", user, mysqlCode(setErr), mysqlCode(err))
	}
	return nil
}

// mysqlCode names a server error by its number, without its message
// (which may quote the statement, and so the password).
func mysqlCode(err error) string {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return fmt.Sprintf("MySQL error %d", me.Number)
	}
	return "not a server error"
}

// insiderCheck runs after the subject's first rotation completed since an
// insider step (its invariants, now with no exemption, have run just
// before): the insider's password must log in to neither of the declared
// user's accounts.
func (e *env) insiderCheck(ctx context.Context, s *subject, t *tamper) []string {
	var bad []string
	st := e.describe(ctx, s)
	cur, err := e.value(ctx, s, st.current)
	if err != nil {
		return []string{"insider check: " + err.Error()}
	}
	base, _ := strings.CutSuffix(cur.Username, "_clone")
	for _, user := range []string{base, base + "_clone"} {
		err := sandbox.CheckLogin(ctx, e.DB.Host, e.DB.Port, user, t.password, "")
		switch {
		case err == nil:
			bad = append(bad, fmt.Sprintf("the password the insider set with %s's credential still logs in to %s after the next rotation", t.stage, user))
		case !errors.Is(err, sandbox.ErrRejected):
			bad = append(bad, fmt.Sprintf("insider check: %v", err))
		}
	}
	return bad
}
