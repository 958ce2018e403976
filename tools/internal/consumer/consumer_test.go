package consumer

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"
)

// modulePath is the root module's path; every other module's is it, a
// slash and the module's folder.
const modulePath = "github.com/dbvault/dbvault"

// TestAProgramOfYourOwnGetsTheComponents releases a copy of the working
// tree at a test version (go run mage.go dev:release: the modules' versions,
// the commit, the tags, the rotator zip), serves the tagged modules from a
// file-based module proxy, and in a fresh module outside the workspace
// runs go get of stacks/secrets and stacks/database at that version, builds
// testdata/platform and runs it under the mocks. The vault's rotator zip,
// built from the module cache because the program names none, is the
// release's zip, byte for byte.
//
// The version is unique to the run (the module cache is shared, and it
// keeps a version's first contents for good), and the test removes that
// version from the module cache when it ends.
func TestAProgramOfYourOwnGetsTheComponents(t *testing.T) {
	if testing.Short() {
		t.Skip("releases a copy of the repository and builds a program against it")
	}
	start := time.Now()
	lap := func(what string) {
		t.Logf("%6.1fs %s", time.Since(start).Seconds(), what)
	}
	root := gitOut(t, ".", nil, "rev-parse", "--show-toplevel")
	work := t.TempDir()
	repo := filepath.Join(work, "repo")
	copyWorkingTree(t, root, repo)
	env := gitEnv(t)
	gitOut(t, repo, env, "init", "-q")
	gitOut(t, repo, env, "add", "-A")
	gitOut(t, repo, env, "commit", "-q", "-m", "the working tree")

	// The version: VERSION's, as a pre-release unique to this run, with
	// its CHANGELOG entry, committed as a maintainer would.
	versionFile := filepath.Join(repo, "functions", "rotator", "version", "VERSION")
	current, err := os.ReadFile(versionFile)
	if err != nil {
		t.Fatal(err)
	}
	version := strings.TrimSpace(string(current)) + "-consumertest." + strconv.FormatInt(time.Now().UnixNano(), 10)
	tag := "v" + version
	writeFile(t, versionFile, version+"\n")
	changelog := filepath.Join(repo, "CHANGELOG.md")
	old, err := os.ReadFile(changelog)
	if err != nil {
		t.Fatal(err)
	}
	entry := "## [" + version + "] - 2026-12-01\n\n### Added\n- The consumer test's release.\n\n"
	at := bytes.Index(old, []byte("\n## ["))
	if at < 0 {
		t.Fatal("CHANGELOG.md has no entry")
	}
	writeFile(t, changelog, string(old[:at+1])+entry+string(old[at+1:]))
	gitOut(t, repo, env, "commit", "-q", "-am", "version "+version)
	lap("copied and committed the working tree")

	gomodcache := goEnv(t, "GOMODCACHE")
	t.Cleanup(func() { forgetVersion(t, gomodcache, tag) })

	release := exec.Command("go", "run", "mage.go", "release")
	release.Dir = repo
	release.Env = withoutGOWORK(env)
	if out, err := release.CombinedOutput(); err != nil {
		t.Fatalf("go run mage.go dev:release: %v\n%s", err, out)
	}
	if status := gitOut(t, repo, env, "status", "--porcelain"); status != "" {
		t.Fatalf("the release left the tree dirty:\n%s", status)
	}
	tags := strings.Fields(gitOut(t, repo, env, "tag", "--points-at", "HEAD"))
	for _, want := range []string{tag, "stacks/secrets/" + tag, "stacks/database/" + tag, "stacks/kit/" + tag, "functions/rotator/" + tag} {
		if !slices.Contains(tags, want) {
			t.Fatalf("the release commit has the tags %q, not %s", tags, want)
		}
	}
	releaseZip, err := os.ReadFile(filepath.Join(repo, "dist", "release", "rotator-"+tag+"-linux-arm64.zip"))
	if err != nil {
		t.Fatal(err)
	}
	lap("released " + tag)

	proxy := filepath.Join(work, "proxy")
	for _, tg := range tags {
		serveModule(t, proxy, repo, tg, version)
	}
	lap(fmt.Sprintf("served %d modules from a file-based proxy", len(tags)))

	// The team's module: its own folder, no go.work, nothing of the
	// repository on disk but what the proxy serves.
	platform := filepath.Join(work, "platform")
	writeFile(t, filepath.Join(platform, "go.mod"), "module example.com/platform\n\ngo 1.26.6\n")
	src, err := os.ReadFile(filepath.Join("testdata", "platform", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(platform, "main.go"), string(src))
	cache := filepath.Join(work, "cache")
	teamEnv := append(withoutGOWORK(os.Environ()),
		"GOWORK=off",
		"GOFLAGS=-mod=mod -modcacherw",
		"GOPROXY=file://"+filepath.ToSlash(proxy)+","+goEnv(t, "GOPROXY"),
		// The test's modules are in no checksum database; every other
		// module is checked as usual.
		"GONOSUMDB="+modulePath, "GOPRIVATE=", "GONOPROXY=",
		// The rotator's zip goes to the user's cache folder; the Go build
		// cache stays the shared one.
		"XDG_CACHE_HOME="+cache, "GOCACHE="+goEnv(t, "GOCACHE"),
	)
	run := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir, cmd.Env = platform, teamEnv
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr.Bytes())
		}
		return string(out)
	}
	run("go", "get", modulePath+"/stacks/secrets@"+tag, modulePath+"/stacks/database@"+tag)
	lap("go get stacks/secrets and stacks/database")
	run("go", "build", "-o", "platform", ".")
	lap("built the program")

	gomod, err := os.ReadFile(filepath.Join(platform, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{modulePath + "/stacks/secrets " + tag, modulePath + "/stacks/database " + tag} {
		if !strings.Contains(string(gomod), want) {
			t.Errorf("the program's go.mod does not require %s:\n%s", want, gomod)
		}
	}
	if strings.Contains(string(gomod), "replace") {
		t.Errorf("the program's go.mod has a replace:\n%s", gomod)
	}
	rotatorDir := strings.TrimSpace(run("go", "list", "-m", "-f", "{{.Dir}}", modulePath+"/functions/rotator"))
	if !strings.HasPrefix(rotatorDir, gomodcache+string(filepath.Separator)) {
		t.Errorf("the rotator's module is at %s, not in the module cache %s", rotatorDir, gomodcache)
	}

	var got struct {
		Resources, Databases int
		Functions            []struct{ Code, SourceCodeHash string }
	}
	out := run(filepath.Join(platform, "platform"), "mock")
	lap("ran the program under the mocks (the vault built the rotator)")
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("the program printed %q: %v", out, err)
	}
	if got.Databases != 1 || len(got.Functions) != 1 {
		t.Fatalf("the program made %d databases and %d functions with a zip, want 1 and 1: %s", got.Databases, len(got.Functions), out)
	}
	fn := got.Functions[0]
	if !strings.HasPrefix(fn.Code, cache+string(filepath.Separator)) {
		t.Errorf("the rotator's code is %s, not a zip the vault built in the user's cache %s", fn.Code, cache)
	}
	built, err := os.ReadFile(fn.Code)
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(releaseZip)
	if sum := sha256.Sum256(built); sum != want {
		t.Fatalf("the zip the program's vault built (%s, sha256 %x, %d bytes) is not the release's (sha256 %x, %d bytes)", fn.Code, sum, len(built), want, len(releaseZip))
	}
	if fn.SourceCodeHash != base64.StdEncoding.EncodeToString(want[:]) {
		t.Errorf("sourceCodeHash %s, want the release zip's %s", fn.SourceCodeHash, base64.StdEncoding.EncodeToString(want[:]))
	}
	t.Logf("the program's rotator zip is the release's: sha256 %x, %d bytes; %d resources", want, len(releaseZip), got.Resources)
	lap("done")
}

// copyWorkingTree copies the files of root's working tree that git tracks
// or would track (not ignored), as they are on disk, into dst.
func copyWorkingTree(t *testing.T, root, dst string) {
	t.Helper()
	out := gitOut(t, root, nil, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	for name := range strings.SplitSeq(out, "\x00") {
		if name == "" {
			continue
		}
		from := filepath.Join(root, filepath.FromSlash(name))
		info, err := os.Lstat(from)
		if err != nil {
			continue // deleted, not yet committed
		}
		to := filepath.Join(dst, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(to), 0o750); err != nil {
			t.Fatal(err)
		}
		if info.Mode()&fs.ModeSymlink != 0 {
			link, err := os.Readlink(from)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(link, to); err != nil {
				t.Fatal(err)
			}
			continue
		}
		b, err := os.ReadFile(from) // #nosec G304 -- a file of this repository
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, b, info.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
}

// serveModule writes the module that tag names into proxy as cmd/go reads
// a GOPROXY=file:// folder (https://go.dev/ref/mod#goproxy-protocol):
// <path>/@v/list, <version>.info, .mod and .zip, the zip made from the
// tagged commit as a proxy makes it from the repository.
func serveModule(t *testing.T, proxy, repo, tag, version string) {
	t.Helper()
	dir, _ := strings.CutSuffix(tag, "/v"+version)
	if tag == "v"+version {
		dir = ""
	}
	modPath := modulePath
	if dir != "" {
		modPath += "/" + dir
	}
	escPath, err := module.EscapePath(modPath)
	if err != nil {
		t.Fatal(err)
	}
	escVersion, err := module.EscapeVersion("v" + version)
	if err != nil {
		t.Fatal(err)
	}
	at := filepath.Join(proxy, filepath.FromSlash(escPath), "@v")
	if err := os.MkdirAll(at, 0o750); err != nil {
		t.Fatal(err)
	}
	var zip bytes.Buffer
	if err := modzip.CreateFromVCS(&zip, module.Version{Path: modPath, Version: "v" + version}, repo, tag, dir); err != nil {
		t.Fatalf("the zip of %s: %v", modPath, err)
	}
	show := exec.Command("git", "show", tag+":"+strings.TrimPrefix(dir+"/go.mod", "/"))
	show.Dir = repo
	gomod, err := show.Output()
	if err != nil {
		t.Fatalf("the go.mod of %s: %v", tag, err)
	}
	info, err := json.Marshal(map[string]string{"Version": "v" + version, "Time": time.Now().UTC().Format(time.RFC3339)})
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(at, "list"), "v"+version+"\n")
	writeFile(t, filepath.Join(at, escVersion+".info"), string(info))
	writeFile(t, filepath.Join(at, escVersion+".mod"), string(gomod))
	writeFile(t, filepath.Join(at, escVersion+".zip"), zip.String())
}

// forgetVersion removes the repository's modules at version (tag) from the
// module cache: the extracted folders and the downloads.
func forgetVersion(t *testing.T, gomodcache, tag string) {
	for _, top := range []string{
		// github.com/dbvault/dbvault@<tag>, github.com/dbvault/dbvault/stacks/secrets@<tag>, ...
		filepath.Join(gomodcache, filepath.FromSlash(path.Dir(modulePath))),
		// github.com/dbvault/dbvault/@v/<tag>.zip, .../stacks/secrets/@v/<tag>.zip, ...
		filepath.Join(gomodcache, "cache", "download", filepath.FromSlash(modulePath)),
	} {
		var remove []string
		_ = filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			name := d.Name()
			if strings.HasSuffix(name, "@"+tag) || strings.HasPrefix(name, tag+".") || name == tag+".lock" {
				remove = append(remove, p)
				if d.IsDir() {
					return fs.SkipDir
				}
			}
			return nil
		})
		for _, p := range remove {
			_ = filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
				if err == nil && d.IsDir() {
					_ = os.Chmod(q, 0o750) // #nosec G302 -- the module cache makes its folders read-only
				}
				return nil
			})
			if err := os.RemoveAll(p); err != nil {
				t.Errorf("the module cache keeps %s: %v", p, err)
			}
		}
	}
}

// gitEnv is the environment for git in the copy: a test identity, no user
// or system configuration (no signing, no hooks of the user's).
func gitEnv(t *testing.T) []string {
	t.Helper()
	empty := filepath.Join(t.TempDir(), "gitconfig")
	writeFile(t, empty, "")
	env := []string{"GIT_CONFIG_GLOBAL=" + empty, "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=consumer test", "GIT_AUTHOR_EMAIL=consumer-test@example.com",
		"GIT_COMMITTER_NAME=consumer test", "GIT_COMMITTER_EMAIL=consumer-test@example.com"}
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k != "GIT_DIR" && k != "GIT_WORK_TREE" && k != "GIT_INDEX_FILE" {
			out = append(out, kv)
		}
	}
	return append(out, env...)
}

// withoutGOWORK is env without GOWORK, so that go finds the go.work of
// the folder it runs in.
func withoutGOWORK(env []string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool { return strings.HasPrefix(kv, "GOWORK=") })
}

// gitOut runs git in dir (env nil: the test's) and returns its output,
// trimmed.
func gitOut(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir, cmd.Env = dir, env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %s in %s: %v\n%s", strings.Join(args, " "), dir, err, stderr.Bytes())
	}
	return strings.TrimSpace(string(out))
}

// goEnv is one variable of go env, as the test's go sees it.
func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}

func writeFile(t *testing.T, name, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(body), 0o644); err != nil { // #nosec G306 -- test files
		t.Fatal(err)
	}
}
