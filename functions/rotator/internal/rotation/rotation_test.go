package rotation_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/dbvault/dbvault/functions/rotator/internal/rotation"
	"github.com/dbvault/dbvault/functions/rotator/internal/testdb"
)

// checkSingle asserts the state after a finished single-user rotation:
// AWSCURRENT logs in, every older password does not, no AWSPENDING is left
// on another version, exactly one version is AWSCURRENT.
func (e *env) checkSingle(arn string, old []string) {
	e.t.Helper()
	cur := e.get(arn, rotation.StageCurrent)
	if !testdb.CanLogin(e.t, testdb.Addr(), cur.Username, cur.Password) {
		e.t.Fatal("AWSCURRENT does not log in")
	}
	for i, pw := range old {
		if pw != cur.Password && testdb.CanLogin(e.t, testdb.Addr(), cur.Username, pw) {
			e.t.Fatalf("old password %d still logs in", i)
		}
	}
	e.checkLabels(arn)
}

// checkLabels: exactly one AWSCURRENT; AWSPENDING only on it, if anywhere.
func (e *env) checkLabels(arn string) {
	e.t.Helper()
	currents := 0
	for id, st := range e.stages(arn) {
		has := strings.Join(st, ",")
		if strings.Contains(has, rotation.StageCurrent) {
			currents++
		} else if strings.Contains(has, rotation.StagePending) {
			e.t.Fatalf("version %s is still AWSPENDING: %v", id, st)
		}
	}
	if currents != 1 {
		e.t.Fatalf("%d versions are AWSCURRENT", currents)
	}
}

func TestSingleUserManyRotations(t *testing.T) {
	e := newEnv(t)
	user := testdb.Name("rt_")
	testdb.CreateUser(t, e.root, user, "initial-password-1")
	arn := e.newSecret(dbSecret(t, user, "initial-password-1", map[string]any{"team": "payments", "dbClusterIdentifier": "c1"}))
	old := []string{"initial-password-1"}
	var total time.Duration
	const n = 8
	for i := 0; i < n; i++ {
		before := e.holder(arn, rotation.StageCurrent)
		start := time.Now()
		if err := e.rotate(arn); err != nil {
			t.Fatalf("rotation %d: %v", i+1, err)
		}
		total += time.Since(start)
		e.checkSingle(arn, old)
		if prev := e.holder(arn, rotation.StagePrevious); prev != before {
			t.Fatalf("rotation %d: AWSPREVIOUS is %s, want the former AWSCURRENT %s", i+1, prev, before)
		}
		cur := e.get(arn, rotation.StageCurrent)
		if cur.Username != user || len(cur.Password) != 32 {
			t.Fatalf("rotation %d: user %s, password of %d characters", i+1, cur.Username, len(cur.Password))
		}
		if raw := e.raw(arn, rotation.StageCurrent); !strings.Contains(raw, `"team":"payments"`) || !strings.Contains(raw, `"dbClusterIdentifier":"c1"`) {
			t.Fatalf("rotation %d dropped a key", i+1)
		}
		old = append(old, cur.Password)
	}
	t.Logf("single user: %d rotations, %s per rotation (4 steps, emulator and MariaDB included)", n, total/n)
}

func TestAlternatingUsersManyRotations(t *testing.T) {
	e := newEnv(t)
	dbName := testdb.Name("rtdb_")
	testdb.CreateDatabase(t, e.root, dbName)
	master := testdb.Name("rtm_")
	testdb.CreateUser(t, e.root, master, "master-password-1", "ALL PRIVILEGES ON *.* ")
	testdb.Exec(t, e.root, "GRANT ALL PRIVILEGES ON *.* TO `"+master+"`@`%` WITH GRANT OPTION")
	masterARN := e.newSecret(dbSecret(t, master, "master-password-1", nil))
	user := testdb.Name("rt_")
	testdb.CreateUser(t, e.root, user, "app-password-1", "SELECT, INSERT ON `"+dbName+"`.*")
	testdb.Exec(t, e.root, "GRANT UPDATE ON `"+dbName+"`.* TO `"+user+"`@`%` WITH GRANT OPTION")
	arn := e.newSecret(dbSecret(t, user, "app-password-1", map[string]any{"masterarn": masterARN, "dbname": dbName}))

	var total time.Duration
	const n = 6
	for i := 0; i < n; i++ {
		start := time.Now()
		if err := e.rotate(arn); err != nil {
			t.Fatalf("rotation %d: %v", i+1, err)
		}
		total += time.Since(start)
		e.checkLabels(arn)
		cur, prev := e.get(arn, rotation.StageCurrent), e.get(arn, rotation.StagePrevious)
		wantUser := user + "_clone"
		if i%2 == 1 {
			wantUser = user
		}
		if cur.Username != wantUser || prev.Username == cur.Username {
			t.Fatalf("rotation %d: AWSCURRENT user %s (want %s), AWSPREVIOUS user %s", i+1, cur.Username, wantUser, prev.Username)
		}
		if !testdb.CanLogin(t, testdb.Addr(), cur.Username, cur.Password) {
			t.Fatalf("rotation %d: AWSCURRENT does not log in", i+1)
		}
		if !testdb.CanLogin(t, testdb.Addr(), prev.Username, prev.Password) {
			t.Fatalf("rotation %d: AWSPREVIOUS's user no longer logs in", i+1)
		}
		if cur.MasterARN != masterARN || cur.DBName != dbName {
			t.Fatalf("rotation %d: masterarn or dbname lost", i+1)
		}
	}
	if g, c := testdb.Grants(t, e.root, user), testdb.Grants(t, e.root, user+"_clone"); strings.Join(g, "\n") != strings.Join(c, "\n") {
		t.Fatalf("the clone's grants differ:\n%s\n---\n%s", strings.Join(g, "\n"), strings.Join(c, "\n"))
	}
	// The master's password is not rotated by the application's rotation.
	if !testdb.CanLogin(t, testdb.Addr(), master, "master-password-1") {
		t.Fatal("the master's password changed")
	}
	t.Logf("alternating users: %d rotations, %s per rotation", n, total/n)
}

// TestAlternatingUsersRefusesTooLongName: the limit is the server's own
// (MariaDB 10.11: 128 characters, read from information_schema), so a
// 99-character clone is made and a 134-character one refused before
// anything changes.
func TestAlternatingUsersRefusesTooLongName(t *testing.T) {
	e := newEnv(t)
	master := testdb.Name("rtm_")
	testdb.CreateUser(t, e.root, master, "master-password-1")
	testdb.Exec(t, e.root, "GRANT ALL PRIVILEGES ON *.* TO `"+master+"`@`%` WITH GRANT OPTION")
	masterARN := e.newSecret(dbSecret(t, master, "master-password-1", nil))

	e.h.Config.CloneSuffix = "_" + strings.Repeat("y", 85)
	user := testdb.Name("rt_")
	testdb.CreateUser(t, e.root, user, "app-password-1")
	testdb.DropUserAtEnd(t, e.root, user, e.h.Config.CloneSuffix)
	arn := e.newSecret(dbSecret(t, user, "app-password-1", map[string]any{"masterarn": masterARN}))
	if err := e.rotate(arn); err != nil {
		t.Fatalf("rotation with a 99-character user name: %v", err)
	}

	e.h.Config.CloneSuffix = "_" + strings.Repeat("x", 120)
	user = testdb.Name("rt_")
	testdb.CreateUser(t, e.root, user, "app-password-1")
	arn = e.newSecret(dbSecret(t, user, "app-password-1", map[string]any{"masterarn": masterARN}))
	err := e.rotate(arn)
	if err == nil || !strings.Contains(err.Error(), "this server allows 128") {
		t.Fatalf("rotation with a 134-character user name: %v", err)
	}
	if !testdb.CanLogin(t, testdb.Addr(), user, "app-password-1") {
		t.Fatal("the user's password changed")
	}
}

func TestPasswordWithEveryCharacter(t *testing.T) {
	e := newEnv(t)
	pw := testdb.EveryChar()
	e.h.SM = fixedPassword{SecretsManager: e.sm, password: strings.Repeat("x", 0) + reverse(pw)}
	e.h.Config.Password.Length = int64(len(pw))
	user := testdb.Name("rt_")
	testdb.CreateUser(t, e.root, user, pw)
	arn := e.newSecret(dbSecret(t, user, pw, nil))
	if err := e.rotate(arn); err != nil {
		t.Fatal(err)
	}
	cur := e.get(arn, rotation.StageCurrent)
	if cur.Password != reverse(pw) {
		t.Fatal("AWSCURRENT is not the generated password")
	}
	e.checkSingle(arn, []string{pw})
}

func reverse(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

// fixedPassword is Secrets Manager whose GetRandomPassword returns a chosen
// password.
type fixedPassword struct {
	rotation.SecretsManager
	password string
}

func (f fixedPassword) GetRandomPassword(context.Context, *secretsmanager.GetRandomPasswordInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetRandomPasswordOutput, error) {
	return &secretsmanager.GetRandomPasswordOutput{RandomPassword: aws.String(f.password)}, nil
}

func TestDefaultPasswordPolicyReachesGetRandomPassword(t *testing.T) {
	e := newEnv(t)
	user := testdb.Name("rt_")
	testdb.CreateUser(t, e.root, user, "initial-password-1")
	arn := e.newSecret(dbSecret(t, user, "initial-password-1", nil))
	for i := 0; i < 3; i++ {
		if err := e.rotate(arn); err != nil {
			t.Fatal(err)
		}
		pw := e.get(arn, rotation.StageCurrent).Password
		if len(pw) != 32 || strings.ContainsAny(pw, ` /@"'\`) {
			t.Fatalf("generated password breaks the default policy (length %d)", len(pw))
		}
	}
}

// TestGeneratedPasswordCheckedAgainstThePolicy: a GetRandomPassword answer
// that breaks the policy (too short, an excluded character, a class the
// policy excludes) fails createSecret, and AWSPENDING is not written.
func TestGeneratedPasswordCheckedAgainstThePolicy(t *testing.T) {
	e := newEnv(t)
	user := testdb.Name("rt_")
	testdb.CreateUser(t, e.root, user, "initial-password-1")
	arn := e.newSecret(dbSecret(t, user, "initial-password-1", nil))
	good := strings.Repeat("aB3-", 8)
	for _, c := range []struct {
		name, password, want string
		policy               func(*rotation.PasswordPolicy)
	}{
		{"too short", good[:31], "31 characters, not 32", nil},
		{"excluded character", good[:31] + "@", "an excluded character", nil},
		{"space", good[:31] + " ", "a space without INCLUDE_SPACE", func(p *rotation.PasswordPolicy) { p.ExcludeCharacters = `/@"'\` }},
		{"digit with EXCLUDE_NUMBERS", good, "a digit despite EXCLUDE_NUMBERS", func(p *rotation.PasswordPolicy) { p.ExcludeNumbers = true }},
		{"punctuation with EXCLUDE_PUNCTUATION", good, "punctuation character despite EXCLUDE_PUNCTUATION", func(p *rotation.PasswordPolicy) { p.ExcludePunctuation = true }},
		{"not ASCII", good[:31] + "é", "outside printable ASCII", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			saved := e.h.Config.Password
			defer func() { e.h.Config.Password = saved }()
			if c.policy != nil {
				c.policy(&e.h.Config.Password)
			}
			e.h.SM = fixedPassword{SecretsManager: e.sm, password: c.password}
			e.extraSecrets = append(e.extraSecrets, c.password)
			token := e.start(arn)
			defer e.removePending(arn)
			err := e.step(arn, token, rotation.StepCreate)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "AWSPENDING was not written") {
				t.Fatalf("createSecret with a password that breaks the policy: %v", err)
			}
			if e.raw(arn, rotation.StagePending) != "" {
				t.Fatal("AWSPENDING was written")
			}
		})
	}
	e.h.SM = fixedPassword{SecretsManager: e.sm, password: good}
	if err := e.rotate(arn); err != nil {
		t.Fatalf("a password that fits the policy: %v", err)
	}
}
