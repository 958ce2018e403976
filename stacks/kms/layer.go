package kms

import (
	"fmt"
	"strconv"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/dbvault/dbvault/stacks/kit"
)

// LoadDeletionWindow reads deletionWindowInDays (default 7, 7 to 30).
func LoadDeletionWindow(ctx *pulumi.Context, common kit.Common) (int, error) {
	s := config.New(ctx, "").Get("deletionWindowInDays")
	if s == "" && common.Production() {
		// The longest KMS allows: time to notice and cancel a deletion.
		return MaxDeletionWindow, nil
	}
	if s == "" {
		return DefaultDeletionWindow, nil
	}
	days, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("deletionWindowInDays %q is not a whole number of days", s)
	}
	if err := validateWindow(days); err != nil {
		return 0, err
	}
	return days, nil
}

// Layer is the kms layer: main.go, synth, the tests and the deploy
// orchestration all run it.
var Layer = kit.Layer{Name: "kms", Project: kit.KMSProject, Run: run}

func run(ctx *pulumi.Context) (pulumi.Map, error) {
	common, err := kit.LoadCommon(ctx)
	if err != nil {
		return nil, err
	}
	window, err := LoadDeletionWindow(ctx, common)
	if err != nil {
		return nil, err
	}
	caller, err := aws.GetCallerIdentity(ctx, nil, common.AWS())
	if err != nil {
		return nil, fmt.Errorf("kms: who am I (sts get-caller-identity): %w", err)
	}
	if config.New(ctx, "").Get("secretReaders") != "" {
		return nil, fmt.Errorf("secretReaders is set, but the kms layer no longer reads it: each application secret's readers are declared once, in the secrets layer's appUsers[].readers, and the secrets key lets any role of the account decrypt an application secret that its resource policy lets it read; remove the key with `pulumi config rm secretReaders` in stacks/kms")
	}
	deployer, err := kit.DeployingPrincipal(ctx, caller.Arn, common.AWS())
	if err != nil {
		return nil, fmt.Errorf("kms: %w", err)
	}
	admins, err := kit.Administrators(ctx, deployer)
	if err != nil {
		return nil, err
	}
	// The key policy lets only the administrators change it, and KMS
	// refuses a policy its writer could not write again: refuse at preview
	// a deployer outside the list (kit.CheckDeployer says why each layer
	// needs it).
	if err := kit.CheckDeployer(deployer, admins); err != nil {
		return nil, err
	}
	k, err := NewKeys(ctx, kit.KeysComponent, &Args{
		Suffix:               common.Suffix,
		Region:               common.Region,
		AccountID:            caller.AccountId,
		DeletionWindowInDays: window,
		Production:           common.Production(),
		Administrators:       pulumi.ToStringArray(admins),
	}, common.AWS())
	if err != nil {
		return nil, err
	}
	return k.Outputs(), nil
}
