package rotation_test

import (
	"strings"
	"testing"

	"github.com/dbvault/dbvault/functions/rotator/internal/rotation"
	"github.com/dbvault/dbvault/functions/rotator/internal/testdb"
)

// TestCannotWorkRefusedBeforeAWSPENDING: a secret that parses but cannot
// work is refused by createSecret before AWSPENDING gets a value, and the
// error names the version that holds AWSPENDING (RotateSecret's
// placeholder) and the exact command that clears it.
func TestCannotWorkRefusedBeforeAWSPENDING(t *testing.T) {
	e := newEnv(t)
	user := testdb.Name("rt_")
	testdb.CreateUser(t, e.root, user, "initial-password-1")
	master := testdb.Name("rtm_")
	testdb.CreateUser(t, e.root, master, "master-password-1")
	host, port := testdb.HostPort(t, testdb.Addr())
	otherMaster := e.newSecret(mustJSON(t, map[string]any{"engine": "mysql", "host": "other-db.example", "port": port, "username": master, "password": "master-password-1"}))
	for _, c := range []struct {
		name  string
		value map[string]any
		want  string
	}{
		{"host with a trailing space", map[string]any{"host": host + " "}, `the key "host" is not a host name`},
		{"port 0", map[string]any{"port": 0}, `the key "port" must be a whole number from 1 to 65535`},
		{"master on another server", map[string]any{"masterarn": otherMaster}, "the master secret (masterarn " + otherMaster + ") names the database other-db.example"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := map[string]any{"engine": "mysql", "host": host, "port": port, "username": user, "password": "initial-password-1"}
			for k, v := range c.value {
				m[k] = v
			}
			arn := e.newSecret(mustJSON(t, m))
			token := e.start(arn)
			err := e.step(arn, token, rotation.StepCreate)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("createSecret: %v", err)
			}
			cmd := "aws secretsmanager update-secret-version-stage --secret-id " + arn + " --version-stage AWSPENDING --remove-from-version-id " + token
			if !strings.Contains(err.Error(), "stuck at version "+token) || !strings.Contains(err.Error(), cmd) {
				t.Fatalf("the error does not name the stuck version and the command: %v", err)
			}
			if e.raw(arn, rotation.StagePending) != "" {
				t.Fatal("AWSPENDING got a value")
			}
			// The other steps say the same.
			if err := e.step(arn, token, rotation.StepSet); err == nil || !strings.Contains(err.Error(), cmd) {
				t.Fatalf("setSecret: %v", err)
			}
			if !testdb.CanLogin(t, testdb.Addr(), user, "initial-password-1") {
				t.Fatal("the password changed")
			}
		})
	}
}
