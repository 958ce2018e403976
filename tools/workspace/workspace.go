// Package workspace finds the repository's root: the folder of the go.work
// that ties its modules. Commands and tests run from any folder inside the
// repository (mage at the root, pulumi in a layer's folder, go test in a
// package's) and name the repository's files from there.
package workspace

import (
	"fmt"
	"os"
	"path/filepath"
)

// Root is the nearest folder at or above the working directory that holds
// go.work.
func Root() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("repository root: %w", err)
	}
	return RootFrom(wd)
}

// RootFrom is the nearest folder at or above dir that holds go.work.
func RootFrom(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.work")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.work at or above %s: run from inside the dbvault repository", dir)
		}
	}
}
