package rotation_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/dbvault/dbvault/functions/rotator/internal/database"
	"github.com/dbvault/dbvault/functions/rotator/internal/rotation"
	"github.com/dbvault/dbvault/functions/rotator/internal/testdb"
)

// leakyDB is a database whose every error, and one panic, quotes the
// password it was given, in every encoding of leakForms: the worst a
// driver could do. The handler's
// redactor must still keep every password out of its errors and logs.
type leakyDB struct {
	inner database.Database
	fail  string // the operation that fails
}

func (d leakyDB) Login(ctx context.Context, l database.Login) (database.Session, error) {
	if d.fail == "login" {
		return nil, fmt.Errorf("login failed for %s with password %s: %w", l.User, leakForms(l.Password), database.ErrLoginRejected)
	}
	s, err := d.inner.Login(ctx, l)
	if err != nil {
		return nil, fmt.Errorf("%w (password %s)", err, leakForms(l.Password))
	}
	return leakySession{Session: s, fail: d.fail, loginPassword: l.Password}, nil
}

type leakySession struct {
	database.Session
	fail          string
	loginPassword string
}

func (s leakySession) SetPassword(ctx context.Context, a database.Account, pw string) error {
	switch s.fail {
	case "set":
		return fmt.Errorf("ALTER USER %s IDENTIFIED BY '%s' failed; logged in with '%s'", a, leakForms(pw), leakForms(s.loginPassword))
	case "panic":
		panic("driver bug while sending " + leakForms(pw))
	}
	return s.Session.SetPassword(ctx, a, pw)
}

func (s leakySession) ResetAccount(ctx context.Context, a database.Account, pw string, plain bool) error {
	switch s.fail {
	case "set":
		return fmt.Errorf("ALTER USER %s IDENTIFIED VIA mysql_native_password USING PASSWORD('%s') failed; logged in with '%s'", a, leakForms(pw), leakForms(s.loginPassword))
	case "panic":
		panic("driver bug while sending " + leakForms(pw))
	}
	return s.Session.ResetAccount(ctx, a, pw, plain)
}

func (s leakySession) CreateAccount(ctx context.Context, a database.Account, pw string) error {
	if s.fail == "create" {
		return fmt.Errorf("CREATE USER %s IDENTIFIED BY '%s' failed", a, leakForms(pw))
	}
	return s.Session.CreateAccount(ctx, a, pw)
}

func (s leakySession) Probe(ctx context.Context) error {
	if s.fail == "probe" {
		return errors.New("probe failed for password " + leakForms(s.loginPassword))
	}
	return s.Session.Probe(ctx)
}

func TestNoSecretInErrorsOrLogsWhenTheDriverLeaks(t *testing.T) {
	for _, fail := range []string{"login", "set", "panic", "probe"} {
		t.Run(fail, func(t *testing.T) {
			e := newEnv(t) // its cleanup checks every error and log line
			e.h.DB = leakyDB{inner: e.h.DB, fail: fail}
			user := testdb.Name("rt_")
			testdb.CreateUser(t, e.root, user, "initial-password-1")
			arn := e.newSecret(dbSecret(t, user, "initial-password-1", nil))
			err := e.rotate(arn)
			if err == nil {
				t.Fatal("the rotation succeeded")
			}
			// A rejected login is reported without the driver's text; the
			// others carry it, redacted.
			if fail != "login" && !strings.Contains(err.Error(), "[redacted]") {
				t.Fatalf("nothing was redacted: %v", err)
			}
			if fail == "panic" && !strings.Contains(err.Error(), "internal error (panic)") {
				t.Fatalf("the panic was not turned into an error: %v", err)
			}
			if e.holder(arn, rotation.StageCurrent) == e.holder(arn, rotation.StagePending) {
				t.Fatal("AWSCURRENT moved")
			}
		})
	}
}

// The same for a declared user, whose account is created with the
// AWSPENDING password itself.
func TestNoSecretInErrorsOrLogsWhenTheDriverLeaksDeclared(t *testing.T) {
	for _, fail := range []string{"login", "create", "set", "panic", "probe"} {
		t.Run(fail, func(t *testing.T) {
			e := newEnv(t)
			e.h.DB = leakyDB{inner: e.h.DB, fail: fail}
			d := e.declared(t, "SELECT")
			if fail == "set" || fail == "panic" || fail == "probe" {
				// The first rotation creates the account; the leak comes on
				// the second, which sets the clone's password.
				e.h.DB = leakyDB{inner: e.h.DB.(leakyDB).inner, fail: "none"}
				if err := e.rotate(d.arn); err != nil {
					t.Fatal(err)
				}
				e.h.DB = leakyDB{inner: e.h.DB.(leakyDB).inner, fail: fail}
			}
			err := e.rotate(d.arn)
			if err == nil {
				t.Fatal("the rotation succeeded")
			}
			if fail != "login" && !strings.Contains(err.Error(), "[redacted]") {
				t.Fatalf("nothing was redacted: %v", err)
			}
		})
	}
}
