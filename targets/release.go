// Version and release targets. The version's one source of truth is
// functions/rotator/version/VERSION: package version embeds it (the stacks
// import that package), the rotator gets it through -ldflags -X
// (rotator.go), and these targets read the file with the standard
// library only, so no module of the workspace is compiled into mage.
// (Not a package comment: the package's is in workspace.go.)

package targets

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/magefile/mage/mg"
)

const (
	versionFile   = "functions/rotator/version/VERSION"
	changelogFile = "CHANGELOG.md"
	rotatorZip    = "functions/rotator/dist/rotator.zip" // what Rotator writes
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

// Release builds the rotator zip and writes dist/release/: the zip, SHA256SUMS and NOTES.md (the version's CHANGELOG entry); clean working tree only.
func Release() error {
	v, err := readVersion()
	if err != nil {
		return err
	}
	changelog, err := os.ReadFile(changelogFile)
	if err != nil {
		return err
	}
	notes, err := changelogEntry(string(changelog), v)
	if err != nil {
		return err
	}
	if err := cleanTree(); err != nil {
		return err
	}
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
var releaseRotator = func() { mg.Deps(Rotator) }

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
