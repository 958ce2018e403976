// Package targets holds dbvault's mage targets, run as
// `go run mage.go <target>`, for two audiences:
//
//   - the operator's, at the top level: deployAll, destroyAll, previewAll,
//     up:*, preview:*, destroy:*, outputs:*, status, rotate, verify,
//     sandbox, pulumiCLI, version (deploy.go, sandbox.go, rehearse.go,
//     release.go);
//   - the contributor's, in the namespace dev (type Dev, this file):
//     dev:test, dev:lint, dev:build, dev:fuzz, dev:bench, dev:chaos,
//     dev:rehearse, dev:audit, dev:synth, dev:rotator, dev:release, ...
//
// magefile.go at the repository's root imports the package into mage's root
// namespace, so every exported function here is a target and nothing else
// is exported. Targets run with the repository's root as the working
// directory. They stay thin: heavy work lives in Go packages and commands of
// the workspace, run with `go run`, so the Go build cache (not mage's)
// decides what to rebuild.
package targets

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/magefile/mage/mg"
	"github.com/magefile/mage/sh"
)

// packages is every package pattern of the workspace's modules, for go
// commands that take several modules at once.
var packages = []string{
	"./targets/...",
	"./functions/rotator/...",
	"./ops/...",
	"./stacks/kit/...",
	"./stacks/network/...",
	"./stacks/kms/...",
	"./stacks/database/...",
	"./stacks/secrets/...",
	"./tools/...",
	"./examples/twovaults/...",
}

// Dev holds the contributor's targets: tests, linters, builds, benchmarks,
// the offline rehearsal, releases (`go run mage.go dev:test`).
type Dev mg.Namespace

// Test is the test command: every module's tests, the policy audit, the offline rehearsal and brief fuzz runs.
//
// The unit and integration tests need the MariaDB on 127.0.0.1:3306.
func (Dev) Test() error {
	// The Pulumi CLI's cold build takes minutes: it runs in the background
	// from the start, and only the engine's tests wait for it.
	bin, err := buildCommand(pulumiCLICmd)
	if err != nil {
		return err
	}
	cli, err := startBackground(bin)
	if err != nil {
		return err
	}
	// A failure of a step below must not leave the CLI's compiler running
	// for minutes after mage has exited (exit stops it too).
	defer cli.stop()
	// Not Dev.Build: go test compiles every package, those without tests
	// too, and Build's links of some twenty commands (about 85 s of CPU,
	// on every run: go build caches no linked binary) would be thrown
	// away. The rotator's zip is what the synth and the rehearsal deploy.
	mg.Deps(Dev.Rotator)
	// The policy gate over the synthesized graph first: it takes seconds,
	// and compiles the stacks that the tests compile anyway (policy.go).
	mg.SerialDeps(Dev.Audit)
	rest, err := packagesExcept(enginePackages)
	if err != nil {
		return err
	}
	// Every package's tests but the engine's (the targets' own among them:
	// mage.go's wrapper, audit, inputs, release), beside the CLI's build.
	if err := goTest(rest...); err != nil {
		return err
	}
	// Then the engine's tests and the rehearsal. Not beside the other
	// tests, once the CLI is there: tried, the engine's CPU-heavy tests and
	// the others slowed each other, and a cold run took 18m04s instead of
	// 17m48s.
	if err := cli.wait(); err != nil {
		return fmt.Errorf("building the Pulumi CLI: %w", err)
	}
	if err := goTest(enginePackages...); err != nil {
		return err
	}
	mg.SerialDeps(Dev.Rehearse) // the offline rehearsal (rehearse.go)
	mg.SerialDeps(fuzzCI)       // then every fuzz target briefly (FUZZTIME, default 5s each; sandbox.go)
	return nil
}

// background is a command of the workspace running beside a target's own
// work.
type background struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the command has ended
	err  error         // its result, once done is closed
}

// inBackground is every command started by startBackground, for exit.
var inBackground struct {
	sync.Mutex
	all []*background
}

func startBackground(bin string, args ...string) (*background, error) {
	cmd := exec.Command(bin, args...) // #nosec G204 -- our own command, just built
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	b := &background{cmd: cmd, done: make(chan struct{})}
	go func() {
		b.err = cmd.Wait()
		close(b.done)
	}()
	inBackground.Lock()
	inBackground.all = append(inBackground.all, b)
	inBackground.Unlock()
	return b, nil
}

// stopBackground stops every command started in the background that
// still runs.
func stopBackground() {
	inBackground.Lock()
	all := inBackground.all
	inBackground.all = nil
	inBackground.Unlock()
	for _, b := range all {
		b.stop()
	}
}

// wait waits for the command to end and returns its result.
func (b *background) wait() error {
	<-b.done
	return b.err
}

// stop interrupts the command if it still runs and waits for it to end;
// the CLI's builder cancels its go build on an interrupt
// (ops/cmd/rehearse/pulumicli).
func (b *background) stop() {
	select {
	case <-b.done:
		return
	default:
	}
	_ = b.cmd.Process.Signal(os.Interrupt)
	<-b.done
}

// enginePackages are the packages whose tests run the real Pulumi engine,
// so they need the pinned CLI (ops/rehearse/tools.EnsureCLI).
var enginePackages = []string{"./ops/rehearse", "./ops/prove"}

// goTest links the test binaries without a symbol table or DWARF
// (-s -w): a quarter less link work for each of some sixty binaries that
// link the Pulumi and AWS SDKs, and a failing test still prints its stack.
//
// -p 4 on two cores: a test binary holds one of go test's slots while it
// runs, and in a cold run the longest (chaos, bench, the rotation and
// consumer tests) take a minute or two, mostly waiting for their own
// builds of the rotator and the Lambda emulator. With the default (one
// slot per core) two of them held every slot while packages waited to be
// compiled: a cold run used 165 % of the two cores' 200 %, and 192 % with
// four slots. The packages whose tests run longest come first
// (slowFirst), so that they start early.
func goTest(pkgs ...string) error {
	return sh.RunV("go", append([]string{"test", "-count=1", "-timeout=20m", "-p=4", "-ldflags=-s -w"}, slowFirst(pkgs)...)...)
}

// slowTests are the packages whose tests took longest in a cold run of the
// test command (tools/chaos and tools/bench about 70 s each, the rotation
// and consumer tests 30 s), as import path suffixes.
var slowTests = []string{"/tools/chaos", "/tools/bench", "/functions/rotator/internal/rotation", "/tools/internal/consumer"}

// slowFirst puts the packages named by slowTests first, in that order, and
// keeps the others in theirs: go test starts its work in the order of its
// arguments.
func slowFirst(pkgs []string) []string {
	out := make([]string, 0, len(pkgs))
	for _, s := range slowTests {
		for _, p := range pkgs {
			if strings.HasSuffix(p, s) {
				out = append(out, p)
			}
		}
	}
	for _, p := range pkgs {
		if !slices.ContainsFunc(slowTests, func(s string) bool { return strings.HasSuffix(p, s) }) {
			out = append(out, p)
		}
	}
	return out
}

// packagesExcept lists the workspace's packages (import paths) but those in
// the folders named by except.
func packagesExcept(except []string) ([]string, error) {
	out, err := sh.Output("go", append([]string{"list", "-find", "-f", "{{.ImportPath}}\t{{.Dir}}"}, packages...)...)
	if err != nil {
		return nil, err
	}
	root, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	skip := map[string]bool{}
	for _, e := range except {
		skip[filepath.Join(root, e)] = true
	}
	var pkgs []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		path, dir, ok := strings.Cut(line, "\t")
		if ok && !skip[dir] {
			pkgs = append(pkgs, path)
		}
	}
	if len(pkgs) == 0 {
		return nil, fmt.Errorf("go list found no packages in %s", strings.Join(packages, " "))
	}
	return pkgs, nil
}

// Lint runs gofmt, go vet, staticcheck and gosec (pinned in go.mod) over every module.
func (Dev) Lint() error {
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
func (Dev) Build() error {
	mg.Deps(Dev.Rotator)
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

// goRun builds a command of the workspace into build/bin (the Go build
// cache decides what to rebuild) and runs it with the target's streams;
// the vault command replaces the target's process instead (replaceWith).
// When the command fails, its own message is all the operator reads: the
// target exits at once with the command's exit code, with no "exit status 1"
// from `go run` and no "Error:" line from mage. A variable, so tests can
// record the commands a target runs.
var goRun = func(pkg string, args ...string) error {
	bin, err := buildCommand(pkg)
	if err != nil {
		exit(exitCode(err)) // the compiler's messages are above
		return err
	}
	if pkg == vaultCmd && onlyTarget(os.Args[1:]) {
		// The vault command is every such target's last step: this
		// process becomes it (replaceWith), so that its signals reach it.
		// Not when other targets follow on the command line (`go run
		// mage.go up:network up:kms`): they would never run.
		if err := replaceWith(bin, args); err != nil {
			return fmt.Errorf("running %s: %w", bin, err)
		}
		return nil
	}
	return runChild(bin, args)
}

// runChild runs bin with the target's streams; when it fails, the target
// exits at once with its exit code.
func runChild(bin string, args []string) error {
	cmd := exec.Command(bin, args...) // #nosec G204 G702 -- our own command, just built; its arguments are the target's own
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		exit(exitCode(err))
		return err
	}
	return nil
}

// onlyTarget reports whether mage's arguments name a single target (flags
// such as -v aside).
func onlyTarget(args []string) bool {
	n := 0
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			n++
		}
	}
	return n == 1
}

// buildCommand builds a command of the workspace into build/bin and
// returns its path, saying what it compiles when that takes long.
func buildCommand(pkg string) (string, error) {
	bin := filepath.Join("build", "bin", filepath.Base(pkg))
	// #nosec G204 -- a command of this workspace, named by a target
	build := exec.Command("go", append(append([]string{"build"}, buildFlags[pkg]...), "-o", bin, pkg)...)
	build.Env = append(os.Environ(), buildEnv[pkg]...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Start(); err != nil {
		return "", err
	}
	// A cached build takes well under a second; a longer one compiles.
	said := time.AfterFunc(compilingAfter, func() { fmt.Fprintln(os.Stderr, compilingLine(pkg)) })
	defer said.Stop()
	return bin, build.Wait()
}

// buildFlags and buildEnv are a command's extra go build flags and
// environment. The sandbox is built
//   - without the embedded MySQL server, about half of its source: it uses
//     the server it finds and compiles the embedded one only when it finds
//     none (tools/sandbox.HasEmbedded);
//   - with -trimpath and CGO_ENABLED=0, as it builds the rotator
//     (tools/lambdaharness.BuildBootstrap): both settings are part of
//     every package's build cache key, so the rotator's first build reuses
//     the standard library, the AWS SDK and the MySQL driver compiled for
//     the sandbox instead of compiling them a second time.
var (
	buildFlags = map[string][]string{"./tools/cmd/sandbox": {"-tags", "sandbox_noembedded", "-trimpath"}}
	buildEnv   = map[string][]string{"./tools/cmd/sandbox": {"CGO_ENABLED=0"}}
)

// compilingAfter is how long a build runs before the target says what it
// builds: a build the Go cache holds ends well within it on an idle
// machine.
const compilingAfter = time.Second

// coldSeconds is how long a command's first build takes with an empty Go
// build cache on an idle 2-core machine: the sandbox measured 18 s and 29 s
// on two such machines (and up to 240 s on one busy with other builds).
var coldSeconds = map[string]int{"./tools/cmd/sandbox": 30}

// compilingLine says what a build that takes long is doing.
func compilingLine(pkg string) string {
	if n, ok := coldSeconds[pkg]; ok {
		return fmt.Sprintf("building %s (compiling, first run only: about %d s, longer on a busy machine) ...", pkg, n)
	}
	return fmt.Sprintf("building %s (compiling, first run only) ...", pkg)
}

// exit ends the process, which runs no deferred calls, so it first stops
// what runs in the background: a failed step of the test command would
// otherwise leave the CLI's build running (a variable for tests).
var exit = func(code int) {
	stopBackground()
	os.Exit(code)
}

// exitCode is the exit code of a failed command (1 if it did not start).
func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() > 0 {
		return ee.ExitCode()
	}
	fmt.Fprintln(os.Stderr, err)
	return 1
}
