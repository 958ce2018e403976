package rotation_test

import (
	"strings"
	"testing"

	"github.com/dbvault/dbvault/functions/rotator/internal/rotation"
	"github.com/dbvault/dbvault/functions/rotator/internal/testdb"
)

// TestConcurrentSetSecretSaysTheTruth: two setSecret invocations with one
// token. This one finds AWSPENDING rejected; before it tries AWSCURRENT,
// the other sets the AWSPENDING password (simulated here through root at
// the checkpoint between the two logins). Every password this one tries
// is then rejected, but the advice must not be "set the database password
// to AWSCURRENT's": it says another invocation holds the rotation, and a
// retry converges.
func TestConcurrentSetSecretSaysTheTruth(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(false)
	before := e.holder(f.arn, rotation.StageCurrent)
	token := e.start(f.arn)
	if err := e.step(f.arn, token, rotation.StepCreate); err != nil {
		t.Fatal(err)
	}
	pend := e.get(f.arn, rotation.StagePending)
	e.h.Checkpoint = func(name string) error {
		if name == "setSecret:after-login-pending" {
			if _, err := e.root.Exec("ALTER USER ?@'%' IDENTIFIED BY ?", f.user, pend.Password); err != nil {
				t.Error(err)
			}
		}
		return nil
	}
	err := e.step(f.arn, token, rotation.StepSet)
	e.h.Checkpoint = func(string) error { return nil }
	if err == nil || !strings.Contains(err.Error(), "another invocation of this rotation") || strings.Contains(err.Error(), "AWSCURRENT's") {
		t.Fatalf("setSecret racing another: %v", err)
	}
	if err := e.steps(f.arn, token, rotation.StepSet, rotation.StepTest, rotation.StepFinish); err != nil {
		t.Fatalf("retry: %v", err)
	}
	e.converged(f, token, before)
	if !testdb.CanLogin(t, testdb.Addr(), f.user, pend.Password) {
		t.Fatal("AWSPENDING does not log in")
	}
}
