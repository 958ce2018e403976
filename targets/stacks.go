package targets

import "github.com/magefile/mage/mg"

// Synth writes build/synth/<layer>.json for every layer, offline (ENV sets the environment, default dev).
func (Dev) Synth() error {
	// The secrets layer deploys the rotator's zip, and synth records its hash.
	mg.Deps(Dev.Rotator)
	return goRun("./ops/cmd/synth")
}
