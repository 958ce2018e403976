package rotation_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/dbvault/dbvault/functions/rotator/internal/rotation"
	"github.com/dbvault/dbvault/functions/rotator/internal/testdb"
)

// TestDeclaredSecretPinnedToDBHost: with DB_HOST and DB_PORT set, a
// declared secret whose AWSCURRENT or AWSPENDING names another address is
// refused before any login, so the master password never goes there. The
// "other server" is a TCP proxy in front of the same MariaDB that counts
// connections: without the pin the rotation would succeed through it,
// sending the master password to whoever runs it.
func TestDeclaredSecretPinnedToDBHost(t *testing.T) {
	e := newEnv(t)
	host, port := testdb.HostPort(t, testdb.Addr())
	e.h.Config.DBHost, e.h.Config.DBPort = host, port

	t.Run("AWSCURRENT points elsewhere", func(t *testing.T) {
		d := e.declared(t, "SELECT")
		if err := e.rotate(d.arn); err != nil {
			t.Fatal(err)
		}
		other := testdb.NewProxy(t, testdb.Addr())
		oh, op := testdb.HostPort(t, other.Addr())
		edited := e.get(d.arn, rotation.StageCurrent)
		edited.Host, edited.Port = oh, op
		value, err := edited.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		e.removePending(d.arn)
		if _, err := e.sm.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{SecretId: aws.String(d.arn), SecretString: aws.String(value)}); err != nil {
			t.Fatal(err)
		}
		before := e.holder(d.arn, rotation.StageCurrent)
		err = e.rotate(d.arn)
		if err == nil || !strings.Contains(err.Error(), "createSecret: AWSCURRENT names the database") || !strings.Contains(err.Error(), "DB_HOST:DB_PORT "+testdb.Addr()) {
			t.Fatalf("rotation of a secret pointing elsewhere: %v", err)
		}
		if n := other.Accepted(); n != 0 {
			t.Fatalf("the rotator connected %d times to the address the secret named", n)
		}
		if n := userCount(t, e.root, d.user+"_clone"); n != 0 {
			t.Fatal("the clone was created")
		}
		if got := e.holder(d.arn, rotation.StageCurrent); got != before {
			t.Fatal("AWSCURRENT moved")
		}
		if e.raw(d.arn, rotation.StagePending) != "" {
			t.Fatal("createSecret wrote AWSPENDING")
		}
	})

	t.Run("AWSPENDING points elsewhere", func(t *testing.T) {
		d := e.declared(t, "SELECT")
		other := testdb.NewProxy(t, testdb.Addr())
		oh, op := testdb.HostPort(t, other.Addr())
		token := e.start(d.arn)
		crafted := e.get(d.arn, rotation.StageCurrent).WithCredentials(d.user, "crafted-password-1")
		crafted.Host, crafted.Port = oh, op
		value, err := crafted.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.sm.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{SecretId: aws.String(d.arn), ClientRequestToken: aws.String(token),
			SecretString: aws.String(value), VersionStages: []string{rotation.StagePending}}); err != nil {
			t.Fatal(err)
		}
		err = e.step(d.arn, token, rotation.StepSet)
		if err == nil || !strings.Contains(err.Error(), "setSecret: AWSPENDING names the database") {
			t.Fatalf("setSecret with AWSPENDING pointing elsewhere: %v", err)
		}
		if n := other.Accepted(); n != 0 {
			t.Fatalf("the rotator connected %d times to the address AWSPENDING named", n)
		}
		if n := userCount(t, e.root, d.user); n != 0 {
			t.Fatal("the user was created")
		}
	})

	t.Run("the pinned address rotates", func(t *testing.T) {
		d := e.declared(t, "SELECT")
		if err := e.rotate(d.arn); err != nil {
			t.Fatal(err)
		}
		if err := e.rotate(d.arn); err != nil {
			t.Fatal(err)
		}
	})
}

// removePending removes the AWSPENDING label from the version that has
// it, as the clean-up after a finished or abandoned rotation does.
func (e *env) removePending(arn string) {
	e.t.Helper()
	holder := e.holder(arn, rotation.StagePending)
	if holder == "" {
		return
	}
	if _, err := e.sm.UpdateSecretVersionStage(context.Background(), &secretsmanager.UpdateSecretVersionStageInput{
		SecretId: aws.String(arn), VersionStage: aws.String(rotation.StagePending), RemoveFromVersionId: aws.String(holder),
	}); err != nil {
		e.t.Fatal(err)
	}
}
