// Package version is dbvault's version, the one source of truth for it: the
// single line of the file VERSION beside this one, embedded at compile time.
//
// Everything that names the version reads it from here or from that file:
// the stacks (the rotator function's description) import this package, the
// mage targets (version, rotator, release) read the file, and the rotator
// gets it at build time through -ldflags -X main.version. A test checks that
// it is the top released entry of CHANGELOG.md. To release, add the entry
// to the CHANGELOG and set VERSION to it in the same commit.
//
// The package has no dependency beyond the standard library, so any module
// of the workspace may import it.
package version

import (
	_ "embed"
	"strings"
)

//go:embed VERSION
var file string

// Version is the product's version in Semantic Versioning, without the "v"
// of its Git tag (e.g. "0.2.0"; the tag is "v0.2.0").
var Version = strings.TrimSpace(file)

// Tag is the version's Git tag and the form people read: "v" + Version.
func Tag() string { return "v" + Version }
