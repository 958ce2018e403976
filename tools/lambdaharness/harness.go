// Package lambdaharness runs a Go Lambda function exactly as Lambda runs a
// provided.al2023 function, on this machine: it builds the function's
// bootstrap, starts it under the AWS Lambda Runtime Interface Emulator (RIE,
// built from its pinned Go module) with the environment Lambda would give
// it, and invokes it over HTTP.
//
// What the RIE does, read from its source
// (internal/lambda/rie/handlers.go at the pinned version) and checked by
// this package's tests:
//   - it starts the bootstrap on the first invocation, not at start-up, so
//     the first Invoke includes the cold start;
//   - the process stays warm between invocations (one process serves them
//     all, as a Lambda execution environment does);
//   - AWS_LAMBDA_FUNCTION_TIMEOUT (seconds, an integer) is read on each
//     invocation; when an invocation runs past it, the RIE answers HTTP 200
//     with the plain body "Task timed out after N.00 seconds" and resets the
//     runtime, so the next invocation gets a fresh process (Invoke reports
//     the timeout as a *FunctionError of type Sandbox.Timedout);
//   - the function inherits the RIE's environment.
package lambdaharness

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dbvault/dbvault/tools/internal/filelock"
)

// BuildBootstrap builds pkg into outDir/bootstrap for the host's OS and
// architecture, as a provided.al2023 bootstrap is built (CGO_ENABLED=0,
// -tags lambda.norpc, -trimpath), and returns the binary's path. pkg is a
// package path relative to the workspace root ("./functions/rotator"), an
// import path, or an absolute directory. tags are build tags added to
// lambda.norpc (the rotator's failpoints).
func BuildBootstrap(ctx context.Context, pkg, outDir string, tags ...string) (string, error) {
	out, err := filepath.Abs(filepath.Join(outDir, "bootstrap"))
	if err != nil {
		return "", fmt.Errorf("build bootstrap: %w", err)
	}
	dir, target := "", pkg
	switch {
	case filepath.IsAbs(pkg):
		dir, target = pkg, "."
	default:
		root, err := workspaceRoot(ctx)
		if err != nil {
			return "", fmt.Errorf("build bootstrap %s: %w", pkg, err)
		}
		dir = root
	}
	// #nosec G204 -- the go tool building the package the caller names; the arguments are not a shell line.
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", strings.Join(append([]string{"lambda.norpc"}, tags...), ","), "-trimpath", "-o", out, target)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build bootstrap %s: %w\n%s", pkg, err, msg)
	}
	return out, nil
}

// workspaceRoot is the directory of the go.work that ties the modules, or
// the current module's root when there is no workspace.
func workspaceRoot(ctx context.Context) (string, error) {
	for _, v := range []string{"GOWORK", "GOMOD"} {
		out, err := exec.CommandContext(ctx, "go", "env", v).Output() // #nosec G204 -- the go tool with a constant variable name
		if err != nil {
			return "", fmt.Errorf("go env %s: %w", v, err)
		}
		p := strings.TrimSpace(string(out))
		if p != "" && p != "off" && p != os.DevNull {
			return filepath.Dir(p), nil
		}
	}
	return "", errors.New("not inside a Go workspace or module")
}

// rieModule is the RIE's module; its version is the one tools/go.mod pins
// (a tool directive), read with go list so the cache follows the pin.
const rieModule = "github.com/aws/aws-lambda-runtime-interface-emulator"

var (
	rieMu sync.Mutex
	// rieBin is the binary RIE returned last, by user cache folder: every
	// Start asks for it, and go list, which finds the pin, takes longer
	// than a function's start.
	rieBin = map[string]string{}
)

// RIE builds the pinned aws-lambda-rie once into the user cache
// (os.UserCacheDir()/dbvault/rie-<version>/aws-lambda-rie) and returns its
// path. Concurrent callers, in this process or others, are safe: one builds
// it while the others wait (the tests of several packages start at once),
// to a temporary name renamed into place.
func RIE(ctx context.Context) (string, error) {
	return BuildRIE(ctx, nil)
}

// BuildRIE is RIE that calls building, when not nil, just before it
// compiles the RIE (about 10 s, once per machine), so that a caller can
// say so.
func BuildRIE(ctx context.Context, building func()) (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("rie: %w", err)
	}
	rieMu.Lock()
	defer rieMu.Unlock()
	if bin := rieBin[cache]; bin != "" && isFile(bin) {
		return bin, nil
	}
	bin, err := findRIE(ctx, cache, building)
	if err == nil {
		rieBin[cache] = bin
	}
	return bin, err
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// findRIE is BuildRIE without the memory of the last answer.
func findRIE(ctx context.Context, cache string, building func()) (string, error) {
	root, err := workspaceRoot(ctx)
	if err != nil {
		return "", fmt.Errorf("rie: %w", err)
	}
	toolsDir := filepath.Join(root, "tools")
	if _, err := os.Stat(filepath.Join(toolsDir, "go.mod")); err != nil {
		toolsDir = root // GOWORK=off inside tools: the module root is tools
	}
	cmd := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Version}}", rieModule)
	cmd.Dir = toolsDir
	v, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("rie: find the pinned version of %s: %w", rieModule, err)
	}
	version := strings.TrimSpace(string(v))
	dir := filepath.Join(cache, "dbvault", "rie-"+version)
	bin := filepath.Join(dir, "aws-lambda-rie")
	if isFile(bin) {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("rie: %w", err)
	}
	unlock, err := filelock.Lock(filepath.Join(dir, "build.lock"))
	if err != nil {
		return "", fmt.Errorf("rie: %w", err)
	}
	defer unlock()
	if isFile(bin) {
		return bin, nil // built while we waited
	}
	if building != nil {
		building()
	}
	tmp := fmt.Sprintf("%s.tmp-%d", bin, os.Getpid())
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", tmp, rieModule+"/cmd/aws-lambda-rie") // #nosec G204 -- the go tool with a path under the user cache and a constant package
	build.Dir = toolsDir
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := build.CombinedOutput(); err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("rie: build %s@%s: %w\n%s", rieModule, version, err, msg)
	}
	if err := os.Rename(tmp, bin); err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("rie: %w", err)
	}
	return bin, nil
}

// Config describes one function to run.
type Config struct {
	// Bootstrap is the function's executable (from BuildBootstrap).
	Bootstrap string
	// Env is the function's configured environment variables; they
	// override the ones the harness sets (including the fake credentials).
	Env map[string]string
	// FunctionName defaults to "function".
	FunctionName string
	// Timeout is the function's timeout, rounded up to whole seconds
	// (Lambda's unit); default 3 s, Lambda's default.
	Timeout time.Duration
	// MemoryMB is AWS_LAMBDA_FUNCTION_MEMORY_SIZE (reported, not enforced);
	// default 128.
	MemoryMB int
	// Stdout and Stderr receive the RIE's and the function's output (the
	// function's log lines); discarded when nil.
	Stdout, Stderr io.Writer
}

// Function is a running function under the RIE.
type Function struct {
	cmd     *exec.Cmd
	url     string
	done    chan struct{}
	waitErr error
	once    sync.Once
}

// FunctionError is a function's own failure as Lambda reports it
// (errorType, errorMessage); a timeout has Type "Sandbox.Timedout".
type FunctionError struct {
	Type, Message string
}

func (e *FunctionError) Error() string {
	return fmt.Sprintf("function error %s: %s", e.Type, e.Message)
}

// Start runs cfg.Bootstrap under the RIE on two free loopback ports, with
// Lambda's environment, and returns once the RIE accepts invocations.
func Start(ctx context.Context, cfg Config) (*Function, error) {
	if cfg.Bootstrap == "" {
		return nil, errors.New("lambdaharness: Config.Bootstrap is empty")
	}
	bootstrap, err := filepath.Abs(cfg.Bootstrap)
	if err != nil {
		return nil, fmt.Errorf("lambdaharness: %w", err)
	}
	if !isFile(bootstrap) {
		return nil, fmt.Errorf("lambdaharness: bootstrap %s is not a file", bootstrap)
	}
	rie, err := RIE(ctx)
	if err != nil {
		return nil, err
	}
	// A port picked free can be taken before the RIE binds it; try again
	// with new ports when the RIE exits early.
	var lastErr error
	for range 3 {
		f, err := start(ctx, rie, bootstrap, cfg)
		if err == nil {
			return f, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

func start(ctx context.Context, rie, bootstrap string, cfg Config) (*Function, error) {
	apiAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	rieAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", rieAddr, "--runtime-api-address", apiAddr, bootstrap) // #nosec G204 -- our own RIE binary and the caller's bootstrap
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = environment(cfg, filepath.Dir(bootstrap))
	cmd.Stdout, cmd.Stderr = orDiscard(cfg.Stdout), orDiscard(cfg.Stderr)
	setProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("lambdaharness: start RIE: %w", err)
	}
	f := &Function{cmd: cmd, url: "http://" + rieAddr, done: make(chan struct{})}
	go func() {
		f.waitErr = cmd.Wait()
		close(f.done)
	}()
	// Poll the port until the RIE accepts connections (no fixed sleep).
	for delay := time.Millisecond; ; delay = min(delay*2, 50*time.Millisecond) {
		conn, err := net.DialTimeout("tcp", rieAddr, time.Second)
		if err == nil {
			_ = conn.Close()
			return f, nil
		}
		select {
		case <-f.done:
			return nil, fmt.Errorf("lambdaharness: RIE exited before it listened on %s: %v", rieAddr, f.waitErr)
		case <-ctx.Done():
			_ = f.Kill()
			return nil, fmt.Errorf("lambdaharness: wait for RIE: %w", ctx.Err())
		case <-time.After(delay):
		}
	}
}

// environment is what Lambda gives a provided.al2023 function ("Defined
// runtime environment variables", Lambda Developer Guide), with fake
// credentials, then cfg.Env on top. The host's environment is not passed
// on, as on Lambda.
func environment(cfg Config, taskRoot string) []string {
	name := cfg.FunctionName
	if name == "" {
		name = "function"
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 3 * time.Second
	}
	secs := int((timeout + time.Second - 1) / time.Second)
	mem := cfg.MemoryMB
	if mem <= 0 {
		mem = 128
	}
	env := map[string]string{
		"PATH":                            "/usr/local/bin:/usr/bin:/bin",
		"LANG":                            "en_US.UTF-8",
		"TZ":                              ":UTC",
		"LAMBDA_TASK_ROOT":                taskRoot,
		"LAMBDA_RUNTIME_DIR":              taskRoot,
		"AWS_REGION":                      "us-east-1",
		"AWS_DEFAULT_REGION":              "us-east-1",
		"AWS_LAMBDA_FUNCTION_NAME":        name,
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(mem),
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     strconv.Itoa(secs), // read by the RIE on each invocation
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + name,
		"AWS_LAMBDA_LOG_STREAM_NAME":      "local",
		"AWS_LAMBDA_LOG_FORMAT":           "JSON",
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"AWS_ACCESS_KEY_ID":               "AKIDLOCALHARNESS",
		"AWS_SECRET_ACCESS_KEY":           "local-harness-secret",
		"AWS_SESSION_TOKEN":               "local-harness-session",
		"_HANDLER":                        "bootstrap",
		"LOG_LEVEL":                       "error", // the RIE's own log level
	}
	for k, v := range cfg.Env {
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("lambdaharness: find a free port: %w", err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr, nil
}

// URL is the RIE's base URL, e.g. for smlocal.LambdaEndpoint.
func (f *Function) URL() string { return f.url }

// Invoke sends payload as one invocation and returns the function's answer.
// A function error (or a timeout) is a *FunctionError.
func (f *Function) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.url+"/2015-03-31/functions/function/invocations", bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("invoke: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("invoke: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 6<<20))
	if err != nil {
		return nil, fmt.Errorf("invoke: read answer: %w", err)
	}
	var fe struct {
		ErrorMessage *string `json:"errorMessage"`
		ErrorType    string  `json:"errorType"`
	}
	isFE := json.Unmarshal(body, &fe) == nil && fe.ErrorMessage != nil
	switch {
	case resp.Header.Get("X-Amz-Function-Error") != "" || isFE:
		e := &FunctionError{Type: fe.ErrorType, Message: string(body)}
		if fe.ErrorMessage != nil {
			e.Message = *fe.ErrorMessage
		}
		if e.Type == "" {
			e.Type = resp.Header.Get("X-Amz-Function-Error")
		}
		return body, e
	case bytes.HasPrefix(body, []byte("Task timed out")):
		return body, &FunctionError{Type: "Sandbox.Timedout", Message: string(body)}
	case resp.StatusCode != http.StatusOK:
		return body, fmt.Errorf("invoke: RIE answered HTTP %d: %s", resp.StatusCode, body)
	}
	return body, nil
}

// Kill sends SIGKILL to the RIE and the function (the whole process group),
// as a crash would, and waits until neither runs any more.
func (f *Function) Kill() error {
	err := killGroup(f.cmd, true)
	<-f.done
	if err != nil {
		return err
	}
	return waitGroupGone(f.cmd.Process.Pid, 5*time.Second)
}

// Stop ends the function: SIGTERM to the process group, then SIGKILL if it
// is still running after two seconds. It returns once no process of the
// group runs: the function is the RIE's child and may outlive it by a
// moment (or for good, when the RIE died on its own first), so the group is
// killed again if it lingers. It is safe to call more than once.
func (f *Function) Stop() error {
	var err error
	f.once.Do(func() {
		select {
		case <-f.done:
		default:
			err = killGroup(f.cmd, false)
			select {
			case <-f.done:
			case <-time.After(2 * time.Second):
				err = killGroup(f.cmd, true)
				<-f.done
			}
		}
		pgid := f.cmd.Process.Pid
		if waitGroupGone(pgid, 2*time.Second) == nil {
			return
		}
		if kerr := killGroup(f.cmd, true); err == nil {
			err = kerr
		}
		if werr := waitGroupGone(pgid, 5*time.Second); err == nil {
			err = werr
		}
	})
	return err
}
