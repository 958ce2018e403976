// Package tools builds what the rehearsal runs on: the pinned Pulumi CLI
// (cached per machine) and the stand-in AWS provider. It uses the standard
// library only, so the command that builds the CLI compiles in seconds and
// the CLI's long cold build starts at once, beside the workspace's own.
package tools

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// PulumiVersion is the Pulumi CLI the rehearsal runs on: the version of the
// Pulumi Go SDK the stacks use, pinned in tools/pulumicli/go.mod.
const PulumiVersion = "v3.274.1"

// pulumiPackage is the CLI's main package in github.com/pulumi/pulumi/pkg/v3.
const pulumiPackage = "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"

// CLIRoot is where the pinned CLI is cached on this machine:
// <user cache dir>/dbvault/pulumi-<version>, holding bin/pulumi (the layout
// the Automation API's PulumiCommandOptions.Root expects). It survives
// between runs, so only the first run on a machine compiles the CLI.
func CLIRoot() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("tools: no cache directory for the Pulumi CLI: %w", err)
	}
	return filepath.Join(cache, "dbvault", "pulumi-"+PulumiVersion), nil
}

// EnsureCLI returns the root of the pinned Pulumi CLI (see CLIRoot),
// compiling it from the Go module proxy when it is missing: a cold build
// takes about 11 minutes on 2 cores. Concurrent callers (test binaries,
// the rehearse command) wait on a file lock instead of compiling twice.
// Build output goes to log.
func EnsureCLI(ctx context.Context, repoRoot string, log io.Writer) (string, error) {
	root, err := CLIRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(root, "bin", "pulumi")
	if executable(bin) {
		return root, nil
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o750); err != nil {
		return "", fmt.Errorf("tools: %w", err)
	}
	unlock, err := lock(filepath.Join(root, ".build.lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if executable(bin) { // built by another process while we waited
		return root, nil
	}
	fmt.Fprintf(log, "tools: building the Pulumi CLI %s into %s (once per machine; about 11 minutes cold on 2 cores)\n", PulumiVersion, root)
	start := time.Now()
	tmp := fmt.Sprintf("%s.tmp-%d", bin, os.Getpid())
	cmd := exec.CommandContext(ctx, "go", "build", // #nosec G204 -- fixed arguments; tmp is our own path
		// -s -w: no symbol table or DWARF, which the engine never reads and
		// which cost a quarter of the link.
		"-ldflags", "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version="+PulumiVersion,
		"-o", tmp, pulumiPackage)
	cmd.Dir = filepath.Join(repoRoot, "tools", "pulumicli")
	// The CLI's module sits outside go.work on purpose (see its doc.go).
	cmd.Env = append(os.Environ(), "GOWORK=off")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("tools: building the Pulumi CLI (GOWORK=off go build %s in tools/pulumicli): %w", pulumiPackage, err)
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", fmt.Errorf("tools: %w", err)
	}
	fmt.Fprintf(log, "tools: Pulumi CLI built in %s\n", time.Since(start).Round(time.Second))
	return root, nil
}

// BuildStandin compiles the stand-in provider into dir as
// pulumi-resource-aws (the name the engine looks for on PATH) and returns
// dir. The workspace's build cache makes a rebuild take seconds.
func BuildStandin(ctx context.Context, repoRoot, dir string, log io.Writer) (string, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("tools: %w", err)
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(dir, "pulumi-resource-aws"), "./ops/cmd/pulumi-resource-aws") // #nosec G204 -- fixed arguments
	cmd.Dir = repoRoot
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("tools: building the stand-in provider (go build ./ops/cmd/pulumi-resource-aws): %w", err)
	}
	return dir, nil
}

func executable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// lock takes an exclusive lock on path, waiting for another holder.
func lock(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600) // #nosec G304 -- our own cache path
	if err != nil {
		return nil, fmt.Errorf("tools: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil { // #nosec G115 -- a file descriptor fits an int
		_ = f.Close()
		return nil, fmt.Errorf("tools: locking %s: %w", path, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) // #nosec G115 -- as above
		_ = f.Close()
	}, nil
}
