//go:build mage

// Tests of the targets themselves: go test -tags mage . (the test command
// runs them). mage ignores _test.go files when it compiles the targets.
package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// recordRuns replaces goRun and the rotator build for one test.
func recordRuns(t *testing.T) *[]string {
	t.Helper()
	var calls []string
	run, rot := goRun, auditRotator
	goRun = func(pkg string, args ...string) error {
		calls = append(calls, strings.Join(append([]string{pkg}, args...), " "))
		return nil
	}
	auditRotator = func() { calls = append(calls, "rotator") }
	t.Cleanup(func() { goRun, auditRotator = run, rot })
	return &calls
}

// A build/synth left by an earlier run is never audited as it is: audit
// synthesizes first, unless AUDIT_INPUT names the input.
func TestAuditSynthesizesOverAStaleSynth(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.MkdirAll(policySynthDir, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(policySynthDir, "network.json"), []byte(`{"stale": true}`), 0o600); err != nil {
		t.Fatal(err)
	}
	calls := recordRuns(t)
	t.Setenv("AUDIT_INPUT", "")
	if err := Audit(); err != nil {
		t.Fatal(err)
	}
	want := []string{"rotator", "./ops/cmd/synth", "./ops/cmd/audit -input build/synth -policy policy"}
	if !slices.Equal(*calls, want) {
		t.Fatalf("audit ran %q, want %q", *calls, want)
	}
	*calls = nil
	t.Setenv("AUDIT_INPUT", "fixtures/x")
	if err := Audit(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"./ops/cmd/audit -input fixtures/x -policy policy"}; !slices.Equal(*calls, want) {
		t.Fatalf("audit with AUDIT_INPUT ran %q, want %q", *calls, want)
	}
}

// Every input is checked before anything is built: FROM=wronglayer is
// refused at once, naming the layers.
func TestInputsRefusedBeforeAnyBuild(t *testing.T) {
	calls := recordRuns(t)
	t.Setenv("ENV", "dev")
	for k, v := range map[string]string{"FROM": "wronglayer", "CONFIRM": "y", "ALLOW_REPLACE": "a,,b", "CI": "yes please"} {
		t.Run(k, func(t *testing.T) {
			t.Setenv(k, v)
			err := DeployAll()
			if err == nil || !strings.Contains(err.Error(), k+"=") {
				t.Fatalf("%s=%s: err = %v", k, v, err)
			}
			if len(*calls) != 0 {
				t.Fatalf("ran %v before refusing", *calls)
			}
		})
	}
	if p := inputProblems("FROM"); len(p) != 0 {
		t.Fatalf("valid inputs refused: %v", p)
	}
	t.Setenv("ROTATE_TIMEOUT", "soon")
	if p := inputProblems("ROTATE_TIMEOUT"); len(p) != 1 {
		t.Fatalf("ROTATE_TIMEOUT=soon: %v", p)
	}
}

// A failing command's exit code is the target's, with nothing added.
func TestGoRunKeepsTheCommandsExitCode(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for name, body := range map[string]string{
		"go.mod":       "module example.com/fail\n\ngo 1.26\n",
		"fail/main.go": "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n)\n\nfunc main() { fmt.Fprintln(os.Stderr, \"fail: its own message\"); os.Exit(3) }\n",
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("GOWORK", "off")
	code := -1
	old := exit
	exit = func(c int) { code = c }
	t.Cleanup(func() { exit = old })
	if err := goRun("./fail"); err == nil || code != 3 {
		t.Fatalf("goRun: err %v, exit code %d, want 3", err, code)
	}
}

// mage.go: an unknown target gets the nearest ones; -l lists every target.
func TestMageWrapperSuggestsAndLists(t *testing.T) {
	out, err := exec.Command("go", "run", "mage.go", "deploAll").CombinedOutput()
	if err == nil {
		t.Fatal("an unknown target succeeded")
	}
	if got := string(out); !strings.Contains(got, `Unknown target "deploAll". Did you mean: deployAll?`) ||
		strings.Contains(got, "Unknown target specified") {
		t.Fatalf("output:\n%s", got)
	}
	out, err = exec.Command("go", "run", "mage.go", "-l").CombinedOutput()
	if err != nil {
		t.Fatalf("-l: %v\n%s", err, out)
	}
	for _, target := range []string{"audit", "build", "deployAll", "destroyAll", "previewAll", "rehearse", "status", "synth", "test*", "verify",
		"up:network", "up:kms", "up:database", "up:secrets", "preview:secrets", "destroy:network", "outputs:secrets"} {
		if !strings.Contains(string(out), "\n  "+target+" ") {
			t.Errorf("-l does not list %s", target)
		}
	}
}
