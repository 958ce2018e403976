package chaos

// The rotator's bootstrap (built with the failpoints tag, as the chaos run
// uses it) under the Lambda Runtime Interface Emulator, invoked by the
// Secrets Manager emulator's RotateSecret, against the tests' MariaDB.

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/go-sql-driver/mysql"

	"github.com/dbvault/dbvault/functions/rotator/smlocal"
	"github.com/dbvault/dbvault/functions/rotator/smlocal/smtest"
	"github.com/dbvault/dbvault/functions/rotator/syncbuf"
	"github.com/dbvault/dbvault/tools/internal/testmaria"
	"github.com/dbvault/dbvault/tools/lambdaharness"
)

// dbSecret is the part of a database secret these tests read.
type dbSecret struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// maria is the tests' MariaDB (testmaria), with a root pool.
type maria struct {
	root *sql.DB
	addr string
	host string
	port int
}

func newMaria(t *testing.T) *maria {
	t.Helper()
	dsn := testmaria.Need(t, "CHAOS_TEST_MYSQL_DSN")
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.InterpolateParams = true
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	root := sql.OpenDB(conn)
	t.Cleanup(func() { _ = root.Close() })
	h, p, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return &maria{root: root, addr: cfg.Addr, host: h, port: port}
}

func (m *maria) exec(t *testing.T, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := m.root.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// createUser creates user@% with a password and drops it, and its clone,
// when the test ends.
func (m *maria) createUser(t *testing.T, user, password string) {
	t.Helper()
	if _, err := m.root.Exec("CREATE USER ?@'%' IDENTIFIED BY ?", user, password); err != nil {
		t.Fatalf("create user %s: %v", user, err)
	}
	t.Cleanup(func() {
		for _, u := range []string{user, user + "_clone"} {
			_, _ = m.root.Exec("DROP USER IF EXISTS ?@'%'", u)
		}
	})
}

// canLogin reports whether user/password logs in (plaintext).
func (m *maria) canLogin(t *testing.T, user, password string) bool {
	t.Helper()
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr = user, password, "tcp", m.addr
	cfg.Timeout = 3 * time.Second
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(conn)
	defer func() { _ = db.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = db.PingContext(ctx)
	var me *mysql.MySQLError
	switch {
	case err == nil:
		return true
	case errors.As(err, &me) && me.Number == 1045:
		return false
	}
	t.Fatalf("login %s: unexpected error %v", user, err)
	return false
}

// uniqueName is prefix and 10 random hex digits.
func uniqueName(prefix string) string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// world is the emulator with the real function behind the Lambda runtime
// harness.
type world struct {
	t    *testing.T
	db   *maria
	sm   *secretsmanager.Client
	url  string
	fn   *lambdaharness.Function
	mu   sync.Mutex
	out  syncbuf.Buffer // the function's stdout and stderr
	errs []string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t, db: newMaria(t)}
	em := smtest.Start(t, smlocal.Options{
		Rotator: smlocal.InvokerFunc(func(ctx context.Context, arn string, ev events.SecretsManagerSecretRotationEvent) error {
			err := smlocal.LambdaEndpoint(w.fn.URL()).Invoke(ctx, arn, ev)
			if err != nil {
				w.mu.Lock()
				w.errs = append(w.errs, ev.Step+": "+err.Error())
				w.mu.Unlock()
			}
			return err
		}),
	})
	w.url, w.sm = em.URL, em.Client
	return w
}

// start runs the function under the harness with extra environment.
func (w *world) start(env map[string]string) {
	w.t.Helper()
	bin, err := bootstrap()
	if err != nil {
		w.t.Fatalf("build bootstrap: %v", err)
	}
	full := map[string]string{"SECRETS_MANAGER_ENDPOINT": w.url, "DB_TLS": "disabled", "DB_CONNECT_TIMEOUT": "2s", "DB_STATEMENT_TIMEOUT": "2s"}
	for k, v := range env {
		full[k] = v
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fn, err := lambdaharness.Start(ctx, lambdaharness.Config{Bootstrap: bin, Env: full, Timeout: 30 * time.Second, Stdout: &w.out, Stderr: &w.out})
	if err != nil {
		w.t.Fatal(err)
	}
	w.fn = fn
	w.t.Cleanup(func() { _ = fn.Stop() })
}

func (w *world) rotate(arn string) []string {
	w.t.Helper()
	w.mu.Lock()
	w.errs = nil
	w.mu.Unlock()
	if _, err := w.sm.RotateSecret(context.Background(), &secretsmanager.RotateSecretInput{
		SecretId: &arn, RotationLambdaARN: aws.String("arn:aws:lambda:us-east-1:123456789012:function:rotator"),
		RotationRules: &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)},
	}); err != nil {
		w.t.Fatal(err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.errs...)
}

func (w *world) get(arn, stage string) dbSecret {
	w.t.Helper()
	out, err := w.sm.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: &arn, VersionStage: &stage})
	if err != nil {
		w.t.Fatal(err)
	}
	var s dbSecret
	if err := json.Unmarshal([]byte(*out.SecretString), &s); err != nil {
		w.t.Fatal(err)
	}
	return s
}

func (w *world) newSecret(user, password string, extra map[string]any) string {
	w.t.Helper()
	m := map[string]any{"engine": "mysql", "host": w.db.host, "port": w.db.port, "username": user, "password": password}
	for k, v := range extra {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	out, err := w.sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String(uniqueName("harness/")), SecretString: aws.String(string(b))})
	if err != nil {
		w.t.Fatal(err)
	}
	return *out.ARN
}

// checkLogs: every line the function wrote is JSON with the fields the
// README promises, and none holds a password.
func (w *world) checkLogs(passwords ...string) {
	w.t.Helper()
	out := w.out.String()
	steps := 0
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		for _, p := range passwords {
			if strings.Contains(line, p) {
				w.t.Fatal("a password appears in the function's output")
			}
		}
		if strings.HasPrefix(line, "failpoint ") || !strings.HasPrefix(line, "{") {
			continue // the failpoint's own line; the RIE's lines
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			w.t.Fatalf("log line is not JSON: %s", line)
		}
		if rec["msg"] == "rotation step done" || rec["msg"] == "rotation step failed" {
			steps++
			for _, k := range []string{"step", "secret", "version", "strategy", "user", "duration_ms", "outcome"} {
				if _, ok := rec[k]; !ok {
					w.t.Fatalf("log line lacks %q: %s", k, line)
				}
			}
		}
	}
	if steps == 0 {
		w.t.Fatalf("no step log line in the function's output:\n%s", out)
	}
}

// TestRotationThroughLambdaHarness runs the built bootstrap under the Lambda
// Runtime Interface Emulator, invoked by the emulator's RotateSecret, for
// both strategies.
func TestRotationThroughLambdaHarness(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the bootstrap")
	}
	w := newWorld(t)
	w.start(nil)
	db := w.db

	user := uniqueName("rt_")
	db.createUser(t, user, "initial-password-1")
	arn := w.newSecret(user, "initial-password-1", nil)
	passwords := []string{"initial-password-1"}
	for i := 0; i < 3; i++ {
		start := time.Now()
		if errs := w.rotate(arn); len(errs) > 0 {
			t.Fatalf("rotation %d: %v", i+1, errs)
		}
		t.Logf("single user rotation %d through the harness: %s", i+1, time.Since(start).Round(time.Millisecond))
		cur := w.get(arn, "AWSCURRENT")
		if !db.canLogin(t, user, cur.Password) || db.canLogin(t, user, passwords[len(passwords)-1]) {
			t.Fatalf("rotation %d: AWSCURRENT does not log in, or the old password still does", i+1)
		}
		passwords = append(passwords, cur.Password)
	}

	master := uniqueName("rtm_")
	db.createUser(t, master, "master-password-1")
	db.exec(t, "GRANT ALL PRIVILEGES ON *.* TO `"+master+"`@`%` WITH GRANT OPTION")
	masterARN := w.newSecret(master, "master-password-1", nil)
	app := uniqueName("rt_")
	db.createUser(t, app, "app-password-1")
	appARN := w.newSecret(app, "app-password-1", map[string]any{"masterarn": masterARN})
	passwords = append(passwords, "master-password-1", "app-password-1")
	for i := 0; i < 2; i++ {
		if errs := w.rotate(appARN); len(errs) > 0 {
			t.Fatalf("alternating rotation %d: %v", i+1, errs)
		}
		cur, prev := w.get(appARN, "AWSCURRENT"), w.get(appARN, "AWSPREVIOUS")
		if !db.canLogin(t, cur.Username, cur.Password) || !db.canLogin(t, prev.Username, prev.Password) {
			t.Fatalf("alternating rotation %d: a user does not log in", i+1)
		}
		passwords = append(passwords, cur.Password)
	}
	w.checkLogs(passwords...)
}

// TestCrashThroughLambdaHarness kills the function process (a failpoint
// build, ROTATOR_FAILPOINT) between setSecret's ALTER and its return, then
// shows that a fresh process finishes the rotation.
func TestCrashThroughLambdaHarness(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the bootstrap")
	}
	w := newWorld(t)
	db := w.db
	user := uniqueName("rt_")
	db.createUser(t, user, "initial-password-1")
	arn := w.newSecret(user, "initial-password-1", nil)

	w.start(map[string]string{"ROTATOR_FAILPOINT": "setSecret:after-alter"})
	errs := w.rotate(arn)
	if len(errs) != 1 || !strings.HasPrefix(errs[0], "setSecret: ") {
		t.Fatalf("rotation with a crash in setSecret: %v", errs)
	}
	if !strings.Contains(w.out.String(), "failpoint setSecret:after-alter hit") {
		t.Fatal("the failpoint did not fire")
	}
	d, err := w.sm.DescribeSecret(context.Background(), &secretsmanager.DescribeSecretInput{SecretId: &arn})
	if err != nil {
		t.Fatal(err)
	}
	var token string
	for id, st := range d.VersionIdsToStages {
		if len(st) == 1 && st[0] == "AWSPENDING" {
			token = id
		}
	}
	pendOut, err := w.sm.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: &arn, VersionId: &token})
	if err != nil {
		t.Fatal(err)
	}
	var pend dbSecret
	if err := json.Unmarshal([]byte(*pendOut.SecretString), &pend); err != nil {
		t.Fatal(err)
	}
	// The ALTER ran before the crash: the database is on AWSPENDING's
	// password, which is not yet AWSCURRENT.
	if !db.canLogin(t, user, pend.Password) {
		t.Fatal("the crash came before the ALTER")
	}
	_ = w.fn.Stop()

	// Secrets Manager retries the rotation with the same token: a fresh
	// process runs the steps again.
	w.start(nil)
	for _, step := range []string{"createSecret", "setSecret", "testSecret", "finishSecret"} {
		ev, _ := json.Marshal(events.SecretsManagerSecretRotationEvent{Step: step, SecretID: arn, ClientRequestToken: token})
		if _, err := w.fn.Invoke(context.Background(), ev); err != nil {
			t.Fatalf("%s after the crash: %v", step, err)
		}
	}
	cur := w.get(arn, "AWSCURRENT")
	if cur.Password != pend.Password || !db.canLogin(t, user, cur.Password) {
		t.Fatal("the rotation did not converge on the pending password")
	}
	w.checkLogs("initial-password-1", pend.Password)
}
