//go:build ignore

// mage.go lets `go run mage.go <target>` work on a machine that has only Go:
// mage itself is pinned in go.mod, so nothing has to be installed first.
package main

import (
	"os"

	"github.com/magefile/mage/mage"
)

func main() { os.Exit(mage.Main()) }
