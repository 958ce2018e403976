package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// DeclaredPrivileges are what the sandbox declares for its application
// user (APP_USERS).
var DeclaredPrivileges = []string{"SELECT", "INSERT", "UPDATE", "DELETE"}

// DeclaredUser is one declared application user: its secret and the
// user and database it declares (the database has the user's name).
type DeclaredUser struct {
	SecretName, SecretARN string
	User, DBName          string
}

// DeclaredWorld is a declared-users world as the secrets layer deploys it: a
// master user whose secret has RDS's managed shape ({"username",
// "password"} only), and application secrets in AWS's shape without a
// password (nothing secret written by the deployer), each declared in the
// function's environment (Env). The application users themselves are not
// created: each one's first rotation provisions it, with its database.
type DeclaredWorld struct {
	MasterName, MasterARN string
	// MasterValue is the master secret's value, to prove it unchanged.
	MasterValue string
	Users       []DeclaredUser
	// Host and Port are where the secrets say the database is, and the
	// cluster endpoint the function is given (DB_HOST, DB_PORT).
	Host string
	Port int
}

// SetUpDeclared creates a declared-users world of n application users on
// db, with secrets named secretPrefix+user in sm, the user names made by
// UniqueName(userPrefix). host and port are where the secrets (and
// DB_HOST) say the database is: db itself, or a proxy in front of it.
// Cleanup drops every user, clone and database.
func SetUpDeclared(ctx context.Context, db *Database, sm *secretsmanager.Client, secretPrefix, userPrefix, host string, port, n int) (*DeclaredWorld, error) {
	if n < 1 {
		return nil, fmt.Errorf("declared users: %d; expected at least 1", n)
	}
	d := &DeclaredWorld{Host: host, Port: port}
	for range n {
		user := UniqueName(userPrefix)
		d.Users = append(d.Users, DeclaredUser{SecretName: secretPrefix + user, User: user, DBName: user})
		db.track(user, user) // the rotator creates them; Cleanup drops them
	}
	master := struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}{d.Users[0].User + "_m", RandomPassword()}
	if err := db.CreateUser(ctx, master.Username, master.Password, "", true); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(master) // #nosec G117 -- the sandbox's throwaway local master, stored in its local secret as RDS's would hold it
	if err != nil {
		return nil, err
	}
	d.MasterName = d.Users[0].SecretName + "-master" // RDS names its own "rds!cluster-...", a prefix reserved to it
	out, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(d.MasterName), SecretString: aws.String(string(raw))})
	if err != nil {
		return nil, fmt.Errorf("create secret %s: %w", d.MasterName, err)
	}
	d.MasterARN, d.MasterValue = aws.ToString(out.ARN), string(raw)
	for i := range d.Users {
		u := &d.Users[i]
		value, err := json.Marshal(map[string]any{
			"engine": "aurora-mysql", "host": host, "port": port, "username": u.User,
			"dbname": u.DBName, "masterarn": d.MasterARN, "dbClusterIdentifier": "sandbox",
		})
		if err != nil {
			return nil, err
		}
		out, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(u.SecretName), SecretString: aws.String(string(value))})
		if err != nil {
			return nil, fmt.Errorf("create secret %s: %w", u.SecretName, err)
		}
		u.SecretARN = aws.ToString(out.ARN)
	}
	return d, nil
}

// Env is the function's environment that declares the users: APP_USERS
// (each secret's name with its user, database and DeclaredPrivileges),
// MASTER_SECRET_ARN, and DB_HOST and DB_PORT (the cluster's endpoint, as
// the secrets layer sets them).
func (d *DeclaredWorld) Env() (map[string]string, error) {
	users := map[string]any{}
	for _, u := range d.Users {
		users[u.SecretName] = map[string]any{"username": u.User, "database": u.DBName, "privileges": DeclaredPrivileges}
	}
	decl, err := json.Marshal(users)
	if err != nil {
		return nil, err
	}
	return map[string]string{"APP_USERS": string(decl), "MASTER_SECRET_ARN": d.MasterARN, "DB_HOST": d.Host, "DB_PORT": strconv.Itoa(d.Port)}, nil
}

// declaredSetUp is the sandbox's declared-users world: one declared user
// (SetUpDeclared) whose secret names the database itself.
func declaredSetUp(ctx context.Context, s *subject) (map[string]string, error) {
	d, err := SetUpDeclared(ctx, s.db, s.sm, "sandbox/", "sbx_", s.db.Host, s.db.Port, 1)
	if err != nil {
		return nil, err
	}
	u := d.Users[0]
	s.user, s.name, s.arn, s.dbname = u.User, u.SecretName, u.SecretARN, u.DBName
	s.masterName, s.masterARN, s.masterValue = d.MasterName, d.MasterARN, d.MasterValue
	s.before = Secret{Engine: "aurora-mysql", Host: d.Host, Port: d.Port, Username: u.User, DBName: u.DBName, MasterARN: d.MasterARN}
	return d.Env()
}

// checkDeclared checks, after a rotation of a declared user, that
// AWSCURRENT's user holds exactly the declared privileges on its database
// and that the master secret is as it was.
func (s *subject) checkDeclared(ctx context.Context, cur Secret) error {
	rows, err := s.db.Grants(ctx, cur.Username)
	if err != nil {
		return err
	}
	var got []string
	for _, row := range rows {
		head, _, _ := strings.Cut(row, " TO ")
		switch {
		case strings.HasPrefix(head, "GRANT USAGE ON *.*") && !strings.Contains(row, "WITH GRANT OPTION"):
		case strings.HasSuffix(head, " ON "+quoteIdent(cur.DBName)+".*"), strings.HasSuffix(head, " ON "+quoteIdent(strings.ReplaceAll(cur.DBName, "_", `\_`))+".*"):
			got = append(got, strings.Split(strings.TrimPrefix(head[:strings.LastIndex(head, " ON ")], "GRANT "), ", ")...)
		default:
			return fmt.Errorf("%s holds more than declared: %s", cur.Username, head)
		}
	}
	want := slices.Clone(DeclaredPrivileges)
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		return fmt.Errorf("%s holds %v on %s, declared %v", cur.Username, got, cur.DBName, want)
	}
	out, err := s.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.masterARN)})
	if err != nil {
		return fmt.Errorf("GetSecretValue of the master secret: %w", err)
	}
	ids, err := s.sm.ListSecretVersionIds(ctx, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String(s.masterARN)})
	if err != nil {
		return fmt.Errorf("ListSecretVersionIds of the master secret: %w", err)
	}
	if aws.ToString(out.SecretString) != s.masterValue || len(ids.Versions) != 1 {
		return errors.New("the master secret changed")
	}
	return nil
}

// App is an application that uses the declared user the way a real one
// should: it reads AWSCURRENT, logs in with it and queries its database,
// over and over, while rotations run. A login counts as failed only if the
// version it used is still AWSCURRENT when the login fails (an application
// that read AWSCURRENT just before two rotations in a row holds the
// password of a user the second one changes, and must read again).
type App struct {
	sm  *secretsmanager.Client
	arn string

	mu       sync.Mutex
	logins   int
	failures []string
	stop     chan struct{}
	done     chan struct{}
}

// StartApp starts the application on the secret arn.
func StartApp(ctx context.Context, sm *secretsmanager.Client, arn string) *App {
	a := &App{sm: sm, arn: arn, stop: make(chan struct{}), done: make(chan struct{})}
	go a.loop(ctx)
	return a
}

func (a *App) loop(ctx context.Context) {
	defer close(a.done)
	for {
		select {
		case <-a.stop:
			return
		case <-ctx.Done():
			return
		default:
		}
		a.once(ctx)
		time.Sleep(2 * time.Millisecond)
	}
}

func (a *App) once(ctx context.Context) {
	out, err := a.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(a.arn)})
	if err != nil {
		if ctx.Err() == nil {
			a.fail(fmt.Sprintf("GetSecretValue AWSCURRENT: %v", err))
		}
		return
	}
	var v Secret
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &v); err != nil || v.Password == "" {
		a.fail("AWSCURRENT holds no usable credentials")
		return
	}
	err = CheckLogin(ctx, v.Host, v.Port, v.Username, v.Password, v.DBName)
	a.mu.Lock()
	a.logins++
	a.mu.Unlock()
	if err == nil || ctx.Err() != nil {
		return
	}
	d, derr := a.sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(a.arn)})
	if derr == nil && !has(d.VersionIdsToStages[aws.ToString(out.VersionId)], "AWSCURRENT") {
		return // rotated twice since it was read: the application reads again
	}
	a.fail(fmt.Sprintf("login with AWSCURRENT (version %s, user %s) failed: %v", short(aws.ToString(out.VersionId)), v.Username, err))
}

func (a *App) fail(msg string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.failures = append(a.failures, msg)
}

// Stop stops the application and returns how many logins it made and the
// failures.
func (a *App) Stop() (logins int, failures []string) {
	close(a.stop)
	<-a.done
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.logins, a.failures
}
