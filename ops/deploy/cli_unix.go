//go:build unix

package deploy

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
)

// groupCommand runs the Pulumi CLI as the Automation API's own command
// does (sdk/go/auto/cmd.go, pulumiCommand.Run: --non-interactive,
// PULUMI_AUTOMATION_API, the CLI's folder first on PATH), with one
// difference in how it stops. The API's command shares this process's
// process group, sends SIGINT when the context ends and kills the CLI 10 s
// later (cmd.WaitDelay). Here the CLI has a process group of its own, so a
// Ctrl-C on the terminal reaches this process alone; the context's end
// sends it one SIGTERM, which it takes as a graceful cancel like a first
// SIGINT (pkg/backend/cancellation_scope.go), and nothing kills it: the
// operations in flight finish and are recorded. TerminateCLIs sends the
// second signal, which the CLI takes as "terminate now".
type groupCommand struct {
	auto.PulumiCommand // Version
	command            string
}

func newPulumiCommand(root string) (auto.PulumiCommand, error) {
	inner, err := auto.NewPulumiCommand(&auto.PulumiCommandOptions{Root: root})
	if err != nil {
		return nil, err
	}
	command := "pulumi"
	if root != "" {
		command = filepath.Join(root, "bin", "pulumi")
	}
	return &groupCommand{PulumiCommand: inner, command: command}, nil
}

// running are the CLI processes that groupCommand started and that have
// not ended.
var running = struct {
	sync.Mutex
	procs map[*os.Process]bool
}{procs: map[*os.Process]bool{}}

// TerminateCLIs sends every running Pulumi CLI a second signal, which it
// takes as "terminate now": what is in flight may be left pending. The
// vault command calls it on a second Ctrl-C.
func TerminateCLIs() {
	running.Lock()
	defer running.Unlock()
	for p := range running.procs {
		_ = p.Signal(syscall.SIGTERM)
	}
}

// KillCLIs kills every running Pulumi CLI and its process group: the last
// resort when one does not end on the second signal.
func KillCLIs() {
	running.Lock()
	defer running.Unlock()
	for p := range running.procs {
		_ = syscall.Kill(-p.Pid, syscall.SIGKILL)
	}
}

// RunningCLIs is the number of Pulumi CLIs running.
func RunningCLIs() int {
	running.Lock()
	defer running.Unlock()
	return len(running.procs)
}

func (c *groupCommand) Run(ctx context.Context, workdir string, stdin io.Reader, additionalOutput, additionalErrorOutput []io.Writer, additionalEnv []string, args ...string) (string, string, int, error) {
	flags := args
	if i := slices.Index(args, "--"); i >= 0 {
		flags = args[:i]
	}
	if !slices.Contains(flags, "--non-interactive") {
		args = append([]string{"--non-interactive"}, args...)
	}
	// #nosec G204 -- the Pulumi CLI, with the Automation API's own arguments.
	cmd := exec.CommandContext(ctx, c.command, args...)
	cmd.Dir = workdir
	env := append(slices.Clone(os.Environ()), additionalEnv...)
	env = append(env, "PULUMI_AUTOMATION_API=true")
	if filepath.IsAbs(c.command) {
		env = pathFirst(env, filepath.Dir(c.command))
	}
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout = io.MultiWriter(append(slices.Clone(additionalOutput), &stdout)...)
	cmd.Stderr = io.MultiWriter(append(slices.Clone(additionalErrorOutput), &stderr)...)
	cmd.Stdin = stdin
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	if err := cmd.Start(); err != nil {
		return "", "", -2, err
	}
	running.Lock()
	running.procs[cmd.Process] = true
	running.Unlock()
	err := cmd.Wait()
	running.Lock()
	delete(running.procs, cmd.Process)
	running.Unlock()
	code := -2 // the Automation API's unknownErrorCode
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err == nil:
		code = 0
	}
	return stdout.String(), stderr.String(), code, err
}

// pathFirst puts dir first on env's PATH, as the Automation API does for a
// CLI given by its path (fixupPath), so that the CLI finds the plugins
// beside it.
func pathFirst(env []string, dir string) []string {
	for i, e := range env {
		if len(e) >= 5 && strings.EqualFold(e[:5], "PATH=") {
			if old := e[5:]; old != "" {
				env[i] = "PATH=" + dir + string(os.PathListSeparator) + old
			} else {
				env[i] = "PATH=" + dir
			}
			return env
		}
	}
	return append(env, "PATH="+dir)
}
