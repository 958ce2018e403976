// Command platform is a team's own Pulumi program that uses dbvault's
// components from the module proxy, as README.md's "Use the components in
// your own program" shows: a database and a vault of the same name, the
// vault's rotator built by the component itself (no RotatorZip).
//
// The consumer test builds it outside dbvault's workspace and runs it as
// `platform mock`, under the Pulumi SDK's mocks: it prints the rotator
// function's code (the zip's path) and sourceCodeHash as JSON. Without an
// argument it is an ordinary Pulumi program (pulumi.Run).
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dbvault/dbvault/stacks/database"
	"github.com/dbvault/dbvault/stacks/kit"
	"github.com/dbvault/dbvault/stacks/kit/mock"
	"github.com/dbvault/dbvault/stacks/secrets"
)

const (
	suffix  = "dev"
	region  = "us-east-1"
	account = "123456789012"
	key     = "arn:aws:kms:us-east-1:123456789012:key/"
)

// program is the team's stack: the network and keys would come from its
// own stacks, here fixed values.
func program(ctx *pulumi.Context) (pulumi.Map, error) {
	subnets := pulumi.ToStringArray([]string{"subnet-0a", "subnet-0b"})
	db, err := database.NewDatabase(ctx, "orders", &database.Args{
		Suffix: suffix, Region: region, AccountID: account,
		SubnetIDs:         subnets,
		AvailabilityZones: pulumi.ToStringArray([]string{"us-east-1a", "us-east-1b"}),
		SecurityGroupID:   pulumi.String("sg-0database"),
		DatabaseKeyArn:    pulumi.String(key + "database"),
		SecretsKeyArn:     pulumi.String(key + "secrets"),
		LogsKeyArn:        pulumi.String(key + "logs"),
		VpcID:             pulumi.String("vpc-0team"),
	})
	if err != nil {
		return nil, err
	}
	vault, err := secrets.NewVault(ctx, "orders", &secrets.Args{
		Suffix: suffix, Region: region, AccountID: account, Partition: "aws",
		// RotatorZip is not set: the component builds the rotator from
		// the module cache, byte for byte the release's zip.
		ExistingTrailName:      "org-trail",
		Administrators:         pulumi.ToStringArray([]string{"arn:aws:iam::123456789012:role/platform-admin"}),
		SubnetIDs:              subnets,
		RotatorSecurityGroupID: pulumi.String("sg-0rotator"),
		SecretsKeyArn:          pulumi.String(key + "secrets"),
		LogsKeyArn:             pulumi.String(key + "logs"),
		AlertsKeyArn:           pulumi.String(key + "alerts"),
		Database:               secrets.DatabaseOf(db),
	})
	if err != nil {
		return nil, err
	}
	return pulumi.Map{"rotator": vault.RotatorFunctionName}, nil
}

func main() {
	if len(os.Args) < 2 || os.Args[1] != "mock" {
		pulumi.Run(func(ctx *pulumi.Context) error {
			outputs, err := program(ctx)
			for k, v := range outputs {
				ctx.Export(k, v)
			}
			return err
		})
		return
	}
	res, err := mock.Run(kit.Layer{Name: "platform", Project: "platform", Run: program}, mock.RunOptions{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "platform:", err)
		os.Exit(1)
	}
	type function struct{ Code, SourceCodeHash string }
	out := struct {
		Resources, Databases int
		Functions            []function
	}{Resources: len(res.Resources), Databases: len(res.ByType("dbvault:database:Database"))}
	for _, fn := range res.ByType("aws:lambda/function:Function") {
		if code := fn.Inputs[resource.PropertyKey("code")]; code.IsArchive() {
			out.Functions = append(out.Functions, function{code.ArchiveValue().Path, fn.Inputs[resource.PropertyKey("sourceCodeHash")].StringValue()})
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "platform:", err)
		os.Exit(1)
	}
}
