// Command pulumicli builds (once per machine) or finds the pinned Pulumi
// CLI that the rehearsal runs on, and prints its root: `mage pulumiCLI`.
// It depends on the standard library only (package ops/rehearse/tools), so
// the CLI's cold build starts within seconds of `mage test`, beside the
// workspace's build instead of after it.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/dbvault/dbvault/ops/rehearse/tools"
	"github.com/dbvault/dbvault/tools/workspace"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	root, err := workspace.Root()
	if err == nil {
		root, err = tools.EnsureCLI(ctx, root, os.Stderr)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pulumicli:", err)
		os.Exit(1)
	}
	fmt.Println(root)
}
