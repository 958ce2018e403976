//go:build mage

// dbvault's targets: `go run mage.go <target>` (mage is pinned in go.mod).
package main

// This file holds the workspace-wide targets; each area keeps its own targets
// in a mage_<area>.go beside it. Targets stay thin: heavy work lives in Go
// packages and commands of the workspace, run with `go run`, so the Go build
// cache (not mage's) decides what to rebuild.

import (
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/magefile/mage/mg"
	"github.com/magefile/mage/sh"
)

// Default is what a bare `go run mage.go` runs.
var Default = Test

// packages is every package pattern of the workspace's modules, for go
// commands that take several modules at once.
var packages = []string{
	"./functions/rotator/...",
	"./ops/...",
	"./stacks/kit/...",
	"./stacks/network/...",
	"./stacks/kms/...",
	"./stacks/database/...",
	"./stacks/secrets/...",
	"./tools/...",
}

// Test is the test command: every module's tests, the policy audit, the offline rehearsal and brief fuzz runs.
//
// The unit and integration tests need the MariaDB on 127.0.0.1:3306.
func Test() error {
	mg.Deps(Build, PulumiCLI) // PulumiCLI: mage_rehearse.go (ops/rehearse's tests run the engine)
	args := append([]string{"test", "-count=1", "-timeout=20m"}, packages...)
	if err := sh.RunV("go", args...); err != nil {
		return err
	}
	mg.SerialDeps(Audit)    // the policy gate over the synthesized graph (mage_policy.go)
	mg.SerialDeps(Rehearse) // after the unit tests: the offline rehearsal (mage_rehearse.go)
	mg.SerialDeps(fuzzCI)   // then every fuzz target briefly (FUZZTIME, default 5s each; mage_sandbox.go)
	return nil
}

// Lint runs gofmt, go vet, staticcheck and gosec (pinned in go.mod) over every module.
func Lint() error {
	out, err := sh.Output("gofmt", append([]string{"-l", "magefile.go", "mage.go"}, dirs()...)...)
	if err != nil {
		return err
	}
	if strings.TrimSpace(out) != "" {
		return fmt.Errorf("gofmt: these files need formatting:\n%s", out)
	}
	if err := sh.RunV("go", append([]string{"vet"}, packages...)...); err != nil {
		return err
	}
	if err := sh.RunV("go", append([]string{"tool", "staticcheck"}, packages...)...); err != nil {
		return err
	}
	return sh.RunV("go", append([]string{"tool", "gosec", "-quiet", "-exclude-generated"}, packages...)...)
}

// Build compiles every module.
func Build() error {
	mg.Deps(Rotator)
	return sh.RunV("go", append([]string{"build"}, packages...)...)
}

// dirs returns the module folders named by packages.
func dirs() []string {
	out := make([]string, 0, len(packages))
	for _, p := range packages {
		out = append(out, strings.TrimSuffix(p, "/..."))
	}
	return out
}

// goRun runs a command of the workspace with `go run`, its output streamed.
func goRun(pkg string, args ...string) error {
	cmd := exec.Command("go", append([]string{"run", pkg}, args...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	return cmd.Run()
}
