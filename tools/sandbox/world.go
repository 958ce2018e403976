package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/dbvault/dbvault/functions/rotator/smlocal"
	"github.com/dbvault/dbvault/tools/lambdaharness"
)

// RotatorPackage is the rotation function's main package, relative to the
// workspace root.
const RotatorPackage = "./functions/rotator"

// FunctionARN is the rotation function's ARN as the secrets name it. The
// emulator reaches the one function behind the harness whatever the ARN.
const FunctionARN = "arn:aws:lambda:us-east-1:123456789012:function:dbvault-rotator"

// Emulator is the Secrets Manager emulator on a loopback port, with a
// client for it.
type Emulator struct {
	Server *smlocal.Server
	// URL is http://127.0.0.1:PORT.
	URL string
	// Client is an aws-sdk-go-v2 client for URL (fake credentials).
	Client *secretsmanager.Client

	http *http.Server
	done chan struct{}
}

// StartEmulator serves an emulator made with opts on a free loopback port.
func StartEmulator(opts smlocal.Options) (*Emulator, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	srv, err := smlocal.New(opts)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("emulator: listen: %w", err)
	}
	e := &Emulator{
		Server: srv,
		URL:    "http://" + ln.Addr().String(),
		http:   &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second},
		done:   make(chan struct{}),
	}
	go func() {
		defer close(e.done)
		_ = e.http.Serve(ln)
	}()
	e.Client = NewClient(e.URL, 3)
	return e, nil
}

// NewClient returns a Secrets Manager client for an emulator URL with fake
// credentials, making at most attempts attempts per call.
func NewClient(url string, attempts int) *secretsmanager.Client {
	return secretsmanager.New(secretsmanager.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(url),
		RetryMaxAttempts: attempts,
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDSANDBOX", "sandbox-secret-key", ""),
	})
}

// Close stops serving.
func (e *Emulator) Close() error {
	// Shutdown waits for a connection that was opened but never sent a
	// request until it is 5 s old (net/http, Server.Shutdown's StateNew):
	// a client's spare connection held every sandbox 5 s at its end. No
	// call is expected here any more, so a second is grace enough.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := e.http.Shutdown(ctx)
	if err != nil {
		err = e.http.Close()
	}
	<-e.done
	return err
}

// Call is one invocation of a rotation step, as the emulator made it.
type Call struct {
	Step     string
	Token    string
	Duration time.Duration
	Err      error
}

// Recorder is the emulator's Invoker: it passes each step to the function
// (Target, settable after the function starts), times it, keeps it, and
// tells OnCall.
type Recorder struct {
	mu     sync.Mutex
	target smlocal.Invoker
	calls  []Call
	onCall func(Call)
}

// SetOnCall sets a function called after each step (for progress lines).
func (r *Recorder) SetOnCall(f func(Call)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.onCall = f
}

// SetTarget sets where steps go.
func (r *Recorder) SetTarget(t smlocal.Invoker) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.target = t
}

// Invoke implements smlocal.Invoker.
func (r *Recorder) Invoke(ctx context.Context, arn string, ev events.SecretsManagerSecretRotationEvent) error {
	r.mu.Lock()
	t, on := r.target, r.onCall
	r.mu.Unlock()
	if t == nil {
		return errors.New("no rotation function is running")
	}
	start := time.Now()
	err := t.Invoke(ctx, arn, ev)
	c := Call{Step: ev.Step, Token: ev.ClientRequestToken, Duration: time.Since(start), Err: err}
	r.mu.Lock()
	r.calls = append(r.calls, c)
	r.mu.Unlock()
	if on != nil {
		on(c)
	}
	return err
}

// Take returns the calls recorded since the last Take and forgets them.
func (r *Recorder) Take() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.calls
	r.calls = nil
	return c
}

// BuildRotator builds the rotation function's bootstrap for this machine
// into dir (lambdaharness.BuildBootstrap). With failpoints, the build has
// the failpoints tag: the function exits at the point ROTATOR_FAILPOINT
// names.
func BuildRotator(ctx context.Context, dir string, failpoints bool) (string, error) {
	if failpoints {
		return lambdaharness.BuildBootstrap(ctx, RotatorPackage, dir, "failpoints")
	}
	return lambdaharness.BuildBootstrap(ctx, RotatorPackage, dir)
}

// FunctionEnv is the rotator's environment for a local run: the emulator's
// endpoint and TLS off (the local servers have no TLS; DB_TLS=disabled is
// meant for exactly this), then each of extra on top (the declared users'
// DeclaredWorld.Env).
func FunctionEnv(emulatorURL string, extra ...map[string]string) map[string]string {
	env := map[string]string{
		"SECRETS_MANAGER_ENDPOINT": emulatorURL,
		"DB_TLS":                   "disabled",
		"DB_CONNECT_TIMEOUT":       "3s",
		"DB_STATEMENT_TIMEOUT":     "5s",
	}
	for _, m := range extra {
		maps.Copy(env, m)
	}
	return env
}

// StartFunction runs bootstrap under the Lambda runtime interface emulator
// with env, its output to log.
func StartFunction(ctx context.Context, bootstrap string, env map[string]string, log io.Writer) (*lambdaharness.Function, error) {
	return lambdaharness.Start(ctx, lambdaharness.Config{
		Bootstrap:    bootstrap,
		Env:          env,
		FunctionName: "dbvault-rotator",
		Timeout:      30 * time.Second,
		MemoryMB:     128,
		Stdout:       log,
		Stderr:       log,
	})
}
