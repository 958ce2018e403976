package version

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

var semver = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?$`)

// VERSION holds one Semantic Version and nothing else.
func TestVersionIsOneSemanticVersion(t *testing.T) {
	if !semver.MatchString(Version) {
		t.Fatalf("VERSION is %q, not a semantic version such as 0.2.0", Version)
	}
	if file != Version+"\n" {
		t.Fatalf("VERSION is %q: write the version alone on one line", file)
	}
	if Tag() != "v"+Version {
		t.Fatalf("Tag() = %q", Tag())
	}
}

// The version is the CHANGELOG's top released entry: a release adds its
// entry and sets VERSION together.
func TestVersionIsTheTopReleasedChangelogEntry(t *testing.T) {
	b, err := os.ReadFile("../../../CHANGELOG.md")
	if err != nil {
		t.Fatal(err)
	}
	heading := regexp.MustCompile(`^## \[([^\]]+)\]`)
	for _, line := range strings.Split(string(b), "\n") {
		m := heading.FindStringSubmatch(line)
		if m == nil || m[1] == "Unreleased" {
			continue
		}
		if m[1] != Version {
			t.Fatalf("CHANGELOG.md's top released entry is [%s], VERSION is %s: bump one to the other", m[1], Version)
		}
		return
	}
	t.Fatal("CHANGELOG.md has no released entry")
}
