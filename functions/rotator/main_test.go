package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/dbvault/dbvault/functions/rotator/internal/secret"
	"github.com/dbvault/dbvault/functions/rotator/internal/testdb"
	"github.com/dbvault/dbvault/tools/lambdaharness"
	"github.com/dbvault/dbvault/tools/smlocal"
)

// Lambda's log-level filtering reads "level" and an RFC 3339 "timestamp";
// without the timestamp it files every line as INFO.
func TestLogLinesCarryWhatLambdaFiltersOn(t *testing.T) {
	var buf bytes.Buffer
	slog.New(lambdaJSONHandler(&buf)).Error("rotation step failed", slog.String("step", "setSecret"))
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("not one JSON object: %v: %s", err, buf.String())
	}
	if line["level"] != "ERROR" {
		t.Errorf("level = %v", line["level"])
	}
	ts, _ := line["timestamp"].(string)
	if _, err := time.Parse(time.RFC3339, ts); err != nil {
		t.Errorf("timestamp %q is not RFC 3339: %v", ts, err)
	}
	if _, ok := line["time"]; ok {
		t.Error("the line still has slog's time key")
	}
}

func TestNewHandlerRefusesBadConfiguration(t *testing.T) {
	log := slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil))
	for _, env := range []map[string]string{
		{"DB_TLS": "prefer"},
		{"PASSWORD_LENGTH": "six"},
		{"DB_CONNECT_TIMEOUT": "forever"},
		{"DB_TLS_CA_FILE": "/nonexistent/ca.pem"},
		{"EXCLUDE_NUMBERS": "maybe"},
	} {
		if _, err := newHandler(context.Background(), func(k string) string { return env[k] }, log); err == nil {
			t.Errorf("accepted %v", env)
		}
	}
	h, err := newHandler(context.Background(), func(k string) string { return map[string]string{"AWS_REGION": "us-east-1"}[k] }, log)
	if err != nil || h.Config.Password.Length != 32 || h.Config.CloneSuffix != "_clone" {
		t.Fatalf("defaults: %+v, %v", h, err)
	}
}

// The "rotator configured" line names the build's version (main.version,
// which go run mage.go rotator sets with -ldflags -X).
func TestConfiguredLineCarriesTheVersion(t *testing.T) {
	old := version
	version = "9.8.7"
	t.Cleanup(func() { version = old })
	var buf bytes.Buffer
	if _, err := newHandler(context.Background(), func(k string) string { return map[string]string{"AWS_REGION": "us-east-1"}[k] }, slog.New(lambdaJSONHandler(&buf))); err != nil {
		t.Fatal(err)
	}
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("not one JSON object: %v: %s", err, buf.String())
	}
	if line["msg"] != "rotator configured" || line["version"] != "9.8.7" {
		t.Fatalf("line: %s", buf.String())
	}
}

// bootstrap builds the function once per test binary as Lambda would run
// it, but for this machine and with the failpoints tag.
var bootstrap = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "rotator-bootstrap-")
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc,failpoints", "-trimpath", "-o", out, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", &buildError{err: err, out: string(msg)}
	}
	return out, nil
})

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// world is the emulator with the real function behind the Lambda runtime
// harness.
type world struct {
	t    *testing.T
	sm   *secretsmanager.Client
	url  string
	fn   *lambdaharness.Function
	mu   sync.Mutex
	out  bytes.Buffer // the function's stdout and stderr
	errs []string
}

func (w *world) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.out.Write(p)
}

func newWorld(t *testing.T) *world {
	t.Helper()
	testdb.Root(t) // skips without the database
	w := &world{t: t}
	srv, err := smlocal.New(smlocal.Options{
		Logger: slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil)),
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
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	w.url = ts.URL
	w.sm = secretsmanager.New(secretsmanager.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(ts.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "test-secret-key", ""),
	})
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
	fn, err := lambdaharness.Start(ctx, lambdaharness.Config{Bootstrap: bin, Env: full, Timeout: 30 * time.Second, Stdout: w, Stderr: w})
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

func (w *world) get(arn, stage string) secret.Secret {
	w.t.Helper()
	out, err := w.sm.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: &arn, VersionStage: &stage})
	if err != nil {
		w.t.Fatal(err)
	}
	s, err := secret.Parse(*out.SecretString)
	if err != nil {
		w.t.Fatal(err)
	}
	return s
}

func (w *world) newSecret(user, password string, extra map[string]any) string {
	w.t.Helper()
	h, p := testdb.HostPort(w.t, testdb.Addr())
	m := map[string]any{"engine": "mysql", "host": h, "port": p, "username": user, "password": password}
	for k, v := range extra {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	out, err := w.sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String(testdb.Name("harness/")), SecretString: aws.String(string(b))})
	if err != nil {
		w.t.Fatal(err)
	}
	return *out.ARN
}

// checkLogs: every line the function wrote is JSON with the fields the
// README promises, and none holds a password.
func (w *world) checkLogs(passwords ...string) {
	w.t.Helper()
	w.mu.Lock()
	out := w.out.String()
	w.mu.Unlock()
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
	root := testdb.Root(t)

	user := testdb.Name("rt_")
	testdb.CreateUser(t, root, user, "initial-password-1")
	arn := w.newSecret(user, "initial-password-1", nil)
	passwords := []string{"initial-password-1"}
	for i := 0; i < 3; i++ {
		start := time.Now()
		if errs := w.rotate(arn); len(errs) > 0 {
			t.Fatalf("rotation %d: %v", i+1, errs)
		}
		t.Logf("single user rotation %d through the harness: %s", i+1, time.Since(start).Round(time.Millisecond))
		cur := w.get(arn, "AWSCURRENT")
		if !testdb.CanLogin(t, testdb.Addr(), user, cur.Password) || testdb.CanLogin(t, testdb.Addr(), user, passwords[len(passwords)-1]) {
			t.Fatalf("rotation %d: AWSCURRENT does not log in, or the old password still does", i+1)
		}
		passwords = append(passwords, cur.Password)
	}

	master := testdb.Name("rtm_")
	testdb.CreateUser(t, root, master, "master-password-1")
	testdb.Exec(t, root, "GRANT ALL PRIVILEGES ON *.* TO `"+master+"`@`%` WITH GRANT OPTION")
	masterARN := w.newSecret(master, "master-password-1", nil)
	app := testdb.Name("rt_")
	testdb.CreateUser(t, root, app, "app-password-1")
	appARN := w.newSecret(app, "app-password-1", map[string]any{"masterarn": masterARN})
	passwords = append(passwords, "master-password-1", "app-password-1")
	for i := 0; i < 2; i++ {
		if errs := w.rotate(appARN); len(errs) > 0 {
			t.Fatalf("alternating rotation %d: %v", i+1, errs)
		}
		cur, prev := w.get(appARN, "AWSCURRENT"), w.get(appARN, "AWSPREVIOUS")
		if !testdb.CanLogin(t, testdb.Addr(), cur.Username, cur.Password) || !testdb.CanLogin(t, testdb.Addr(), prev.Username, prev.Password) {
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
	root := testdb.Root(t)
	user := testdb.Name("rt_")
	testdb.CreateUser(t, root, user, "initial-password-1")
	arn := w.newSecret(user, "initial-password-1", nil)

	w.start(map[string]string{"ROTATOR_FAILPOINT": "setSecret:after-alter"})
	errs := w.rotate(arn)
	if len(errs) != 1 || !strings.HasPrefix(errs[0], "setSecret: ") {
		t.Fatalf("rotation with a crash in setSecret: %v", errs)
	}
	w.mu.Lock()
	crashed := strings.Contains(w.out.String(), "failpoint setSecret:after-alter hit")
	w.mu.Unlock()
	if !crashed {
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
	pend, _ := secret.Parse(*pendOut.SecretString)
	// The ALTER ran before the crash: the database is on AWSPENDING's
	// password, which is not yet AWSCURRENT.
	if !testdb.CanLogin(t, testdb.Addr(), user, pend.Password) {
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
	if cur.Password != pend.Password || !testdb.CanLogin(t, testdb.Addr(), user, cur.Password) {
		t.Fatal("the rotation did not converge on the pending password")
	}
	w.checkLogs("initial-password-1", pend.Password)
}
