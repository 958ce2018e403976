// Version and release targets. The version's one source of truth is
// functions/rotator/version/VERSION: package version embeds it (the stacks
// import that package), the rotator gets it through -ldflags -X
// (rotator.go), and these targets read the file with the standard
// library only, so no module of the workspace is compiled into mage.
//
// Every module of go.work has the same version. A module requires the
// others at that version, with no replace in any go.mod, so that
// `go get github.com/dbvault/dbvault/stacks/secrets@v0.2.0` works for a
// program outside this repository; go.work replaces each required version
// by its folder, so that nothing has to be published while it is
// developed. Release moves every one of those versions at once, commits
// that and tags each module as Go expects (v0.2.0 for the root module,
// stacks/secrets/v0.2.0 for the module in stacks/secrets).
// (Not a package comment: the package's is in workspace.go.)

package targets

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/magefile/mage/mg"
)

const (
	versionFile   = "functions/rotator/version/VERSION"
	changelogFile = "CHANGELOG.md"
	rotatorZip    = "functions/rotator/dist/rotator.zip" // what Rotator writes
	workFile      = "go.work"
	// modulePath is the root module's path; every other module's path is
	// it, a slash and the module's folder.
	modulePath = "github.com/dbvault/dbvault"
)

// releaseDir is where Release writes the release's files.
var releaseDir = filepath.Join("dist", "release")

// Version prints dbvault's version (functions/rotator/version/VERSION, the top released entry of CHANGELOG.md).
func Version() error {
	v, err := readVersion()
	if err != nil {
		return err
	}
	fmt.Println(v)
	return nil
}

// Release sets every module's requirements on the others to the version (VERSION), commits that, tags every module (v0.2.0, stacks/secrets/v0.2.0, ...) and writes dist/release/ as ReleaseFiles; clean working tree only; pushes nothing.
func (Dev) Release() error {
	v, notes, dirs, changed, err := releaseChecks()
	if err != nil {
		return err
	}
	tags := moduleTags(dirs, v)
	existing, err := existingTags(tags)
	if err != nil {
		return err
	}
	if len(changed) > 0 {
		if len(existing) > 0 {
			return fmt.Errorf("the tags %s exist on this commit, but %s do not require the other modules at v%s: a version is released once; set a new version in %s and %s", strings.Join(existing, ", "), strings.Join(changed, ", "), v, versionFile, changelogFile)
		}
		if _, err := setModuleVersions(dirs, "v"+v, true); err != nil {
			return err
		}
		args := append([]string{"commit", "-q", "-m", "release v" + v + ": the modules require each other at v" + v, "--"}, changed...)
		if err := git(args...); err != nil {
			return err
		}
		fmt.Printf("committed v%s in %s\n", v, strings.Join(changed, ", "))
	}
	if err := writeReleaseFiles(v, notes); err != nil {
		return err
	}
	if err := tagModules(dirs, v, existing); err != nil {
		return err
	}
	// GitHub starts no workflow for a push of more than three tags at once
	// (https://docs.github.com/en/actions/reference/workflows-and-actions/events-that-trigger-workflows#push):
	// the root module's tag, which starts the release workflow, goes alone.
	fmt.Printf("tagged %d modules; nothing is pushed. To publish, push the branch and the modules' tags, then the release's tag alone:\n", len(tags))
	fmt.Printf("  git push origin HEAD %s\n  git push origin %s\n", strings.Join(tags[1:], " "), tags[0])
	return nil
}

// ReleaseFiles builds the rotator zip and writes dist/release/: the zip, SHA256SUMS and NOTES.md (the version's CHANGELOG entry); a clean, released tree only (the release workflow runs it at the tag).
func (Dev) ReleaseFiles() error {
	v, notes, _, changed, err := releaseChecks()
	if err != nil {
		return err
	}
	if len(changed) > 0 {
		return fmt.Errorf("%s do not require the other modules at v%s: this is not a release commit; run `go run mage.go dev:release` first", strings.Join(changed, ", "), v)
	}
	return writeReleaseFiles(v, notes)
}

// releaseChecks returns the version, its CHANGELOG entry, the workspace's
// modules and those of them that do not require the others at the version
// yet, and refuses a version without an entry or a working tree that is not
// clean.
func releaseChecks() (version, notes string, dirs, changed []string, err error) {
	v, err := readVersion()
	if err != nil {
		return "", "", nil, nil, err
	}
	changelog, err := os.ReadFile(changelogFile)
	if err != nil {
		return "", "", nil, nil, err
	}
	notes, err = changelogEntry(string(changelog), v)
	if err != nil {
		return "", "", nil, nil, err
	}
	if err := cleanTree(); err != nil {
		return "", "", nil, nil, err
	}
	if dirs, err = workspaceModules(); err != nil {
		return "", "", nil, nil, err
	}
	if changed, err = setModuleVersions(dirs, "v"+v, false); err != nil {
		return "", "", nil, nil, err
	}
	return v, notes, dirs, changed, nil
}

// writeReleaseFiles builds the rotator's zip and writes dist/release/.
func writeReleaseFiles(v, notes string) error {
	releaseRotator()
	zip, err := os.ReadFile(rotatorZip)
	if err != nil {
		return fmt.Errorf("the rotator's zip: %w", err)
	}
	name := releaseZipName(v)
	files, err := writeRelease(releaseDir, name, zip, notes)
	if err != nil {
		return err
	}
	fmt.Printf("release %s:\n", v)
	for _, f := range files {
		fmt.Println("  " + f)
	}
	fmt.Printf("sha256 %x  %s\n", sha256.Sum256(zip), name)
	return nil
}

// releaseRotator builds the rotator's zip (a variable for tests).
var releaseRotator = func() { mg.Deps(Dev.Rotator) }

var semverPattern = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?$`)

// readVersion reads VERSION: one semantic version, e.g. 0.2.0.
func readVersion() (string, error) {
	b, err := os.ReadFile(versionFile)
	if err != nil {
		return "", fmt.Errorf("the version: %w", err)
	}
	v := strings.TrimSpace(string(b))
	if !semverPattern.MatchString(v) {
		return "", fmt.Errorf("%s holds %q, not a semantic version such as 0.2.0", versionFile, v)
	}
	return v, nil
}

// changelogHeading is an entry's heading, "## [0.2.0] - 2026-12-01".
var changelogHeading = regexp.MustCompile(`^## \[([^\]]+)\]`)

// linkDefinition is a reference link at the changelog's end, "[0.2.0]: https://...".
var linkDefinition = regexp.MustCompile(`^\[[^\]]+\]: \S`)

// changelogEntry is the body of version's entry in a Keep a Changelog
// file: the lines after its heading up to the next entry (or the link
// definitions at the end), trimmed, ending in one newline.
func changelogEntry(changelog, version string) (string, error) {
	lines := strings.Split(strings.ReplaceAll(changelog, "\r\n", "\n"), "\n")
	for i, line := range lines {
		m := changelogHeading.FindStringSubmatch(line)
		if m == nil || m[1] != version {
			continue
		}
		var body []string
		for _, l := range lines[i+1:] {
			if strings.HasPrefix(l, "## ") || linkDefinition.MatchString(l) {
				break
			}
			body = append(body, l)
		}
		notes := strings.TrimSpace(strings.Join(body, "\n"))
		if notes == "" {
			return "", fmt.Errorf("%s: the entry [%s] is empty: say what the release changes", changelogFile, version)
		}
		return notes + "\n", nil
	}
	return "", fmt.Errorf("%s has no entry \"## [%s] - <date>\": add the release's entry (Keep a Changelog) and commit it before releasing %s", changelogFile, version, version)
}

// topReleased is the version of the changelog's first entry other than
// [Unreleased] ("" if there is none).
func topReleased(changelog string) string {
	for _, line := range strings.Split(changelog, "\n") {
		if m := changelogHeading.FindStringSubmatch(line); m != nil && m[1] != "Unreleased" {
			return m[1]
		}
	}
	return ""
}

// cleanTree refuses a working tree with a change or an untracked file (git
// status --porcelain; ignored files such as build/ and dist/ do not count):
// a release is built from a commit and nothing else.
func cleanTree() error {
	cmd := exec.Command("git", "status", "--porcelain", "--untracked-files=normal")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("cannot read the working tree's state (git status): %w\n%s", err, strings.TrimSpace(stderr.String()))
	}
	status := strings.TrimRight(string(out), "\n")
	if status == "" {
		return nil
	}
	lines := strings.Split(status, "\n")
	more := ""
	if len(lines) > 10 {
		more = fmt.Sprintf("\n  ... and %d more", len(lines)-10)
		lines = lines[:10]
	}
	return errors.New("the working tree is not clean: commit or stash these first, a release is built from a commit only:\n  " + strings.Join(lines, "\n  ") + more)
}

// releaseZipName is the zip's name in the release: rotator-v0.2.0-linux-arm64.zip.
func releaseZipName(version string) string {
	return "rotator-v" + version + "-linux-arm64.zip"
}

// writeRelease replaces dir with the zip (as name), SHA256SUMS (sha256sum's
// format: the hex digest, two spaces, the name; `sha256sum -c SHA256SUMS`
// checks it in dir) and NOTES.md. It returns the paths it wrote.
func writeRelease(dir, name string, zip []byte, notes string) ([]string, error) {
	if err := os.RemoveAll(dir); err != nil { // no file of an earlier release stays
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(zip)
	files := []struct {
		name string
		data []byte
	}{
		{name, zip},
		{"SHA256SUMS", []byte(hex.EncodeToString(sum[:]) + "  " + name + "\n")},
		{"NOTES.md", []byte(notes)},
	}
	var paths []string
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, f.data, 0o644); err != nil { // #nosec G306 -- release files are published
			return nil, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// useLine is a folder in go.work's use directive, on its own line inside
// the block or after "use".
var useLine = regexp.MustCompile(`^\s*(?:use\s+)?(\./\S*|\.)\s*(?://.*)?$`)

// workspaceModules is the folder of every module in go.work, "." first,
// in go.work's order (slash-separated, without "./").
func workspaceModules() ([]string, error) {
	b, err := os.ReadFile(workFile)
	if err != nil {
		return nil, fmt.Errorf("the workspace's modules: %w", err)
	}
	var dirs []string
	inUse := false
	for _, line := range strings.Split(string(b), "\n") {
		t := strings.TrimSpace(line)
		switch {
		case t == "use (":
			inUse = true
			continue
		case inUse && t == ")":
			inUse = false
			continue
		case !inUse && !strings.HasPrefix(t, "use "):
			continue
		}
		if m := useLine.FindStringSubmatch(line); m != nil {
			dirs = append(dirs, strings.TrimPrefix(path.Clean(m[1]), "./"))
		}
	}
	if !slices.Contains(dirs, ".") {
		return nil, fmt.Errorf("%s does not use the root module (.): every module is released, the root one too", workFile)
	}
	slices.SortStableFunc(dirs, func(a, b string) int {
		if a == "." {
			return -1
		}
		if b == "." {
			return 1
		}
		return 0
	})
	return dirs, nil
}

// moduleTags are the modules' tags for version, in the order of dirs: Go
// finds the version of the module in folder d at the tag d/v<version>, and
// the root module's at v<version>
// (https://go.dev/ref/mod#vcs-version).
func moduleTags(dirs []string, version string) []string {
	tags := make([]string, len(dirs))
	for i, d := range dirs {
		tags[i] = "v" + version
		if d != "." {
			tags[i] = d + "/v" + version
		}
	}
	return tags
}

// requireLine is one requirement: "path version" after "require" or on its
// own line inside a require block, with an optional comment.
var requireLine = regexp.MustCompile(`^(\s*(?:require\s+)?)(\S+)(\s+)(\S+)(.*)$`)

// setRequires returns gomod (a go.mod's text) with every requirement on one
// of this repository's modules at version, whether it changed, and the
// paths of the modules it requires. It
// refuses a replace of one of them: a go.mod's replace does not reach a
// program that requires the module, which would get another build than
// this repository's.
func setRequires(name, gomod, version string) (string, bool, []string, error) {
	lines := strings.Split(gomod, "\n")
	block := ""
	changed := false
	var required []string
	for i, line := range lines {
		t := strings.TrimSpace(line)
		if kw, ok := strings.CutSuffix(t, " ("); ok && !strings.Contains(kw, " ") {
			block = kw
			continue
		}
		if t == ")" {
			block = ""
			continue
		}
		kw, _, _ := strings.Cut(t, " ")
		inline := kw == "require" || kw == "replace"
		if !inline && block == "" {
			continue
		}
		if !inline {
			kw = block
		}
		rest := t
		if inline {
			rest = strings.TrimSpace(strings.TrimPrefix(t, kw))
		}
		p, _, _ := strings.Cut(rest, " ")
		if p != modulePath && !strings.HasPrefix(p, modulePath+"/") {
			continue
		}
		switch kw {
		case "replace":
			return "", false, nil, fmt.Errorf("%s replaces %s: a program that requires the module would not see that replace, so the repository's own build would differ from its users'; remove it (go.work ties the workspace's modules)", name, p)
		case "require":
			m := requireLine.FindStringSubmatch(line)
			if m == nil || m[2] != p {
				return "", false, nil, fmt.Errorf("%s: cannot read the requirement %q", name, t)
			}
			required = append(required, p)
			if m[4] != version {
				lines[i] = m[1] + m[2] + m[3] + version + m[5]
				changed = true
			}
		}
	}
	return strings.Join(lines, "\n"), changed, required, nil
}

// workReplaceLine is one of go.work's replacements of a module at a version
// by a folder: "path version => ./folder", after "replace" or in a block.
var workReplaceLine = regexp.MustCompile(`^(\s*(?:replace\s+)?)(\S+)(\s+)(v\S+)(\s+=>\s+\./\S*\s*)$`)

// setWorkReplaces returns gowork (go.work's text) with every replacement of
// one of this repository's modules at version, whether it changed, and the
// module paths it replaces.
func setWorkReplaces(gowork, version string) (string, bool, map[string]bool) {
	lines := strings.Split(gowork, "\n")
	replaced := map[string]bool{}
	changed := false
	for i, line := range lines {
		m := workReplaceLine.FindStringSubmatch(line)
		if m == nil || (m[2] != modulePath && !strings.HasPrefix(m[2], modulePath+"/")) {
			continue
		}
		replaced[m[2]] = true
		if m[4] != version {
			lines[i] = m[1] + m[2] + m[3] + version + m[5]
			changed = true
		}
	}
	return strings.Join(lines, "\n"), changed, replaced
}

// setModuleVersions sets every requirement on one of the repository's
// modules, in each go.mod of dirs, and go.work's replacement of each, to
// version. It writes the files only when write is true, and returns the
// files that change either way. It refuses a requirement on a module
// outside the workspace or one that go.work does not replace.
func setModuleVersions(dirs []string, version string, write bool) ([]string, error) {
	type file struct {
		name, text string
	}
	var out []file
	inWorkspace := map[string]bool{}
	for _, d := range dirs {
		inWorkspace[modulePathOf(d)] = true
	}
	required := map[string]string{} // module path: the go.mod that requires it
	for _, d := range dirs {
		name := path.Join(d, "go.mod")
		b, err := os.ReadFile(filepath.FromSlash(name))
		if err != nil {
			return nil, err
		}
		text, changed, paths, err := setRequires(name, string(b), version)
		if err != nil {
			return nil, err
		}
		for _, p := range paths {
			required[p] = name
		}
		if changed {
			out = append(out, file{name, text})
		}
	}
	b, err := os.ReadFile(workFile)
	if err != nil {
		return nil, err
	}
	text, changed, replaced := setWorkReplaces(string(b), version)
	for _, p := range slices.Sorted(maps.Keys(required)) {
		switch {
		case !inWorkspace[p]:
			return nil, fmt.Errorf("%s requires %s, which is not a module of %s: add its folder to %s (go work use) or remove the requirement", required[p], p, workFile, workFile)
		case !replaced[p]:
			return nil, fmt.Errorf("%s does not replace %s, which %s requires: without it the workspace looks the version up in the module proxy; add it: go work edit -replace=%s@%s=./%s", workFile, p, required[p], p, version, strings.TrimPrefix(p, modulePath+"/"))
		}
	}
	if changed {
		out = append(out, file{workFile, text})
	}
	var names []string
	for _, f := range out {
		names = append(names, f.name)
		if write {
			if err := os.WriteFile(filepath.FromSlash(f.name), []byte(f.text), 0o644); err != nil { // #nosec G306 -- a committed source file
				return nil, err
			}
		}
	}
	return names, nil
}

// modulePathOf is the path of the module in folder dir.
func modulePathOf(dir string) string {
	if dir == "." {
		return modulePath
	}
	return modulePath + "/" + dir
}

// existingTags returns those of tags that exist, refusing one that is not
// on the commit checked out: a version is released once, from one commit.
func existingTags(tags []string) ([]string, error) {
	head, err := gitOutput("rev-parse", "HEAD")
	if err != nil {
		return nil, err
	}
	var existing []string
	for _, tag := range tags {
		commit, err := gitOutput("rev-parse", "-q", "--verify", "refs/tags/"+tag+"^{commit}")
		if err != nil {
			continue // no such tag
		}
		if commit != head {
			return nil, fmt.Errorf("the tag %s already exists on %s, not on the commit checked out (%s): a version is released once; set a new version in %s and %s", tag, commit, head, versionFile, changelogFile)
		}
		existing = append(existing, tag)
	}
	return existing, nil
}

// tagModules tags the commit checked out for every module in dirs (but
// the tags in existing), annotated.
func tagModules(dirs []string, version string, existing []string) error {
	for i, tag := range moduleTags(dirs, version) {
		if slices.Contains(existing, tag) {
			continue
		}
		if err := git("tag", "-a", "-m", modulePathOf(dirs[i])+" v"+version, tag); err != nil {
			return err
		}
	}
	return nil
}

// git runs git with the target's streams.
func git(args ...string) error {
	cmd := exec.Command("git", args...) // #nosec G204 -- git with the release's own arguments
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

// gitOutput runs git and returns its output, trimmed.
func gitOutput(args ...string) (string, error) {
	cmd := exec.Command("git", args...) // #nosec G204 -- git with the release's own arguments
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w\n%s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// Tidy runs go mod tidy in every module of go.work, with the other modules taken from their folders (go mod tidy alone ignores go.work and would look their versions up in the module proxy).
func (Dev) Tidy() error {
	dirs, err := workspaceModules()
	if err != nil {
		return err
	}
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "dbvault-tidy-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for i, d := range dirs {
		if err := tidyModule(root, d, dirs, filepath.Join(tmp, fmt.Sprintf("m%d.mod", i))); err != nil {
			return err
		}
	}
	return nil
}

// tidyModule tidies the module in folder dir through a copy of its go.mod
// (go mod tidy -modfile) that replaces every other module of dirs by its
// folder, then writes back that go.mod without those replaces and go.sum
// without lines of the repository's modules (their sums are the published
// zips', which the working tree's folders are not).
func tidyModule(root, dir string, dirs []string, modfile string) error {
	sumfile := strings.TrimSuffix(modfile, ".mod") + ".sum"
	goMod := filepath.Join(root, filepath.FromSlash(dir), "go.mod")
	goSum := filepath.Join(root, filepath.FromSlash(dir), "go.sum")
	b, err := os.ReadFile(goMod) // #nosec G304 -- a go.mod of the workspace
	if err != nil {
		return err
	}
	if err := os.WriteFile(modfile, b, 0o600); err != nil { // #nosec G703 -- a file of tidy's own temporary folder
		return err
	}
	if b, err := os.ReadFile(goSum); err == nil { // #nosec G304 -- a go.sum of the workspace
		if err := os.WriteFile(sumfile, b, 0o600); err != nil { // #nosec G703 -- a file of tidy's own temporary folder
			return err
		}
	}
	var replace, drop []string
	for _, o := range dirs {
		if o != dir {
			replace = append(replace, "-replace="+modulePathOf(o)+"="+filepath.Join(root, filepath.FromSlash(o)))
			drop = append(drop, "-dropreplace="+modulePathOf(o))
		}
	}
	goIn := func(args ...string) error {
		cmd := exec.Command("go", args...) // #nosec G204 -- go mod with the workspace's own folders
		cmd.Dir = filepath.Join(root, filepath.FromSlash(dir))
		cmd.Env = append(os.Environ(), "GOWORK=off")
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("in %s: go %s: %w", dir, strings.Join(args, " "), err)
		}
		return nil
	}
	if err := goIn(append([]string{"mod", "edit", "-modfile=" + modfile}, replace...)...); err != nil {
		return err
	}
	if err := goIn("mod", "tidy", "-modfile="+modfile); err != nil {
		return err
	}
	if err := goIn(append([]string{"mod", "edit", "-modfile=" + modfile}, drop...)...); err != nil {
		return err
	}
	tidied, err := os.ReadFile(modfile) // #nosec G304 -- the copy written above
	if err != nil {
		return err
	}
	if err := os.WriteFile(goMod, tidied, 0o644); err != nil { // #nosec G306 G703 -- a go.mod of a folder go.work names
		return err
	}
	sums, err := os.ReadFile(sumfile) // #nosec G304 -- the copy go mod tidy wrote
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	var keep []string
	for _, line := range strings.SplitAfter(string(sums), "\n") {
		p, _, _ := strings.Cut(line, " ")
		if p != modulePath && !strings.HasPrefix(p, modulePath+"/") && line != "" {
			keep = append(keep, line)
		}
	}
	return os.WriteFile(goSum, []byte(strings.Join(keep, "")), 0o644) // #nosec G306 G703 -- a go.sum of a folder go.work names
}
