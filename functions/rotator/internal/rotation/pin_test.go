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

// TestDeclaredSecretPinnedToDBHost: with DB_HOST and DB_PORT set, every
// login of a declared secret's rotation goes to DB_HOST:DB_PORT. An
// AWSCURRENT that names another address (a cluster replaced since, or an
// edited secret) is rotated at DB_HOST and the new version carries DB_HOST
// (the endpoint is refreshed, the password untouched); an AWSPENDING that
// names another address, which only a crafted value can, is refused. The
// "other server" is a TCP proxy in front of the same MariaDB that counts
// connections: a rotation that followed the secret's host would send the
// master password to whoever runs it.
func TestDeclaredSecretPinnedToDBHost(t *testing.T) {
	e := newEnv(t)
	host, port := testdb.HostPort(t, testdb.Addr())
	e.h.Config.DBHost, e.h.Config.DBPort = host, port

	t.Run("AWSCURRENT points elsewhere", func(t *testing.T) {
		d := e.declared(t, "SELECT")
		if err := e.rotate(d.arn); err != nil {
			t.Fatal(err)
		}
		other := testdb.Proxy(t, testdb.Addr())
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
		if err := e.rotate(d.arn); err != nil {
			t.Fatalf("rotation of a secret naming another address: %v", err)
		}
		if n := other.Counts().Accepted; n != 0 {
			t.Fatalf("the rotator connected %d times to the address the secret named", n)
		}
		if got := e.holder(d.arn, rotation.StageCurrent); got == before {
			t.Fatal("AWSCURRENT did not move")
		}
		now := e.get(d.arn, rotation.StageCurrent)
		if now.Host != host || now.Port != port {
			t.Fatalf("the new AWSCURRENT names %s, want the cluster's endpoint %s:%d", now.Endpoint(), host, port)
		}
		if now.Username != d.user+"_clone" {
			t.Fatalf("the new AWSCURRENT names %s, want the clone", now.Username)
		}
	})

	t.Run("AWSPENDING points elsewhere", func(t *testing.T) {
		d := e.declared(t, "SELECT")
		other := testdb.Proxy(t, testdb.Addr())
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
		if n := other.Counts().Accepted; n != 0 {
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
