// Command main is the vault-network Pulumi program: `pulumi up` in
// stacks/network runs it. The layer itself lives in package network.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dbvault/dbvault/stacks/network"
)

func main() { pulumi.Run(network.Layer.Program) }
