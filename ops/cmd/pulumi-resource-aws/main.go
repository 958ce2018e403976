// Command pulumi-resource-aws is the rehearsal's stand-in for the AWS
// resource provider (package ops/standin). Put on PATH ahead of any real
// plugin, the Pulumi engine loads it for every aws resource and invoke.
// It must never be used against a real environment: it creates nothing.
package main

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	"github.com/dbvault/dbvault/ops/standin"
)

func main() {
	err := provider.Main(standin.Name, func(*provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
		return standin.FromEnv(), nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "pulumi-resource-aws (stand-in):", err)
		os.Exit(1)
	}
}
