//go:build mage

package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/magefile/mage/mg"
)

// policySynthDir is where `go run mage.go synth` writes the layers.
var policySynthDir = filepath.Join("build", "synth")

// Audit evaluates the policy pack over every layer's synth output; fails on any high-severity violation.
func Audit() error {
	input := os.Getenv("AUDIT_INPUT")
	if input == "" {
		input = policySynthDir
		if files, _ := filepath.Glob(filepath.Join(input, "*.json")); len(files) == 0 {
			// No synth output yet: make it as `mage synth` does (the secrets
			// layer records the rotator zip's hash, so the zip comes first).
			mg.Deps(Rotator)
			if err := goRun("./ops/cmd/synth"); err != nil {
				return fmt.Errorf("audit: synth: %w", err)
			}
		}
	}
	if err := goRun("./ops/cmd/audit", "-input", input, "-policy", "policy"); err != nil {
		return fmt.Errorf("audit: %s fails the policy gate (or could not be read): %w", input, err)
	}
	return nil
}
