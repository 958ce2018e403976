// Command secrets is the Pulumi program of the vault-secrets project.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dbvault/dbvault/stacks/secrets"
)

func main() { pulumi.Run(secrets.Layer.Program) }
