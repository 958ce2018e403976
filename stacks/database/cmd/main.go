// Command database is the Pulumi program of the vault-database project.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dbvault/dbvault/stacks/database"
)

func main() { pulumi.Run(database.Layer.Program) }
