package kms

import (
	"fmt"
	"strconv"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/dbvault/dbvault/stacks/kit"
)

// loadArgs reads the layer's own config keys into Args, each left zero
// when unset so that NewKeys gives it its default, and refuses what config
// alone shows wrong: a value that does not parse, and retired keys.
func loadArgs(ctx *pulumi.Context) (*Args, error) {
	cfg := config.New(ctx, "")
	if cfg.Get("secretReaders") != "" {
		return nil, fmt.Errorf("secretReaders is set, but the kms layer no longer reads it: each application secret's readers are declared once, in the secrets layer's appUsers[].readers, and the secrets key lets any role of the account decrypt an application secret that its resource policy lets it read; remove the key with `pulumi config rm secretReaders` in stacks/kms")
	}
	a := &Args{}
	if s := cfg.Get("deletionWindowInDays"); s != "" {
		days, err := strconv.Atoi(s)
		if err != nil {
			return nil, fmt.Errorf("deletionWindowInDays %q is not a whole number of days", s)
		}
		if days == 0 {
			// Zero is the unset value of Args: refuse it here, or a
			// stack that says 0 would silently get the default.
			return nil, fmt.Errorf("deletionWindowInDays is 0: it must be %d to %d, the days KMS accepts; remove the key for the default", MinDeletionWindow, MaxDeletionWindow)
		}
		a.DeletionWindowInDays = days
	}
	return a, nil
}

// Layer is the kms layer: main.go, synth, the tests and the deploy
// orchestration all run it.
var Layer = kit.NewLayer("kms", kit.KMSProject, run)

func run(ctx *pulumi.Context, common kit.Common) (pulumi.Map, error) {
	args, err := loadArgs(ctx)
	if err != nil {
		return nil, err
	}
	account, deployer, err := common.Deployer(ctx)
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
	if w := administratorsWarning(admins, common.Production()); w != "" {
		if err := ctx.Log.Warn(w, nil); err != nil {
			return nil, err
		}
	}
	args.Suffix = common.Suffix
	args.Region = common.Region
	args.AccountID = account
	args.Production = common.Production()
	args.Administrators = pulumi.ToStringArray(admins)
	k, err := NewKeys(ctx, kit.KeysComponent, args, common.AWS())
	if err != nil {
		return nil, err
	}
	return k.Outputs(), nil
}

// administratorsWarning is the preview's warning about administrators that
// are all IAM Identity Center roles, which no one could restore: production
// refuses them (NewKeys), an environment meant to be destroyed is only
// told. "" when there is nothing to say.
func administratorsWarning(admins []string, production bool) string {
	why := kit.OnlyIdentityCenterAdministrators(admins)
	if why == "" || production {
		return ""
	}
	return "kms: " + why
}
