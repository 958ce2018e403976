package kms_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dbvault/dbvault/stacks/kit"
	"github.com/dbvault/dbvault/stacks/kit/kittest"
	"github.com/dbvault/dbvault/stacks/kms"
)

// required are the only Args a program must give.
func required() kms.Args {
	return kms.Args{
		Suffix:         "dev",
		Region:         "us-east-1",
		AccountID:      account,
		Administrators: pulumi.ToStringArray([]string{"arn:aws:iam::" + account + ":role/platform-admin"}),
	}
}

// A program that gives only the required Args gets the documented
// defaults: a 7-day deletion window and unprotected keys in an ephemeral
// environment; the longest window KMS allows and protected keys in
// production.
func TestOnlyRequiredArgsGiveTheDefaults(t *testing.T) {
	for _, c := range []struct {
		production bool
		window     float64
	}{{false, kms.DefaultDeletionWindow}, {true, kms.MaxDeletionWindow}} {
		args := required()
		args.Production = c.production
		res, err := kittest.Build(t, kms.NewKeys, kit.KeysComponent, &args)
		if err != nil {
			t.Fatalf("production=%v: %v", c.production, err)
		}
		keys := res.ByType(tKey)
		if len(keys) != len(kms.Purposes) {
			t.Fatalf("production=%v: %d keys, want %d", c.production, len(keys), len(kms.Purposes))
		}
		for _, k := range keys {
			if got := k.Input("deletionWindowInDays"); got != c.window {
				t.Errorf("production=%v: %s deletion window %v, want %v", c.production, k.Name, got, c.window)
			}
			if k.Options.Protect != c.production {
				t.Errorf("production=%v: %s protect = %v", c.production, k.Name, k.Options.Protect)
			}
		}
		if got := len(res.Outputs); got != 2*len(kms.Purposes)+1 {
			t.Errorf("production=%v: %d outputs, want %d", c.production, got, 2*len(kms.Purposes)+1)
		}
	}
}

// Every invalid field is refused with its name and rule, before anything
// is registered.
func TestInvalidArgsAreRefused(t *testing.T) {
	for name, c := range map[string]struct {
		edit func(*kms.Args)
		want string
	}{
		"no suffix":            {func(a *kms.Args) { a.Suffix = "" }, "kms: Suffix: environmentSuffix is required"},
		"malformed suffix":     {func(a *kms.Args) { a.Suffix = "Dev_1" }, "kms: Suffix: environmentSuffix \"Dev_1\" may hold only lower-case letters"},
		"no region":            {func(a *kms.Args) { a.Region = "" }, "kms: Region is empty: it is required"},
		"no account":           {func(a *kms.Args) { a.AccountID = "" }, "kms: AccountID is empty: it is required"},
		"window too short":     {func(a *kms.Args) { a.DeletionWindowInDays = 6 }, "kms: DeletionWindowInDays is 6: it must be 7 to 30, the days KMS accepts"},
		"window too long":      {func(a *kms.Args) { a.DeletionWindowInDays = 31 }, "kms: DeletionWindowInDays is 31: it must be 7 to 30, the days KMS accepts"},
		"window negative":      {func(a *kms.Args) { a.DeletionWindowInDays = -7 }, "kms: DeletionWindowInDays is -7: it must be 7 to 30"},
		"window too long, prd": {func(a *kms.Args) { a.Production = true; a.DeletionWindowInDays = 45 }, "kms: DeletionWindowInDays is 45: it must be 7 to 30"},
		"no administrators":    {func(a *kms.Args) { a.Administrators = nil }, "kms: Administrators is nil: at least one administrator is required"},
		"empty administrators": {func(a *kms.Args) { a.Administrators = pulumi.StringArray{} }, "kms: Administrators is empty: at least one administrator is required"},
	} {
		t.Run(name, func(t *testing.T) {
			args := required()
			c.edit(&args)
			res, err := kittest.Build(t, kms.NewKeys, kit.KeysComponent, &args)
			kittest.Refused(t, err, c.want)
			kittest.NothingRegistered(t, res)
		})
	}
}

// Without Args the component says what it needs instead of panicking.
func TestNilArgsAreRefused(t *testing.T) {
	res, err := kittest.Build(t, kms.NewKeys, kit.KeysComponent, (*kms.Args)(nil))
	kittest.Refused(t, err, "kms: args are nil: ")
	kittest.NothingRegistered(t, res)
}

// A caller's Protect(true) on the component reaches the keys of an
// ephemeral environment too: the component sets no protect of its own
// there, which would override the caller's.
func TestCallersProtectReachesTheKeys(t *testing.T) {
	args := required()
	res, err := kittest.Build(t, kms.NewKeys, kit.KeysComponent, &args, pulumi.Protect(true))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range res.ByType(tKey) {
		if !k.Options.Protect {
			t.Errorf("%s is not protected though its component is", k.Name)
		}
	}
}

// Administrators that no one could restore (IAM Identity Center roles
// only) are refused in production; a role of the account's own beside
// them, or an ephemeral environment, passes.
func TestProductionNeedsARestorableAdministrator(t *testing.T) {
	sso := "arn:aws:iam::" + account + ":role/aws-reserved/sso.amazonaws.com/eu-west-2/AWSReservedSSO_DatabaseAdministrator_1234567890abcdef"
	for _, c := range []struct {
		admins     []string
		production bool
		refused    bool
	}{
		{[]string{sso}, true, true},
		{[]string{sso, "arn:aws:iam::" + account + ":role/vault-break-glass"}, true, false},
		{[]string{sso}, false, false},
	} {
		args := required()
		args.Production = c.production
		args.Administrators = pulumi.ToStringArray(c.admins)
		_, err := kittest.Build(t, kms.NewKeys, kit.KeysComponent, &args)
		if c.refused {
			kittest.Refused(t, err, "add to administrators a role of the account's own (a break-glass role)")
		} else if err != nil {
			t.Errorf("%v (production %v): %v", c.admins, c.production, err)
		}
	}
}
