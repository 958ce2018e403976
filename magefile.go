//go:build mage

// dbvault's targets: `go run mage.go <target>` (mage is pinned in go.mod).
package main

// The targets are in package targets (targets/): the workspace-wide ones in
// targets/workspace.go, each area's in a file of its own. This file only
// hands them to mage, the way mage allows:
//
//   - The import below carries //mage:import with no name, so the package's
//     targets join the root namespace under their own names (deployAll,
//     up:network, dev:test), the names README.md, docs/, the workflows and
//     .ci/run use. A name after //mage:import would prefix every target.
//   - Not a magefiles/ folder: mage reads its magefiles either from the root
//     or from magefiles/, not both, and magefile.go stays at the root beside
//     mage.go, where `go run mage.go` finds it.
//   - mage compiles an imported package without build tags, and Go cannot
//     import a package main, so targets/ is an ordinary package of the root
//     module: built, vetted and tested like every other (go test ./targets).
//     It cannot use anything of this file, so what the targets share (goRun,
//     the packages list, build) lives there too.
//   - mage reads Default and Aliases only from this file, never from an
//     imported package. There is no Default: a bare `go run mage.go` lists
//     the targets (mage.go turns it into -l), it does not start the suite.

import (
	//mage:import
	"github.com/dbvault/dbvault/targets"
)

// Aliases keeps the contributor's targets' short names working, unlisted:
// a contributor's habit, an old note or script may name them that way. `go run mage.go -l` lists
// only dev:<name>; `go run mage.go -h dev:<name>` shows the alias.
var Aliases = map[string]interface{}{
	"audit":        targets.Dev.Audit,
	"bench":        targets.Dev.Bench,
	"build":        targets.Dev.Build,
	"chaos":        targets.Dev.Chaos,
	"fuzz":         targets.Dev.Fuzz,
	"lint":         targets.Dev.Lint,
	"rehearse":     targets.Dev.Rehearse,
	"release":      targets.Dev.Release,
	"releaseFiles": targets.Dev.ReleaseFiles,
	"rotator":      targets.Dev.Rotator,
	"smlocal":      targets.Dev.Smlocal,
	"synth":        targets.Dev.Synth,
	"test":         targets.Dev.Test,
	"tidy":         targets.Dev.Tidy,
}
