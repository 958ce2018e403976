package prove

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dbvault/dbvault/stacks/kit"
)

func TestDefaultNameIsAValidSuffix(t *testing.T) {
	for id, want := range map[string]string{
		"12345678901":          "prove-12345678901", // a github.com run id today
		"42":                   "prove-42",
		"123456":               "prove-r123456", // a last part of six characters is refused
		"99999999999999999999": "prove-99999999999999",
	} {
		got, err := DefaultName(id)
		if err != nil || got != want {
			t.Errorf("DefaultName(%s) = %q, %v; want %q", id, got, err, want)
			continue
		}
		if err := kit.ValidateSuffix(got); err != nil {
			t.Errorf("DefaultName(%s) = %s, not a valid environmentSuffix: %v", id, got, err)
		}
	}
	if _, err := DefaultName("12a"); err == nil {
		t.Error("DefaultName accepted a run id that is not a number")
	}
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestPrepareNamesAThrowawayEnvironmentOnly(t *testing.T) {
	dir := t.TempDir()
	withBackend := func(m map[string]string) map[string]string {
		m["PULUMI_BACKEND_URL"], m["PULUMI_CONFIG_PASSPHRASE"] = "s3://state", "p"
		return m
	}
	s, err := Prepare(env(withBackend(map[string]string{"GITHUB_RUN_ID": "987654321012"})), dir)
	if err != nil || s.Env != "prove-987654321012" || s.Set["ENV"] != s.Env || s.Set["CI"] != "true" || s.Region != "us-east-1" {
		t.Errorf("Prepare from a run id: %+v, %v; want ENV prove-987654321012, CI=true, region us-east-1", s, err)
	}
	for _, tc := range []struct{ env, want string }{
		{"dev", "does not start with prove-"},
		{"prove-Dev", "environmentSuffix"},
		{"prove-abcdef", "six characters"},
		{"prove-a-very-long-name", "characters"},
		{"", "ENV is not set"},
	} {
		_, err := Prepare(env(withBackend(map[string]string{"ENV": tc.env})), dir)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Prepare with ENV=%q: %v, want an error saying %q", tc.env, err, tc.want)
		}
	}
}

func TestPrepareState(t *testing.T) {
	dir := t.TempDir()
	// A shared backend needs the passphrase that reads it again.
	if _, err := Prepare(env(map[string]string{"ENV": "prove-1", "PULUMI_BACKEND_URL": "s3://state"}), dir); err == nil ||
		!strings.Contains(err.Error(), "PULUMI_CONFIG_PASSPHRASE") {
		t.Errorf("a shared backend without a passphrase: %v, want an error naming PULUMI_CONFIG_PASSPHRASE", err)
	}
	for _, ok := range []map[string]string{
		{"PULUMI_BACKEND_URL": "s3://state", "PULUMI_SECRETS_PROVIDER": "awskms://alias/state"},
		{"PULUMI_BACKEND_URL": "https://api.pulumi.com"},
	} {
		ok["ENV"] = "prove-1"
		s, err := Prepare(env(ok), dir)
		if err != nil || s.Set["PULUMI_BACKEND_URL"] != "" || !slices.Contains(s.Unset, "PULUMI_CONFIG_PASSPHRASE") {
			t.Errorf("%v: %+v, %v; want the backend as given and the empty passphrase variable removed", ok, s, err)
		}
	}

	// No backend: a file backend in the scratch directory, and a passphrase
	// of its own that a second run (the cleanup after a cancel) finds again.
	first, err := Prepare(env(map[string]string{"ENV": "prove-1"}), dir)
	if err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "dbvault-prove-prove-1", "state")
	if first.Set["PULUMI_BACKEND_URL"] != "file://"+state {
		t.Errorf("backend %q, want file://%s", first.Set["PULUMI_BACKEND_URL"], state)
	}
	file := first.Set["PULUMI_CONFIG_PASSPHRASE_FILE"]
	pass, err := os.ReadFile(file) // #nosec G304 -- the test's own file
	if err != nil || len(bytes.TrimSpace(pass)) < 32 {
		t.Fatalf("passphrase file %s: %q, %v; want a random passphrase", file, pass, err)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("passphrase file mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	second, err := Prepare(env(map[string]string{"ENV": "prove-1"}), dir)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := os.ReadFile(second.Set["PULUMI_CONFIG_PASSPHRASE_FILE"]) // #nosec G304 -- the test's own file
	if !bytes.Equal(pass, again) {
		t.Error("a second Prepare replaced the passphrase the state was encrypted with")
	}
	if !strings.Contains(strings.Join(first.Notes, " "), "Environment=prove-1") {
		t.Errorf("notes %q do not say how to find what a lost machine leaves", first.Notes)
	}
	// A passphrase given is used with the local backend too.
	s, err := Prepare(env(map[string]string{"ENV": "prove-2", "PULUMI_CONFIG_PASSPHRASE": "given"}), dir)
	if err != nil || s.Set["PULUMI_CONFIG_PASSPHRASE_FILE"] != "" || slices.Contains(s.Unset, "PULUMI_CONFIG_PASSPHRASE") {
		t.Errorf("with a passphrase: %+v, %v; want it kept and no file", s, err)
	}
}

func TestEnviron(t *testing.T) {
	s := Setup{Set: map[string]string{"ENV": "prove-1", "CI": "true"}, Unset: []string{"PULUMI_CONFIG_PASSPHRASE"}}
	got := s.Environ([]string{"PATH=/bin", "ENV=dev", "PULUMI_CONFIG_PASSPHRASE=", "CI=false", "HOME=/root"})
	slices.Sort(got)
	want := []string{"CI=true", "ENV=prove-1", "HOME=/root", "PATH=/bin"}
	if !slices.Equal(got, want) {
		t.Errorf("Environ = %q, want %q", got, want)
	}
}

func TestExecRunsTheCommandInDirWithEnv(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	e := Exec{Dir: dir, Env: []string{"ENV=prove-1", "PATH=" + os.Getenv("PATH")}, Stdout: &out, Stderr: &out}
	if err := e.Run(context.Background(), Step{Name: "show", Args: []string{"sh", "-c", `echo "$ENV in $(pwd)"`}}); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.TrimSpace(out.String()), "prove-1 in "+dir; got != want {
		t.Errorf("output %q, want %q", got, want)
	}
	err := e.Run(context.Background(), Step{Name: "fail", Args: []string{"sh", "-c", "exit 3"}})
	if err == nil || !strings.Contains(err.Error(), "sh -c exit 3: exit status 3") {
		t.Errorf("error %v, want the command and exit status 3", err)
	}
}

// A cancelled step gets an interrupt in its whole process group: here a
// shell (standing for `go run`, which passes no signal on) runs this test
// binary as a child that waits for the interrupt, then exits 7. The child
// handles the signal itself (signal.Notify), so the test holds even where
// the test runs with interrupts ignored, which a shell's trap could not undo.
func TestExecInterruptsTheProcessGroup(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &signalWriter{ready: make(chan struct{}), mark: "ready"}
	e := Exec{Env: []string{"PATH=" + os.Getenv("PATH"), childEnv + "=wait-for-interrupt"}, Stdout: out, Stderr: out}
	done := make(chan error, 1)
	go func() {
		done <- e.Run(ctx, Step{Name: "wait", Args: []string{"sh", "-c", `"$0" -test.run=^$; echo "child exited $?"`, os.Args[0]}})
	}()
	<-out.ready
	cancel()
	err := <-done
	if err == nil {
		t.Fatal("the interrupted step passed")
	}
	if !strings.Contains(out.String(), "interrupted") {
		t.Errorf("the child did not get the interrupt; output %q, error %v", out.String(), err)
	}
}

// signalWriter closes ready once the output contains mark. The buffer is
// a field, not embedded: an embedded bytes.Buffer's ReadFrom would let
// io.Copy bypass Write.
type signalWriter struct {
	buf    bytes.Buffer
	ready  chan struct{}
	mark   string
	closed bool
}

func (w *signalWriter) Write(p []byte) (int, error) {
	n, err := w.buf.Write(p)
	if !w.closed && strings.Contains(w.buf.String(), w.mark) {
		w.closed = true
		close(w.ready)
	}
	return n, err
}

func (w *signalWriter) String() string { return w.buf.String() }

// childEnv makes the test binary a child process of a test instead.
const childEnv = "PROVE_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "wait-for-interrupt" {
		c := make(chan os.Signal, 1)
		signal.Notify(c, os.Interrupt)
		fmt.Println("ready")
		<-c
		fmt.Println("interrupted")
		os.Exit(7)
	}
	os.Exit(m.Run())
}
