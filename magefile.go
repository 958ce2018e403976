//go:build mage

// dbvault's targets: `go run mage.go <target>` (mage is pinned in go.mod).
package main

// The targets are in package targets (targets/): the workspace-wide ones in
// targets/workspace.go, each area's in a file of its own. This file only
// hands them to mage, the way mage allows:
//
//   - The import below carries //mage:import with no name, so the package's
//     targets join the root namespace under their own names (deployAll,
//     up:network, test), the names README.md, docs/, the workflows and
//     .ci/run use. A name after //mage:import would prefix every target.
//   - Not a magefiles/ folder: mage reads its magefiles either from the root
//     or from magefiles/, not both, and magefile.go stays at the root beside
//     mage.go, where `go run mage.go` finds it.
//   - mage compiles an imported package without build tags, and Go cannot
//     import a package main, so targets/ is an ordinary package of the root
//     module: built, vetted and tested like every other (go test ./targets).
//     It cannot use anything of this file, so what the targets share (goRun,
//     the packages list, build) lives there too.
//   - mage reads Default only from this file, never from an imported package.

import (
	//mage:import
	"github.com/dbvault/dbvault/targets"
)

// Default is what a bare `go run mage.go` runs.
var Default = targets.Test
