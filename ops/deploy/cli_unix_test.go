//go:build unix

package deploy

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
)

// A stand-in CLI that answers `version`, says "ready <pid>" and, on each
// SIGTERM, "term <n>": the first it survives, as the CLI finishes the
// operations in flight; the second ends it with status 3 (unless STUBBORN
// is set: then it survives every one).
const standInCLI = `#!/bin/sh
if [ "$1" = version ]; then echo v3.274.1; exit 0; fi
n=0
trap 'n=$((n+1)); echo "term $n"; if [ $n -ge 2 ] && [ -z "$STUBBORN" ]; then exit 3; fi' TERM
echo "ready $$"
while :; do sleep 0.05 & wait $!; done
`

// standInCommand is newPulumiCommand over the stand-in CLI.
func standInCommand(t *testing.T) auto.PulumiCommand {
	t.Helper()
	root := t.TempDir()
	bin := filepath.Join(root, "bin")
	if err := os.MkdirAll(bin, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "pulumi"), []byte(standInCLI), 0o700); err != nil { // #nosec G306 -- an executable test script.
		t.Fatal(err)
	}
	cmd, err := newPulumiCommand(root)
	if err != nil {
		t.Fatal(err)
	}
	return cmd
}

// lines sends each line written to it.
func lines(t *testing.T) (io.Writer, <-chan string) {
	r, w := io.Pipe()
	ch := make(chan string, 16)
	go func() {
		s := bufio.NewScanner(r)
		for s.Scan() {
			ch <- s.Text()
		}
		close(ch)
	}()
	t.Cleanup(func() { _ = w.Close() })
	return w, ch
}

// The CLI runs in a process group of its own, so that a terminal's Ctrl-C
// reaches only this process; the context's end sends it one SIGTERM, which
// it survives while it finishes (nothing kills it); TerminateCLIs sends the
// second, which ends it.
func TestTheCLIStopsGracefullyThenOnASecondSignal(t *testing.T) {
	cmd := standInCommand(t)
	out, said := lines(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		_, _, code, err := cmd.Run(ctx, t.TempDir(), nil, []io.Writer{out}, nil, nil, "up")
		done <- result{code, err}
	}()

	ready := <-said
	pid, err := strconv.Atoi(strings.TrimPrefix(ready, "ready "))
	if err != nil {
		t.Fatalf("stand-in said %q", ready)
	}
	if pgid, err := syscall.Getpgid(pid); err != nil || pgid != pid || pgid == syscall.Getpgrp() {
		t.Fatalf("the CLI's process group is %d (%v), want its own (%d), not this process's (%d)", pgid, err, pid, syscall.Getpgrp())
	}

	cancel()
	if got := <-said; got != "term 1" {
		t.Fatalf("after the context's end the CLI said %q, want term 1", got)
	}
	TerminateCLIs()
	if got := <-said; got != "term 2" {
		t.Fatalf("after TerminateCLIs the CLI said %q, want term 2", got)
	}
	if r := <-done; r.code != 3 || r.err == nil {
		t.Fatalf("Run = code %d, %v; want the CLI's own exit status 3 (not a kill)", r.code, r.err)
	}
	running.Lock()
	left := len(running.procs)
	running.Unlock()
	if left != 0 {
		t.Errorf("%d CLI processes still registered after they ended", left)
	}
}

// A CLI that survives the second signal is killed, with its process
// group, by KillCLIs.
func TestAStubbornCLIIsKilled(t *testing.T) {
	cmd := standInCommand(t)
	out, said := lines(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() {
		_, _, code, _ := cmd.Run(ctx, t.TempDir(), nil, []io.Writer{out}, nil, []string{"STUBBORN=1"}, "up")
		done <- code
	}()
	<-said // ready
	if RunningCLIs() != 1 {
		t.Fatalf("%d CLIs registered, want 1", RunningCLIs())
	}
	cancel()
	<-said // term 1
	TerminateCLIs()
	<-said // term 2, survived
	KillCLIs()
	if code := <-done; code != -1 {
		t.Fatalf("Run's code = %d, want -1 (killed by a signal)", code)
	}
	if RunningCLIs() != 0 {
		t.Errorf("%d CLIs registered after the kill", RunningCLIs())
	}
}
