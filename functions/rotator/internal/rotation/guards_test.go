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

// snapshot is what a refused step must leave as it was: every version's
// labels and value, and the user's password.
type snapshot struct {
	stages string
	values string
}

func (e *env) snapshot(arn string) snapshot {
	e.t.Helper()
	ids, err := e.sm.ListSecretVersionIds(context.Background(), &secretsmanager.ListSecretVersionIdsInput{SecretId: &arn, IncludeDeprecated: aws.Bool(true)})
	if err != nil {
		e.t.Fatal(err)
	}
	var values []string
	for _, v := range ids.Versions {
		got, err := e.sm.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: &arn, VersionId: v.VersionId})
		if err == nil {
			values = append(values, *v.VersionId+"="+aws.ToString(got.SecretString))
		}
	}
	return snapshot{stages: mustJSON(e.t, e.stages(arn)), values: strings.Join(values, "\n")}
}

func (e *env) unchanged(arn string, before snapshot) {
	e.t.Helper()
	if after := e.snapshot(arn); after != before {
		e.t.Fatalf("the secret changed:\nbefore %s\nafter  %s", before.stages, after.stages)
	}
}

func TestGuards(t *testing.T) {
	e := newEnv(t)
	user := testdb.Name("rt_")
	testdb.CreateUser(t, e.root, user, "initial-password-1")
	arn := e.newSecret(dbSecret(t, user, "initial-password-1", nil))
	if err := e.rotate(arn); err != nil { // gives an AWSPREVIOUS version
		t.Fatal(err)
	}
	cur := e.get(arn, rotation.StageCurrent)
	curID, prevID := e.holder(arn, rotation.StageCurrent), e.holder(arn, rotation.StagePrevious)
	token := e.start(arn)

	cases := []struct {
		name, step, token, secretID, want string
	}{
		{"unknown step", "dropTable", token, arn, `unknown step "dropTable"`},
		{"empty token", rotation.StepCreate, "", arn, "no SecretId or no ClientRequestToken"},
		{"token not a version", rotation.StepCreate, "00000000-0000-0000-0000-000000000000", arn, "is not a version of secret"},
		{"version not AWSPENDING", rotation.StepSet, prevID, arn, "is not AWSPENDING"},
		{"secret unknown", rotation.StepCreate, token, "no-such-secret", "ResourceNotFoundException"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := e.snapshot(arn)
			err := e.step(c.secretID, c.token, c.step)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
			e.unchanged(arn, before)
		})
	}
	t.Run("already AWSCURRENT", func(t *testing.T) {
		before := e.snapshot(arn)
		for _, s := range allSteps {
			if err := e.step(arn, curID, s); err != nil {
				t.Fatalf("%s on the AWSCURRENT version: %v", s, err)
			}
		}
		e.unchanged(arn, before)
		if !testdb.CanLogin(t, testdb.Addr(), user, cur.Password) {
			t.Fatal("the password changed")
		}
	})
	t.Run("rotation disabled", func(t *testing.T) {
		if _, err := e.sm.CancelRotateSecret(context.Background(), &secretsmanager.CancelRotateSecretInput{SecretId: &arn}); err != nil {
			t.Fatal(err)
		}
		before := e.snapshot(arn)
		err := e.step(arn, token, rotation.StepCreate)
		if err == nil || !strings.Contains(err.Error(), "rotation is not enabled") {
			t.Fatalf("error %v", err)
		}
		e.unchanged(arn, before)
	})
}

func TestSetSecretRefusesPendingForAnotherUserOrServer(t *testing.T) {
	e := newEnv(t)
	user := testdb.Name("rt_")
	testdb.CreateUser(t, e.root, user, "initial-password-1")
	victim := testdb.Name("rtv_")
	testdb.CreateUser(t, e.root, victim, "victim-password-1")
	arn := e.newSecret(dbSecret(t, user, "initial-password-1", nil))
	h, _ := testdb.HostPort(t, testdb.Addr())
	cases := []struct {
		name, pending, want string
	}{
		{"another user", dbSecret(t, victim, "attacker-chosen-1", nil), "refusing to change another user's password"},
		{"another host", strings.Replace(dbSecret(t, user, "attacker-chosen-1", nil), `"host":"`+h+`"`, `"host":"localhost"`, 1), "refusing to change a password on another server"},
		{"another port", strings.Replace(dbSecret(t, user, "attacker-chosen-1", nil), `"port":3306`, `"port":3307`, 1), "refusing to change a password on another server"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			token := e.start(arn)
			if _, err := e.sm.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{
				SecretId: &arn, ClientRequestToken: &token, SecretString: &c.pending, VersionStages: []string{rotation.StagePending},
			}); err != nil {
				t.Fatal(err)
			}
			e.extraSecrets = append(e.extraSecrets, "attacker-chosen-1")
			before := e.snapshot(arn)
			err := e.step(arn, token, rotation.StepSet)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("setSecret: %v, want %q", err, c.want)
			}
			e.unchanged(arn, before)
			if !testdb.CanLogin(t, testdb.Addr(), victim, "victim-password-1") || !testdb.CanLogin(t, testdb.Addr(), user, "initial-password-1") {
				t.Fatal("a password changed")
			}
			// Clear the way for the next case: remove AWSPENDING.
			if _, err := e.sm.UpdateSecretVersionStage(context.Background(), &secretsmanager.UpdateSecretVersionStageInput{
				SecretId: &arn, VersionStage: aws.String(rotation.StagePending), RemoveFromVersionId: &token,
			}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// tamperedSM answers GetSecretValue for AWSCURRENT with a chosen string, as
// a Secrets Manager holding a bad value would (the emulator, like the
// service, refuses to store a value above 65,536 bytes, so the 70 KB case
// needs this).
type tamperedSM struct {
	rotation.SecretsManager
	current string
}

func (s tamperedSM) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	out, err := s.SecretsManager.GetSecretValue(ctx, in, opts...)
	if err == nil && aws.ToString(in.VersionStage) == rotation.StageCurrent && in.VersionId == nil {
		out.SecretString = aws.String(s.current)
	}
	return out, err
}

func TestBadSecretsChangeNothing(t *testing.T) {
	e := newEnv(t)
	user := testdb.Name("rt_")
	const pw = "initial-password-1"
	testdb.CreateUser(t, e.root, user, pw)
	good := dbSecret(t, user, pw, nil)
	cases := []struct {
		name, value, want string
	}{
		{"not JSON", "user=" + user + " password=" + pw, "is not a valid JSON object"},
		{"missing keys", `{"engine":"mysql","username":"` + user + `","password":"` + pw + `"}`, `"host" is missing`},
		{"wrong engine", strings.Replace(good, `"engine":"mysql"`, `"engine":"postgres"`, 1), "engine must be one of mysql, aurora-mysql"},
		{"port not a number", strings.Replace(good, `"port":3306`, `"port":"three"`, 1), `"port" must be a whole number`},
		{"empty password", strings.Replace(good, `"password":"`+pw+`"`, `"password":""`, 1), `"password" is empty`},
		{"70 KB string", strings.Replace(good, `"engine"`, `"pad":"`+strings.Repeat("p", 70*1024)+`","engine"`, 1), "more than the 65536"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var arn string
			if len(c.value) > 65536 {
				arn = e.newSecret(good)
				e.h.SM = tamperedSM{SecretsManager: e.sm, current: c.value}
				defer func() { e.h.SM = e.sm }()
			} else {
				arn = e.newSecret(c.value)
			}
			e.extraSecrets = append(e.extraSecrets, c.value)
			token := e.start(arn)
			before := e.snapshot(arn)
			// createSecret and setSecret read AWSCURRENT; testSecret and
			// finishSecret do not get that far without AWSPENDING.
			for _, s := range allSteps[:2] {
				err := e.step(arn, token, s)
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("%s: %v, want %q", s, err, c.want)
				}
				if !strings.Contains(err.Error(), "fix the secret's value") {
					t.Errorf("%s: the error does not say what to do: %v", s, err)
				}
			}
			e.unchanged(arn, before)
			if e.raw(arn, rotation.StagePending) != "" {
				t.Fatal("a pending value was written")
			}
			if !testdb.CanLogin(t, testdb.Addr(), user, pw) {
				t.Fatal("the database password changed")
			}
		})
	}
}

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
