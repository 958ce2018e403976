// Command main is the vault-kms Pulumi program: `pulumi up` in
// stacks/kms runs it. The layer itself lives in package kms.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dbvault/dbvault/stacks/kms"
)

func main() { pulumi.Run(kms.Layer.Program) }
