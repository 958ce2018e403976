// Package kms is the vault's second layer (project vault-kms): one
// customer-managed key per purpose (the database's storage, the secret, the
// log groups and trail, the alert topic), each rotated yearly by KMS, with an
// alias and a key policy that admits each AWS service only under conditions.
package kms

import (
	"fmt"

	awskms "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dbvault/dbvault/stacks/kit"
)

// ComponentType is the type token of the layer's component resource.
const ComponentType = "dbvault:kms:Keys"

// Deletion window bounds (days), as KMS accepts them. Destroying a key
// schedules its deletion after this window: that is how a KMS key is
// destroyed, and the window is the time to cancel a mistake.
const (
	DefaultDeletionWindow = 7
	MinDeletionWindow     = 7
	MaxDeletionWindow     = 30
)

// The keys' purposes: each is the key's alias (alias/<purpose>-<suffix>) and
// the prefix of its exports (<purpose>KeyArn, <purpose>KeyId).
const (
	Database = "database"
	Secrets  = "secrets"
	Logs     = "logs"
	Alerts   = "alerts"
)

// Purposes lists the keys in a fixed order.
var Purposes = []string{Database, Secrets, Logs, Alerts}

// Args are the inputs of the keys component. NewKeys fills the zero value
// of every optional field with its default and refuses an invalid field,
// naming it, before it registers anything.
type Args struct {
	// Suffix is environmentSuffix, the last part of every name. Required:
	// lower-case letters, digits and single hyphens, at most 20 characters
	// (kit.ValidateSuffix).
	Suffix string
	// Region is the AWS region (service names in conditions). Required.
	Region string
	// AccountID is the account that owns the keys. Required.
	AccountID string
	// DeletionWindowInDays is how long a destroyed key waits before KMS
	// deletes it. Zero means DefaultDeletionWindow (7), or
	// MaxDeletionWindow (30) when Production. It must be
	// MinDeletionWindow to MaxDeletionWindow (7 to 30).
	DeletionWindowInDays int
	// Production protects the keys (kit.Production): a key scheduled for
	// deletion takes every secret, snapshot and log it encrypts with it.
	// Zero (false) means an ephemeral environment, destroyable without
	// manual steps.
	Production bool
	// Administrators administer the vault (kit.Administrators): they alone
	// may change who can use the secrets key, and they may use it through
	// Secrets Manager for every secret of the vault. Required: IAM role or
	// user ARNs, at least one; they may come from other resources (a list
	// known only at deploy time is checked then). The principal that
	// deploys must be one of them (kit.CheckDeployer).
	Administrators pulumi.StringArrayInput
}

// Keys is the component: one key per purpose.
type Keys struct {
	pulumi.ResourceState

	DatabaseKeyArn pulumi.StringOutput
	DatabaseKeyID  pulumi.StringOutput
	SecretsKeyArn  pulumi.StringOutput
	SecretsKeyID   pulumi.StringOutput
	LogsKeyArn     pulumi.StringOutput
	LogsKeyID      pulumi.StringOutput
	AlertsKeyArn   pulumi.StringOutput
	AlertsKeyID    pulumi.StringOutput
	// Administrators are the vault's administrators, which the database
	// and secrets layers read.
	Administrators pulumi.StringArrayOutput
}

// NewKeys creates the four keys and their aliases as children of one
// component. The component's name names the vault (kit.NewNames): give the
// vault's four components the same name, or default ones.
func NewKeys(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Keys, error) {
	if args == nil {
		return nil, fmt.Errorf("kms: args are nil: Suffix, Region, AccountID and Administrators are required")
	}
	// A copy: the caller's Args keep their zero values.
	own := *args
	if err := own.applyDefaults(); err != nil {
		return nil, fmt.Errorf("kms: %w", err)
	}
	args = &own
	names, err := kit.NewNames(name, args.Suffix)
	if err != nil {
		return nil, fmt.Errorf("kms: %w", err)
	}
	// The principals, checked once they are known; every key policy waits
	// for the check.
	principals := args.Administrators.ToStringArrayOutput().ApplyT(func(admins []string) (Principals, error) {
		p := Principals{Administrators: admins}
		return p, p.validate(args.Production)
	}).(pulumi.AnyOutput)
	k := &Keys{}
	if err := ctx.RegisterComponentResource(ComponentType, name, k, opts...); err != nil {
		return nil, err
	}
	for _, purpose := range Purposes {
		key, err := newKey(ctx, args, names, principals, purpose, pulumi.Parent(k))
		if err != nil {
			return nil, err
		}
		switch purpose {
		case Database:
			k.DatabaseKeyArn, k.DatabaseKeyID = key.Arn, key.KeyId
		case Secrets:
			k.SecretsKeyArn, k.SecretsKeyID = key.Arn, key.KeyId
		case Logs:
			k.LogsKeyArn, k.LogsKeyID = key.Arn, key.KeyId
		case Alerts:
			k.AlertsKeyArn, k.AlertsKeyID = key.Arn, key.KeyId
		}
	}
	k.Administrators = principals.ApplyT(func(v any) []string { return v.(Principals).Administrators }).(pulumi.StringArrayOutput)
	if err := ctx.RegisterResourceOutputs(k, k.Outputs()); err != nil {
		return nil, err
	}
	return k, nil
}

// Outputs are the layer's stack outputs, under the names the later layers
// read through their StackReferences.
func (k *Keys) Outputs() pulumi.Map {
	return pulumi.Map{
		"databaseKeyArn": k.DatabaseKeyArn,
		"databaseKeyId":  k.DatabaseKeyID,
		"secretsKeyArn":  k.SecretsKeyArn,
		"secretsKeyId":   k.SecretsKeyID,
		"logsKeyArn":     k.LogsKeyArn,
		"logsKeyId":      k.LogsKeyID,
		"alertsKeyArn":   k.AlertsKeyArn,
		"alertsKeyId":    k.AlertsKeyID,
		"administrators": k.Administrators,
	}
}

// applyDefaults sets the default of every optional field left at its zero
// value and refuses the first invalid field, naming it and its rule.
func (a *Args) applyDefaults() error {
	if err := kit.ValidateSuffix(a.Suffix); err != nil {
		//lint:ignore ST1005 the message starts with the argument's Go name
		return fmt.Errorf("Suffix: %w", err)
	}
	if a.Region == "" {
		//lint:ignore ST1005 the message starts with the argument's Go name
		return fmt.Errorf("Region is empty: it is required (the region of the keys and of the services their policies name)")
	}
	if a.AccountID == "" {
		return fmt.Errorf("AccountID is empty: it is required (the account that owns the keys)")
	}
	if a.DeletionWindowInDays == 0 {
		a.DeletionWindowInDays = DefaultDeletionWindow
		if a.Production {
			// The longest KMS allows: time to notice and cancel a deletion.
			a.DeletionWindowInDays = MaxDeletionWindow
		}
	}
	if err := validateWindow(a.DeletionWindowInDays); err != nil {
		return err
	}
	if a.Administrators == nil {
		//lint:ignore ST1005 the message starts with the argument's Go name
		return fmt.Errorf("Administrators is nil: %s", adminRule)
	}
	// A list given as plain values is checked now; one that comes from
	// other resources is checked when it is known (Principals.validate).
	if admins, ok := a.Administrators.(pulumi.StringArray); ok && len(admins) == 0 {
		//lint:ignore ST1005 the message starts with the argument's Go name
		return fmt.Errorf("Administrators is empty: %s", adminRule)
	}
	return nil
}

// adminRule is the rule of Administrators, as every refusal states it.
const adminRule = "at least one administrator is required (config administrators, or the deploying role)"

// Principals are the principals the secrets key names, once known.
type Principals struct {
	Administrators []string
}

// validate refuses an empty list, and in production a list that no one
// could restore (kit.OnlyIdentityCenterAdministrators); the kms layer warns
// of the latter in an ephemeral environment.
func (p Principals) validate(production bool) error {
	if len(p.Administrators) == 0 {
		return fmt.Errorf("kms: Administrators is empty: %s", adminRule)
	}
	if why := kit.OnlyIdentityCenterAdministrators(p.Administrators); production && why != "" {
		return fmt.Errorf("kms: %s", why)
	}
	return nil
}

// validateWindow refuses a deletion window KMS does not accept: "it must be
// between 7 and 30, inclusive" (PendingWindowInDays,
// https://docs.aws.amazon.com/kms/latest/APIReference/API_ScheduleKeyDeletion.html).
func validateWindow(days int) error {
	if days < MinDeletionWindow || days > MaxDeletionWindow {
		return fmt.Errorf("DeletionWindowInDays is %d: it must be %d to %d, the days KMS accepts", days, MinDeletionWindow, MaxDeletionWindow)
	}
	return nil
}

// description says what the key for purpose protects, as the console shows it.
func description(purpose, suffix string) string {
	what := map[string]string{
		Database: "Aurora MySQL storage encryption",
		Secrets:  "Secrets Manager database credentials",
		Logs:     "CloudWatch Logs log groups and the CloudTrail trail",
		Alerts:   "SNS topic for rotation alerts",
	}[purpose]
	return fmt.Sprintf("dbvault %s: %s", suffix, what)
}

func newKey(ctx *pulumi.Context, args *Args, names kit.Names, principals pulumi.AnyOutput, purpose string, parent pulumi.ResourceOption) (*awskms.Key, error) {
	policy := principals.ApplyT(func(v any) (string, error) {
		doc, err := KeyPolicy(purpose, PolicyArgs{Names: names, Region: args.Region, AccountID: args.AccountID, Principals: v.(Principals)}).JSON()
		if err != nil {
			return "", fmt.Errorf("kms: %s key policy: %w", purpose, err)
		}
		return doc, nil
	}).(pulumi.StringOutput)
	name := names.Name(purpose + "-key")
	key, err := awskms.NewKey(ctx, names.Logical(purpose+"-key"), &awskms.KeyArgs{
		Description:          pulumi.String(description(purpose, args.Suffix)),
		KeyUsage:             pulumi.String("ENCRYPT_DECRYPT"),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(args.DeletionWindowInDays),
		Policy:               policy,
		Tags:                 pulumi.StringMap{"Name": pulumi.String(name)},
	}, parent, kit.Protected(args.Production))
	if err != nil {
		return nil, err
	}
	if _, err := awskms.NewAlias(ctx, names.Logical(purpose+"-alias"), &awskms.AliasArgs{
		Name:        pulumi.String(AliasName(names, purpose)),
		TargetKeyId: key.KeyId,
	}, parent); err != nil {
		return nil, err
	}
	return key, nil
}
