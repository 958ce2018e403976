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
	admins, err := kit.Administrators(ctx, caller.Arn, common.AWS())
	if err != nil {
		return nil, err
	}
	var readers []string
	if err := kit.ObjectConfig(config.New(ctx, ""), "secretReaders", &readers); err != nil {
		return nil, err
	}
	k, err := NewKeys(ctx, kit.KeysComponent, &Args{
		Suffix:               common.Suffix,
		Region:               common.Region,
		AccountID:            caller.AccountId,
		DeletionWindowInDays: window,
		Production:           common.Production(),
		Administrators:       pulumi.ToStringArray(admins),
		SecretReaders:        pulumi.ToStringArray(readers),
	}, common.AWS())
	if err != nil {
		return nil, err
	}
	return k.Outputs(), nil
}
