//go:build !unix

package deploy

import "github.com/pulumi/pulumi/sdk/v3/go/auto"

// newPulumiCommand is the Automation API's own command where process
// groups are not: the context's end sends the CLI an interrupt, and kills
// it 10 s later.
func newPulumiCommand(root string) (auto.PulumiCommand, error) {
	return auto.NewPulumiCommand(&auto.PulumiCommandOptions{Root: root})
}

// TerminateCLIs, KillCLIs and RunningCLIs do nothing here: the Automation
// API's command ends the CLI itself.
func TerminateCLIs() {}

func KillCLIs() {}

func RunningCLIs() int { return 0 }
