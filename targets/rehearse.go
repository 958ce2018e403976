package targets

import "github.com/magefile/mage/mg"

// Rehearse deploys and destroys every layer offline on the real Pulumi engine with a stand-in AWS provider.
func (Dev) Rehearse() error {
	mg.Deps(Dev.Rotator) // the secrets layer deploys functions/rotator/dist/rotator.zip
	return goRun("./ops/cmd/rehearse")
}

// PulumiCLI builds the pinned Pulumi CLI into the user cache once per machine (about 11 minutes cold), else finds it.
func PulumiCLI() error {
	return goRun(pulumiCLICmd)
}

// pulumiCLICmd builds or finds the pinned CLI and prints its root.
const pulumiCLICmd = "./ops/cmd/rehearse/pulumicli"
