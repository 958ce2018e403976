package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// TestCommand builds the command, runs it on a free port with a state file,
// reads its one "listening on" line, uses it with the SDK, stops it with
// SIGTERM (exit 0, nothing more on stdout), and checks that a second run
// finds the secret in the state file.
func TestCommand(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "smlocal")
	build := exec.CommandContext(t.Context(), "go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	state := filepath.Join(dir, "state.json")

	serve := func() (url string, stop func() string) {
		cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-state", state) // #nosec G204 -- the binary this test built
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill() })
		r := bufio.NewReader(stdout)
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("read the first line: %v", err)
		}
		m := regexp.MustCompile(`^listening on (http://127\.0\.0\.1:\d+)\n$`).FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("first line %q, want `listening on http://ADDR`", line)
		}
		return m[1], func() string {
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			rest, _ := io.ReadAll(r)
			if err := cmd.Wait(); err != nil {
				t.Fatalf("exit after SIGTERM: %v", err)
			}
			return string(rest)
		}
	}

	client := func(url string) *secretsmanager.Client {
		return secretsmanager.NewFromConfig(aws.Config{
			Region:      "eu-west-1",
			Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		}, func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(url) })
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	url, stop := serve()
	if _, err := client(url).CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("cmd"), SecretString: aws.String("kept")}); err != nil {
		t.Fatal(err)
	}
	if rest := stop(); rest != "" {
		t.Fatalf("more output after the first line: %q", rest)
	}
	if _, err := os.Stat(state); err != nil {
		t.Fatal(err)
	}

	url, stop = serve()
	g, err := client(url).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("cmd")})
	if err != nil || *g.SecretString != "kept" {
		t.Fatalf("after restart: %v %v", g, err)
	}
	stop()
}

// TestNonLoopbackAddressRefused: the emulator verifies no signature, so
// -addr on anything but loopback is refused unless -allow-non-loopback.
func TestNonLoopbackAddressRefused(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "192.0.2.1:4566", "db.example.com:4566"} {
		err := run([]string{"-addr", addr})
		if err == nil || !regexp.MustCompile(`not a loopback address.*-allow-non-loopback`).MatchString(err.Error()) {
			t.Errorf("-addr %s: %v", addr, err)
		}
	}
	for addr, want := range map[string]bool{"127.0.0.1:0": true, "127.1.2.3:1": true, "[::1]:0": true, "localhost:4566": true, "0.0.0.0:0": false, "": false} {
		if got := loopback(addr); got != want {
			t.Errorf("loopback(%q) = %v", addr, got)
		}
	}
	// With the flag, the address is accepted (and a bad one then fails
	// at listen, not at the check).
	if err := run([]string{"-addr", "192.0.2.1:bad", "-allow-non-loopback"}); err == nil || regexp.MustCompile(`loopback`).MatchString(err.Error()) {
		t.Errorf("-allow-non-loopback: %v", err)
	}
}
