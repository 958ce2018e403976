package targets

import (
	"os"
	"path/filepath"

	"github.com/magefile/mage/mg"
)

// policySynthDir is where `go run mage.go dev:synth` writes the layers.
var policySynthDir = filepath.Join("build", "synth")

// Audit synthesizes every layer (unless AUDIT_INPUT names the input), then evaluates the policy pack over it; fails on any high-severity violation.
func (Dev) Audit() error {
	input := os.Getenv("AUDIT_INPUT")
	if input == "" {
		// Always synthesize first: a build/synth left by an earlier run may
		// be stale, and the gate must judge the code as it is. The secrets
		// layer records the rotator zip's hash, so the zip comes first.
		input = policySynthDir
		auditRotator()
		if err := goRun("./ops/cmd/synth"); err != nil {
			return err
		}
	}
	return goRun("./ops/cmd/audit", "-input", input, "-policy", "policy")
}

// auditRotator builds the rotator's zip before synth (a variable for tests).
var auditRotator = func() { mg.Deps(Dev.Rotator) }

// Taggable writes policy/taggable.rego, the resource types AWS lets us tag, from the pinned pulumi-aws SDK; run it after a provider upgrade.
func (Dev) Taggable() error {
	return goRun("./ops/cmd/audit", "-taggable", filepath.Join("policy", "taggable.rego"))
}
