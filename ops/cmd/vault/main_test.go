package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/dbvault/dbvault/functions/rotator/smlocal"
	"github.com/dbvault/dbvault/functions/rotator/smlocal/smtest"
	"github.com/dbvault/dbvault/ops/deploy"
	"github.com/dbvault/dbvault/tools/workspace"
)

// envOf returns a getenv over m only.
func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// noTools leaves PATH without pulumi (and without AWS credentials files).
func noTools(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("PATH", dir)
	t.Setenv("HOME", dir)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
}

func TestDeployAllWithoutPulumiFailsFastWithPreflightMessage(t *testing.T) {
	noTools(t)
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := run(context.Background(), []string{"deploy-all"}, envOf(map[string]string{"ENV": "dev", "PATH": os.Getenv("PATH")}), nil, &stdout, &stderr)
	elapsed := time.Since(start)
	if code == 0 {
		t.Fatal("exit 0 without a Pulumi CLI")
	}
	msg := stderr.String()
	for _, want := range []string{"preflight failed", deploy.MissingPulumi, "PULUMI_CONFIG_PASSPHRASE", "no AWS credentials"} {
		if !strings.Contains(msg, want) {
			t.Errorf("stderr lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "goroutine ") || strings.Contains(msg, "panic") {
		t.Errorf("stack trace in output:\n%s", msg)
	}
	if elapsed > 5*time.Second {
		t.Errorf("took %s", elapsed)
	}
	t.Logf("failed in %s:\n%s", elapsed, msg)
}

func TestBadInvocations(t *testing.T) {
	for _, c := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"up", "dns"}, map[string]string{"ENV": "dev"}, `unknown layer "dns"`},
		{[]string{"up"}, map[string]string{"ENV": "dev"}, "needs one layer name"},
		{[]string{"deploy-all"}, map[string]string{}, "ENV is not set"},
		{[]string{"deploy-all"}, map[string]string{"ENV": "Prod_1"}, "environmentSuffix"},
		{[]string{"launch"}, map[string]string{}, "unknown command"},
		{[]string{"status", "-user", "app"}, map[string]string{"SECRET_ID": "db-credentials-app-dev"}, "name the secret once"},
	} {
		var stderr bytes.Buffer
		if code := run(context.Background(), c.args, envOf(c.env), nil, io.Discard, &stderr); code == 0 {
			t.Errorf("%v: exit 0", c.args)
		}
		if !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%v: stderr %q lacks %q", c.args, stderr.String(), c.want)
		}
	}
}

func TestPickSecretByUser(t *testing.T) {
	outs := deploy.Outputs{
		deploy.SecretArnOutput: {Value: "arn:app"},
		"appSecretArns":        {Value: map[string]any{"app": "arn:app", "reporting": "arn:reporting"}},
	}
	for user, want := range map[string]string{"": "arn:app", "app": "arn:app", "reporting": "arn:reporting"} {
		if got, err := pickSecret("dev", outs, user); err != nil || got != want {
			t.Errorf("user %q: %q, %v; want %q", user, got, err, want)
		}
	}
	if _, err := pickSecret("dev", outs, "orders"); err == nil || !strings.Contains(err.Error(), `declares no application user "orders" (appSecretArns has [app reporting])`) {
		t.Errorf("unknown user: %v", err)
	}
	if _, err := pickSecret("dev", deploy.Outputs{}, ""); err == nil || !strings.Contains(err.Error(), "has no secretArn output") {
		t.Errorf("no output: %v", err)
	}
}

// emulator starts smlocal with a rotation function that completes the four
// steps, and returns its URL and a client.
func emulator(t *testing.T) (string, *secretsmanager.Client) {
	t.Helper()
	var em *smtest.Emulator
	em = smtest.Start(t, smlocal.Options{
		Rotator: smlocal.InvokerFunc(func(ctx context.Context, _ string, ev events.SecretsManagerSecretRotationEvent) error {
			return em.Step(ctx, ev, `{"password":"next"}`)
		}),
	})
	return em.URL, em.Client
}

func TestStatusAndRotateAgainstEmulator(t *testing.T) {
	url, client := emulator(t)
	ctx := context.Background()
	c, err := client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("db-credentials-dev"), SecretString: aws.String(`{"password":"first"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: c.ARN, RotateImmediately: aws.Bool(false),
		RotationLambdaARN: aws.String("arn:aws:lambda:us-east-1:123456789012:function:rotator-dev"),
		RotationRules:     &types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)}}); err != nil {
		t.Fatal(err)
	}
	env := envOf(map[string]string{"SECRETS_MANAGER_ENDPOINT": url, "SECRET_ID": aws.ToString(c.ARN)})

	var out, stderr bytes.Buffer
	if code := run(ctx, []string{"status"}, env, nil, &out, &stderr); code != 0 {
		t.Fatalf("status exit %d: %s%s", code, out.String(), stderr.String())
	}
	if !strings.Contains(out.String(), "status: OK") || !strings.Contains(out.String(), "every 30 days") {
		t.Fatalf("status output:\n%s", out.String())
	}

	out.Reset()
	if code := run(ctx, []string{"rotate", "-interval", "1ms", "-timeout", "5s"}, env, nil, &out, &stderr); code != 0 {
		t.Fatalf("rotate exit %d: %s%s", code, out.String(), stderr.String())
	}
	if !strings.Contains(out.String(), "rotation finished") || !strings.Contains(out.String(), "AWSPREVIOUS") {
		t.Fatalf("rotate output:\n%s", out.String())
	}
}

// status and rotate call a secret named by its ARN in the ARN's region,
// and refuse an AWS_REGION that names another before any call: a client
// of another region would be told the secret does not exist.
func TestStatusCallsTheSecretsRegion(t *testing.T) {
	em := smtest.Start(t, smlocal.Options{Region: "eu-west-1"})
	ctx := context.Background()
	c, err := em.Client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("db-credentials-dev"), SecretString: aws.String(`{"password":"first"}`)})
	if err != nil {
		t.Fatal(err)
	}
	// The signature's credential scope names the region the client calls.
	var (
		mu     sync.Mutex
		scopes []string
	)
	calls := func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(scopes) }
	proxy := httputil.NewSingleHostReverseProxy(must(url.Parse(em.URL)))
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		scopes = append(scopes, r.Header.Get("Authorization"))
		mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	arn := aws.ToString(c.ARN)
	var out, stderr bytes.Buffer
	env := map[string]string{"SECRETS_MANAGER_ENDPOINT": front.URL, "SECRET_ID": arn}
	if code := run(ctx, []string{"status"}, envOf(env), nil, &out, &stderr); code == 2 || len(calls()) == 0 {
		t.Fatalf("status exit %d, %d calls: %s%s", code, len(calls()), out.String(), stderr.String())
	}
	for _, s := range calls() {
		if !strings.Contains(s, "/eu-west-1/secretsmanager/") {
			t.Errorf("a call signed for another region: %s", s)
		}
	}

	mu.Lock()
	scopes = nil
	mu.Unlock()
	stderr.Reset()
	env["AWS_REGION"] = "us-east-1"
	code := run(ctx, []string{"status"}, envOf(env), nil, &out, &stderr)
	if code == 0 || !strings.Contains(stderr.String(), "AWS_REGION is us-east-1, but secret "+arn+" is in eu-west-1") {
		t.Fatalf("exit %d, want the region refused: %s", code, stderr.String())
	}
	if n := len(calls()); n != 0 {
		t.Errorf("%d calls before the refusal", n)
	}
	for id, want := range map[string]string{arn: "eu-west-1", "db-credentials-dev": "", "arn:aws:s3:::bucket": ""} {
		if got := secretRegion(id); got != want {
			t.Errorf("secretRegion(%q) = %q, want %q", id, got, want)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// The mage target, as a newcomer runs it on a machine without the Pulumi
// CLI: it must fail within seconds with the preflight message, before the
// heavy command is even compiled.
func TestMageDeployAllWithoutPulumi(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go run mage.go")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not on PATH")
	}
	root, err := workspace.Root()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	if err := os.Symlink(goBin, filepath.Join(bin, "go")); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	cmd := exec.Command(goBin, "run", "mage.go", "deployAll")
	cmd.Dir = root
	cmd.Env = []string{"PATH=" + bin, "HOME=" + home, "ENV=dev",
		"GOCACHE=" + goEnv(t, "GOCACHE"), "GOMODCACHE=" + goEnv(t, "GOMODCACHE"), "GOFLAGS=" + goEnv(t, "GOFLAGS"),
		"GOTOOLCHAIN=local", "GOPROXY=off", "MAGEFILE_CACHE=" + mageCache(t),
		"AWS_CONFIG_FILE=" + filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "credentials")}
	start := time.Now()
	out, err := cmd.CombinedOutput()
	elapsed := time.Since(start)
	if err == nil {
		t.Fatalf("deployAll succeeded without Pulumi:\n%s", out)
	}
	if !strings.Contains(string(out), deploy.MissingPulumi) {
		t.Fatalf("output lacks the preflight message:\n%s", out)
	}
	if strings.Contains(string(out), "goroutine ") {
		t.Fatalf("stack trace:\n%s", out)
	}
	t.Logf("go run mage.go deployAll failed in %s:\n%s", elapsed, out)
}

// mageCache is mage's usual cache of compiled magefiles, so the test does
// not recompile them under its temporary HOME.
func mageCache(t *testing.T) string {
	if c := os.Getenv("MAGEFILE_CACHE"); c != "" {
		return c
	}
	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(home, ".magefile")
}

func goEnv(t *testing.T, key string) string {
	t.Helper()
	out, err := exec.Command("go", "env", key).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// With a Pulumi CLI running, the first signal ends the context (one
// graceful SIGTERM to each CLI) and says what happens next; the second
// terminates, any later one kills. Nothing exits.
func TestSignalsStopThenTerminateThenKill(t *testing.T) {
	sigs := make(chan os.Signal, 3)
	sigs <- os.Interrupt
	sigs <- syscall.SIGTERM
	sigs <- syscall.SIGHUP
	close(sigs)
	ctx, cancel := context.WithCancel(context.Background())
	var stderr bytes.Buffer
	exited := -1
	stopOnSignals(sigs, cancel, &stderr, func() int { return 1 }, func(c int) { exited = c })
	if ctx.Err() == nil {
		t.Error("the first signal did not end the context")
	}
	out := stderr.String()
	if !strings.Contains(out, "stopping: Pulumi finishes the operations in flight") || strings.Count(out, "terminating the Pulumi CLI") != 1 || strings.Count(out, "killing the Pulumi CLI") != 1 || exited != -1 {
		t.Errorf("stderr %q, exit %d: want the stopping line, one terminating line, one killing line, no exit", out, exited)
	}
}

// With no Pulumi CLI running (a question on the terminal, a lookup), the
// first signal exits at once with 130: nothing is in flight.
func TestASignalWithNoCLIRunningExits(t *testing.T) {
	sigs := make(chan os.Signal, 1)
	sigs <- os.Interrupt
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr bytes.Buffer
	exited := -1
	stopOnSignals(sigs, cancel, &stderr, func() int { return 0 }, func(c int) { exited = c })
	if exited != 130 || ctx.Err() != nil || !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("exit %d, context %v, stderr %q: want exit 130 before anything else", exited, ctx.Err(), stderr.String())
	}
}

// The CLI's progress keeps flowing when the terminal is gone.
func TestLossyWriterReportsSuccess(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	_ = r.Close()
	defer w.Close()
	if n, err := (lossy{w}).Write([]byte("progress")); n != 8 || err != nil {
		t.Errorf("Write to a closed pipe = %d, %v; want 8, nil", n, err)
	}
}
