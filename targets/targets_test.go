// Tests of the targets themselves: go test ./targets (the test command runs
// them with every other package).
package targets

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// atRoot makes the repository's root the working directory for one test,
// as it is when mage runs the targets (go test runs in targets/). The root
// is the folder of the root module's go.mod.
func atRoot(t *testing.T) {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		t.Fatalf("go env GOMOD = %q: not inside the root module", gomod)
	}
	t.Chdir(filepath.Dir(gomod))
}

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
	if err := (Dev{}).Audit(); err != nil {
		t.Fatal(err)
	}
	want := []string{"rotator", "./ops/cmd/synth", "./ops/cmd/audit -input build/synth -policy policy"}
	if !slices.Equal(*calls, want) {
		t.Fatalf("audit ran %q, want %q", *calls, want)
	}
	*calls = nil
	t.Setenv("AUDIT_INPUT", "fixtures/x")
	if err := (Dev{}).Audit(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"./ops/cmd/audit -input fixtures/x -policy policy"}; !slices.Equal(*calls, want) {
		t.Fatalf("audit with AUDIT_INPUT ran %q, want %q", *calls, want)
	}
}

// Every deploy and rotation target runs the preflight command first, with
// its own needs, and stops there when it fails: nothing is built before
// the inputs, ENV, the pinned Pulumi CLI, the passphrase and AWS
// credentials are there (ops/deploy/preflight's tests check each).
func TestPreflightBeforeAnyBuild(t *testing.T) {
	var calls []string
	run := goRun
	goRun = func(pkg string, args ...string) error {
		calls = append(calls, strings.Join(append([]string{pkg}, args...), " "))
		return errors.New("preflight failed")
	}
	t.Cleanup(func() { goRun = run })
	for want, target := range map[string]func() error{
		"deployAll": DeployAll, "destroyAll": DestroyAll, "previewAll": PreviewAll,
		"status": Status, "rotate": Rotate, "verify": Verify,
		"layer": Up{}.Secrets, "outputs": Outputs{}.Secrets,
	} {
		calls = nil
		if err := target(); err == nil {
			t.Errorf("%s: the target went on after its preflight failed", want)
		}
		if !slices.Equal(calls, []string{"./ops/cmd/preflight " + want}) {
			t.Errorf("%s ran %q, want the preflight alone", want, calls)
		}
	}
}

// previewAll runs the policy gate over ENV's stack files before the
// preview, and stops at a violation.
func TestPreviewAllAuditsTheStackFilesFirst(t *testing.T) {
	t.Setenv("ENV", "dev")
	t.Setenv("AUDIT_INPUT", "")
	var calls []string
	run, rot := goRun, auditRotator
	goRun = func(pkg string, args ...string) error {
		calls = append(calls, pkg)
		if pkg == "./ops/cmd/audit" {
			return errors.New("a high finding")
		}
		return nil
	}
	auditRotator = func() {}
	t.Cleanup(func() { goRun, auditRotator = run, rot })
	if err := PreviewAll(); err == nil {
		t.Fatal("previewAll went on after the policy gate failed")
	}
	if want := []string{"./ops/cmd/preflight", "./ops/cmd/synth", "./ops/cmd/audit"}; !slices.Equal(calls, want) {
		t.Fatalf("previewAll ran %q, want %q", calls, want)
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
	atRoot(t)
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
	for _, target := range []string{"dev:audit", "dev:build", "deployAll", "destroyAll", "previewAll", "dev:rehearse", "status", "dev:synth", "dev:test", "verify", "version", "dev:release", "dev:rotator",
		"up:network", "up:kms", "up:database", "up:secrets", "preview:secrets", "destroy:network", "outputs:secrets", "sandbox", "pulumiCLI"} {
		if !strings.Contains(string(out), "\n  "+target+" ") {
			t.Errorf("-l does not list %s", target)
		}
	}
	// The contributor's targets are under dev: only, and nothing is the
	// default: a bare `go run mage.go` lists the targets, it runs none.
	for _, name := range []string{"test", "lint", "build", "rotator", "fuzz"} {
		if strings.Contains(string(out), "\n  "+name+" ") || strings.Contains(string(out), "\n  "+name+"* ") {
			t.Errorf("-l lists %s at the top level", name)
		}
	}
	bare, err := exec.Command("go", "run", "mage.go").CombinedOutput()
	if err != nil || string(bare) != string(out) {
		t.Fatalf("a bare go run mage.go: %v\n%s\nwant the list", err, bare)
	}
}

// The short names of the contributor's targets, which messages of the
// workspace's code still give (go run mage.go build), are aliases of the
// dev: targets.
func TestShortNamesAreAliases(t *testing.T) {
	atRoot(t)
	for alias, target := range map[string]string{"test": "dev:test", "build": "dev:build", "bench": "dev:bench", "rotator": "dev:rotator", "synth": "dev:synth", "audit": "dev:audit"} {
		out, err := exec.Command("go", "run", "mage.go", "-h", target).CombinedOutput()
		if err != nil || !regexp.MustCompile(`Aliases: .*\b`+alias+`\b`).Match(out) {
			t.Errorf("-h %s: %v\n%s\nwant the alias %s", target, err, out, alias)
		}
	}
}

// mage.go says it compiles the targets before it does, and only then: with
// an empty mage cache (MAGEFILE_CACHE) the first run compiles, the second
// does not.
func TestMageWrapperSaysWhenItCompiles(t *testing.T) {
	atRoot(t)
	cache := t.TempDir()
	run := func() string {
		t.Helper()
		cmd := exec.Command("go", "run", "mage.go", "version")
		cmd.Env = append(os.Environ(), "MAGEFILE_CACHE="+cache)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if out, err := cmd.Output(); err != nil {
			t.Fatalf("version: %v\n%s%s", err, out, stderr.String())
		}
		return stderr.String()
	}
	if got := run(); !strings.HasPrefix(got, "mage: compiling the targets (first run only, about ") {
		t.Fatalf("first run, stderr %q: want the compiling notice first", got)
	}
	if got := run(); strings.Contains(got, "compiling") {
		t.Fatalf("second run, stderr %q: nothing was compiled", got)
	}
}

// One version everywhere: VERSION is the CHANGELOG's top released entry,
// package version embeds that same file, and the rotator's build sets it
// as main.version, a string the rotator logs (functions/rotator's tests
// check the log line, functions/rotator/lambdazip's that -X reaches the bootstrap).
func TestVersionAgreesWithChangelogAndRotatorBuild(t *testing.T) {
	atRoot(t)
	v, err := readVersion()
	if err != nil {
		t.Fatal(err)
	}
	changelog, err := os.ReadFile(changelogFile)
	if err != nil {
		t.Fatal(err)
	}
	if top := topReleased(string(changelog)); top != v {
		t.Fatalf("%s says %s, the CHANGELOG's top released entry is [%s]", versionFile, v, top)
	}
	pkg, err := os.ReadFile(filepath.Join(filepath.Dir(versionFile), "version.go"))
	if err != nil || !strings.Contains(string(pkg), "//go:embed "+filepath.Base(versionFile)+"\n") {
		t.Fatalf("package version does not embed %s (%v)", versionFile, err)
	}
	calls := recordRuns(t)
	if err := (Dev{}).Rotator(); err != nil {
		t.Fatal(err)
	}
	if len(*calls) != 1 || !strings.HasSuffix((*calls)[0], " -X main.version="+v) {
		t.Fatalf("rotator ran %q, want the build to set main.version=%s", *calls, v)
	}
	// -X sets only a package-level string variable of package main whose
	// initializer is a constant.
	f, err := parser.ParseFile(token.NewFileSet(), "functions/rotator/main.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, d := range f.Decls {
		if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.VAR {
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if n.Name != "version" || len(vs.Values) <= i {
						continue
					}
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						found = true
					}
				}
			}
		}
	}
	if f.Name.Name != "main" || !found {
		t.Fatal(`functions/rotator/main.go has no package-level var version = "..." for -X main.version`)
	}
}

func TestChangelogEntry(t *testing.T) {
	const changelog = "# Changelog\n\n## [Unreleased]\n\n### Added\n- next\n\n## [1.1.0] - 2026-12-02\n\n### Fixed\n- a bug\n\n## [1.0.0] - 2026-12-01\r\n\r\n### Added\r\n- the first\r\n\r\n## [0.9.0] - 2026-11-01\n\n\n[Unreleased]: https://x/compare/v1.1.0...HEAD\n[1.1.0]: https://x/compare/v1.0.0...v1.1.0\n"
	for v, want := range map[string]string{
		"1.1.0": "### Fixed\n- a bug\n",
		"1.0.0": "### Added\n- the first\n",
	} {
		if got, err := changelogEntry(changelog, v); err != nil || got != want {
			t.Errorf("entry %s = %q, %v; want %q", v, got, err, want)
		}
	}
	if _, err := changelogEntry(changelog, "0.9.0"); err == nil || !strings.Contains(err.Error(), "[0.9.0] is empty") {
		t.Errorf("empty entry: %v", err)
	}
	if _, err := changelogEntry(changelog, "2.0.0"); err == nil || !strings.Contains(err.Error(), `no entry "## [2.0.0]`) {
		t.Errorf("missing entry: %v", err)
	}
	if _, err := changelogEntry(changelog, "1.1"); err == nil {
		t.Error("1.1 matched an entry")
	}
	if top := topReleased(changelog); top != "1.1.0" {
		t.Errorf("top released = %q", top)
	}
}

// releaseRepo makes a git repository in a temporary folder, the working
// directory for the test, with VERSION 1.0.0, its CHANGELOG entry and a
// workspace of three modules: the root, a, and b/c, which requires a at
// v0.9.0, replaced in go.work. Release's git runs with a test identity and
// no user or system configuration. It returns a function that runs git,
// and one that writes a file.
func releaseRepo(t *testing.T) (git func(args ...string) string, write func(name, body string)) {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	for _, k := range []string{"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	empty := filepath.Join(t.TempDir(), "gitconfig")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"GIT_CONFIG_GLOBAL": empty, "GIT_CONFIG_NOSYSTEM": "1",
		"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"} {
		t.Setenv(k, v)
	}
	git = func(args ...string) string {
		t.Helper()
		out, err := exec.Command("git", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	write = func(name, body string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(name), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(versionFile, "1.0.0\n")
	write(changelogFile, "# Changelog\n\n## [Unreleased]\n\n## [1.0.0] - 2026-12-01\n\n### Added\n- everything\n\n[1.0.0]: https://x/releases/tag/v1.0.0\n")
	write(".gitignore", "/dist/\nfunctions/rotator/dist/\n")
	write("go.work", "go 1.26.6\n\nuse (\n\t.\n\t./a\n\t./b/c\n)\n\nreplace github.com/dbvault/dbvault/a v0.9.0 => ./a\n")
	write("go.mod", "module github.com/dbvault/dbvault\n\ngo 1.26.6\n")
	write("a/go.mod", "module github.com/dbvault/dbvault/a\n\ngo 1.26.6\n")
	write("b/c/go.mod", "module github.com/dbvault/dbvault/b/c\n\ngo 1.26.6\n\nrequire (\n\tgithub.com/dbvault/dbvault/a v0.9.0 // indirect\n\texample.com/x v1.0.0\n)\n")
	git("init", "-q")
	git("add", ".")
	git("commit", "-q", "-m", "init")
	return git, write
}

// fakeRotatorBuild replaces the rotator's build for one test: each build
// writes "zip <n>".
func fakeRotatorBuild(t *testing.T, write func(name, body string)) *int {
	t.Helper()
	builds := 0
	old := releaseRotator
	releaseRotator = func() {
		builds++
		write(rotatorZip, fmt.Sprintf("zip %d", builds))
	}
	t.Cleanup(func() { releaseRotator = old })
	return &builds
}

// Release moves every requirement on one of the modules, and go.work's
// replacement of it, to the version, commits that, tags each module as Go
// expects and writes the zip, SHA256SUMS (sha256sum's format) and the
// version's CHANGELOG entry as NOTES.md into dist/release, replacing an
// earlier release's files. Run again on the tagged commit it changes
// nothing but the files. It refuses a dirty tree or a version without an
// entry before building anything.
func TestRelease(t *testing.T) {
	git, write := releaseRepo(t)
	builds := fakeRotatorBuild(t, write)
	write(filepath.Join(releaseDir, "rotator-v0.9.0-linux-arm64.zip"), "stale")
	before := git("rev-parse", "HEAD")

	if err := (Dev{}).Release(); err != nil {
		t.Fatal(err)
	}
	head := git("rev-parse", "HEAD")
	if git("rev-parse", head+"^") != before || git("status", "--porcelain") != "" {
		t.Fatalf("want one release commit on %s and a clean tree; log:\n%s\nstatus: %s", before, git("log", "--oneline"), git("status", "--porcelain"))
	}
	if got := git("show", "--name-only", "--format=", head); got != "b/c/go.mod\ngo.work" {
		t.Fatalf("the release commit changed %q, want b/c/go.mod and go.work", got)
	}
	if got, want := git("show", "HEAD:b/c/go.mod"), "module github.com/dbvault/dbvault/b/c\n\ngo 1.26.6\n\nrequire (\n\tgithub.com/dbvault/dbvault/a v1.0.0 // indirect\n\texample.com/x v1.0.0\n)"; got != want {
		t.Fatalf("b/c/go.mod:\n%s\nwant\n%s", got, want)
	}
	if got := git("show", "HEAD:go.work"); !strings.HasSuffix(got, "\nreplace github.com/dbvault/dbvault/a v1.0.0 => ./a") {
		t.Fatalf("go.work:\n%s", got)
	}
	tags := strings.Fields(git("tag", "--points-at", "HEAD"))
	if want := []string{"a/v1.0.0", "b/c/v1.0.0", "v1.0.0"}; !slices.Equal(tags, want) {
		t.Fatalf("tags on the release commit %q, want %q", tags, want)
	}
	if kind := git("cat-file", "-t", "b/c/v1.0.0"); kind != "tag" {
		t.Fatalf("b/c/v1.0.0 is a %s, want an annotated tag", kind)
	}
	name := "rotator-v1.0.0-linux-arm64.zip"
	entries, _ := os.ReadDir(releaseDir)
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if want := []string{"NOTES.md", "SHA256SUMS", name}; !slices.Equal(got, want) {
		t.Fatalf("dist/release holds %q, want %q", got, want)
	}
	read := func(name string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(releaseDir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if z := read(name); z != "zip 1" {
		t.Fatalf("zip = %q", z)
	}
	if sums, want := read("SHA256SUMS"), fmt.Sprintf("%x  %s\n", sha256.Sum256([]byte("zip 1")), name); sums != want {
		t.Fatalf("SHA256SUMS = %q, want %q", sums, want)
	}
	if _, err := exec.LookPath("sha256sum"); err == nil {
		cmd := exec.Command("sha256sum", "-c", "SHA256SUMS")
		cmd.Dir = releaseDir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("sha256sum -c: %v\n%s", err, out)
		}
	}
	if notes := read("NOTES.md"); notes != "### Added\n- everything\n" {
		t.Fatalf("NOTES.md = %q", notes)
	}

	// Again on the tagged commit (as the release workflow does with
	// ReleaseFiles): the files only.
	if err := (Dev{}).Release(); err != nil {
		t.Fatal(err)
	}
	if err := (Dev{}).ReleaseFiles(); err != nil {
		t.Fatal(err)
	}
	if git("rev-parse", "HEAD") != head || *builds != 3 || read(name) != "zip 3" {
		t.Fatalf("a second release moved HEAD or did not rebuild (%d builds)", *builds)
	}

	// A dirty tree: an untracked file, then a changed one.
	write("new.go", "package x\n")
	if err := (Dev{}).Release(); err == nil || !strings.Contains(err.Error(), "not clean") || !strings.Contains(err.Error(), "?? new.go") {
		t.Fatalf("untracked file: %v", err)
	}
	if err := os.Remove("new.go"); err != nil {
		t.Fatal(err)
	}
	write("tracked.txt", "a\n")
	git("add", "tracked.txt")
	git("commit", "-q", "-m", "tracked")
	write("tracked.txt", "b\n")
	if err := (Dev{}).Release(); err == nil || !strings.Contains(err.Error(), " M tracked.txt") {
		t.Fatalf("changed file: %v", err)
	}
	git("checkout", "-q", "--", "tracked.txt")

	// A version without an entry, committed.
	write(versionFile, "1.1.0\n")
	git("commit", "-q", "-am", "1.1.0")
	if err := (Dev{}).Release(); err == nil || !strings.Contains(err.Error(), `no entry "## [1.1.0]`) {
		t.Fatalf("version without an entry: %v", err)
	}
	// With its entry, but not released yet: ReleaseFiles refuses it.
	write(changelogFile, "# Changelog\n\n## [1.1.0] - 2026-12-02\n\n### Fixed\n- a bug\n")
	git("commit", "-q", "-am", "1.1.0 entry")
	if err := (Dev{}).ReleaseFiles(); err == nil || !strings.Contains(err.Error(), "b/c/go.mod, go.work do not require the other modules at v1.1.0") {
		t.Fatalf("ReleaseFiles before the release commit: %v", err)
	}
	if *builds != 3 {
		t.Fatalf("built %d times; a refused release builds nothing", *builds)
	}
}

// A version is released once: a module's tag of it on another commit, or
// a replace of one of the modules in a go.mod, stops the release before it
// commits, tags or builds anything.
func TestReleaseRefuses(t *testing.T) {
	git, write := releaseRepo(t)
	builds := fakeRotatorBuild(t, write)
	refused := func(what, want string) {
		t.Helper()
		head, tags := git("rev-parse", "HEAD"), git("tag")
		if err := (Dev{}).Release(); err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: %v, want %q", what, err, want)
		}
		if got := git("rev-parse", "HEAD"); got != head || git("tag") != tags || *builds != 0 {
			t.Fatalf("%s: the refused release committed (%s), tagged (%q) or built (%d)", what, got, git("tag"), *builds)
		}
	}
	git("tag", "a/v1.0.0")
	write("x.txt", "later\n")
	git("add", "x.txt")
	git("commit", "-q", "-m", "later")
	refused("a tag on another commit", "the tag a/v1.0.0 already exists on")
	git("tag", "-d", "a/v1.0.0")

	write("a/go.mod", "module github.com/dbvault/dbvault/a\n\ngo 1.26.6\n\nreplace github.com/dbvault/dbvault/b/c => ../b/c\n")
	git("commit", "-q", "-am", "replace")
	refused("a replace", "a/go.mod replaces github.com/dbvault/dbvault/b/c")

	write("a/go.mod", "module github.com/dbvault/dbvault/a\n\ngo 1.26.6\n\nrequire github.com/dbvault/dbvault/b/c v1.0.0\n")
	git("commit", "-q", "-am", "a requires b/c")
	refused("a requirement go.work does not replace", "go.work does not replace github.com/dbvault/dbvault/b/c, which a/go.mod requires")
}

func TestSetRequires(t *testing.T) {
	in := "module example.com/m\n\ngo 1.26.6\n\nrequire github.com/dbvault/dbvault/stacks/kit v0.0.0-00010101000000-000000000000\n\nrequire (\n\tgithub.com/dbvault/dbvault v0.1.0\n\tgithub.com/dbvault/dbvaultx v0.1.0\n\tgithub.com/dbvault/dbvault/functions/rotator v0.1.0 // indirect\n)\n\ntool github.com/dbvault/dbvault/tools/x\n"
	want := "module example.com/m\n\ngo 1.26.6\n\nrequire github.com/dbvault/dbvault/stacks/kit v0.3.0\n\nrequire (\n\tgithub.com/dbvault/dbvault v0.3.0\n\tgithub.com/dbvault/dbvaultx v0.1.0\n\tgithub.com/dbvault/dbvault/functions/rotator v0.3.0 // indirect\n)\n\ntool github.com/dbvault/dbvault/tools/x\n"
	got, changed, paths, err := setRequires("go.mod", in, "v0.3.0")
	if err != nil || !changed || got != want {
		t.Fatalf("setRequires = %v, %v:\n%s\nwant\n%s", changed, err, got, want)
	}
	if want := []string{"github.com/dbvault/dbvault/stacks/kit", "github.com/dbvault/dbvault", "github.com/dbvault/dbvault/functions/rotator"}; !slices.Equal(paths, want) {
		t.Fatalf("required %q, want %q", paths, want)
	}
	if _, changed, _, _ := setRequires("go.mod", want, "v0.3.0"); changed {
		t.Fatal("a go.mod already at the version changed")
	}
	for _, r := range []string{"replace github.com/dbvault/dbvault/stacks/kit => ../kit\n", "replace (\n\tgithub.com/dbvault/dbvault/stacks/kit v0.3.0 => ../kit\n)\n"} {
		if _, _, _, err := setRequires("x/go.mod", in+r, "v0.3.0"); err == nil || !strings.Contains(err.Error(), "x/go.mod replaces github.com/dbvault/dbvault/stacks/kit") {
			t.Errorf("%q: %v", r, err)
		}
	}
}

// The repository itself: every module of go.work is tagged, the root one
// first, and every go.mod already requires the others at the current
// version, each replaced in go.work (what ReleaseFiles checks at a tag).
func TestWorkspaceIsAtTheVersion(t *testing.T) {
	atRoot(t)
	v, err := readVersion()
	if err != nil {
		t.Fatal(err)
	}
	dirs, err := workspaceModules()
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 2 || dirs[0] != "." || !slices.Contains(dirs, "stacks/secrets") || !slices.Contains(dirs, "functions/rotator") {
		t.Fatalf("workspace modules %q", dirs)
	}
	if tags := moduleTags(dirs, v); tags[0] != "v"+v || !slices.Contains(tags, "stacks/secrets/v"+v) {
		t.Fatalf("tags %q", tags)
	}
	changed, err := setModuleVersions(dirs, "v"+v, false)
	if err != nil || len(changed) > 0 {
		t.Fatalf("the modules are not all at v%s: %q need changes (%v)", v, changed, err)
	}
}
