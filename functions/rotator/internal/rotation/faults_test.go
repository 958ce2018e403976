package rotation_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dbvault/dbvault/functions/rotator/faultproxy"
	"github.com/dbvault/dbvault/functions/rotator/internal/database"
	"github.com/dbvault/dbvault/functions/rotator/internal/mysqldb"
	"github.com/dbvault/dbvault/functions/rotator/internal/rotation"
	"github.com/dbvault/dbvault/functions/rotator/internal/testdb"
)

// TestDatabaseDownOrHung puts a proxy between the rotator and MariaDB and
// takes the database down, or makes it hang, during setSecret and
// testSecret (before the step and, for setSecret, between its login and
// its ALTER). Each time the step fails within its bound with a clear error,
// and once the database is back a retry completes the rotation.
func TestDatabaseDownOrHung(t *testing.T) {
	const bound = 700 * time.Millisecond
	cases := []struct {
		name   string
		step   string
		mode   faultproxy.Mode
		during string // checkpoint at which the fault starts; "" = before the step
		want   string
	}{
		{"setSecret/down", rotation.StepSet, faultproxy.Drop, "", "cannot try the AWSPENDING password"},
		{"setSecret/hung", rotation.StepSet, faultproxy.Hang, "", "no answer within"},
		{"setSecret/hung after login", rotation.StepSet, faultproxy.Hang, "setSecret:after-login", "no answer within"},
		{"setSecret/down after login", rotation.StepSet, faultproxy.Drop, "setSecret:after-login", "setSecret"},
		{"testSecret/down", rotation.StepTest, faultproxy.Drop, "", "cannot log in with AWSPENDING"},
		{"testSecret/hung", rotation.StepTest, faultproxy.Hang, "", "no answer within"},
		{"testSecret/hung after login", rotation.StepTest, faultproxy.Hang, "testSecret:after-login", "probe query failed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			e.h.DB = mysqldb.New(mysqldb.Options{ConnectTimeout: bound, StatementTimeout: bound})
			p := testdb.Proxy(t, testdb.Addr())
			user := testdb.Name("rt_")
			testdb.CreateUser(t, e.root, user, "initial-password-1")
			h, port := testdb.HostPort(t, p.Addr())
			arn := e.newSecret(mustJSON(t, map[string]any{"engine": "mysql", "host": h, "port": port, "username": user, "password": "initial-password-1"}))
			token := e.start(arn)
			i := 0
			for allSteps[i] != c.step {
				if err := e.step(arn, token, allSteps[i]); err != nil {
					t.Fatal(err)
				}
				i++
			}
			if c.during == "" {
				testdb.SetMode(t, p, c.mode)
			} else {
				e.h.Checkpoint = func(name string) error {
					if name == c.during {
						return p.SetMode(c.mode)
					}
					return nil
				}
			}
			start := time.Now()
			err := e.step(arn, token, c.step)
			took := time.Since(start)
			e.h.Checkpoint = func(string) error { return nil }
			if err == nil {
				t.Fatalf("%s succeeded with the database %v", c.step, c.mode)
			}
			if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), c.step+": ") {
				t.Fatalf("error %q, want %q", err, c.want)
			}
			// Two logins at most (AWSPENDING, AWSCURRENT) plus one statement.
			if took > 4*bound {
				t.Fatalf("%s took %s with the database %v; the bound is %s per call", c.step, took, c.mode, bound)
			}
			t.Logf("%s failed after %s: %v", c.step, took.Round(time.Millisecond), err)
			testdb.SetMode(t, p, faultproxy.Pass)
			if err := e.steps(arn, token, allSteps[i:]...); err != nil {
				t.Fatalf("retry after the database came back: %v", err)
			}
			if e.holder(arn, rotation.StageCurrent) != token {
				t.Fatal("the rotation did not finish")
			}
			cur := e.get(arn, rotation.StageCurrent)
			if !testdb.CanLogin(t, testdb.Addr(), user, cur.Password) {
				t.Fatal("AWSCURRENT does not log in")
			}
		})
	}
}

// TestTLS starts a MariaDB with TLS and certificates made here, and shows
// that verify-full rotates through it, and that a wrong CA, a host name
// that is not on the certificate, and a server without TLS are refused
// without any change.
func TestTLS(t *testing.T) {
	srv := testdb.StartTLSServer(t)
	e := newEnv(t)
	user := testdb.Name("rt_")
	testdb.CreateUser(t, srv.Root, user, "initial-password-1")
	testdb.Exec(t, srv.Root, "ALTER USER `"+user+"`@`%` REQUIRE SSL")
	plainUser := testdb.Name("rt_")
	testdb.CreateUser(t, e.root, plainUser, "initial-password-1")

	tlsDB := func(caFile string) *mysqldb.DB {
		o, err := configWithCA(caFile)
		if err != nil {
			t.Fatal(err)
		}
		return mysqldb.New(o)
	}
	secretFor := func(host string, port int, u string) string {
		return mustJSON(t, map[string]any{"engine": "aurora-mysql", "host": host, "port": port, "username": u, "password": "initial-password-1"})
	}
	refused := []struct {
		name, caFile, host string
		port               int
		user, want         string
	}{
		{"wrong CA", srv.OtherCAFile, "localhost", srv.Port, user, "failed verification"},
		{"wrong host name", srv.CAFile, "127.0.0.1", srv.Port, user, "failed verification"},
		{"server without TLS", srv.CAFile, "127.0.0.1", mustPort(t), plainUser, "does not offer TLS"},
	}
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			e.h.DB = tlsDB(c.caFile)
			arn := e.newSecret(secretFor(c.host, c.port, c.user))
			err := e.rotate(arn)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "setSecret: ") {
				t.Fatalf("rotation: %v, want a setSecret error with %q", err, c.want)
			}
			if e.holder(arn, rotation.StageCurrent) == e.holder(arn, rotation.StagePending) {
				t.Fatal("AWSCURRENT moved")
			}
		})
	}
	if !testdb.CanLogin(t, testdb.Addr(), plainUser, "initial-password-1") {
		t.Fatal("the plaintext server's password changed")
	}
	t.Run("verify-full", func(t *testing.T) {
		e.h.DB = tlsDB(srv.CAFile)
		arn := e.newSecret(secretFor("localhost", srv.Port, user))
		for i := 0; i < 3; i++ {
			if err := e.rotate(arn); err != nil {
				t.Fatalf("rotation %d over TLS: %v", i+1, err)
			}
		}
		e.checkLabels(arn)
		// The user REQUIRE SSL: AWSCURRENT logs in only over TLS.
		cur := e.get(arn, rotation.StageCurrent)
		s, err := e.h.DB.Login(context.Background(), database.Login{Host: cur.Host, Port: cur.Port, User: cur.Username, Password: cur.Password})
		if err != nil {
			t.Fatalf("AWSCURRENT does not log in over TLS: %v", err)
		}
		_ = s.Close()
	})
}

func mustPort(t *testing.T) int {
	_, p := testdb.HostPort(t, testdb.Addr())
	return p
}
