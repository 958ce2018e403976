// Package kms is the vault's second layer (project vault-kms): one
// customer-managed key per purpose (the database's storage, the secret, the
// log groups and trail, the alert topic), each rotated yearly by KMS, with an
// alias and a key policy that admits each AWS service only under conditions.
package kms

import (
	"fmt"
	"strconv"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	awskms "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

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

// Args are the inputs of the keys component.
type Args struct {
	// Suffix is environmentSuffix, the last part of every name.
	Suffix string
	// Region is the AWS region (service names in conditions).
	Region string
	// AccountID is the account that owns the keys.
	AccountID string
	// DeletionWindowInDays is how long a destroyed key waits before KMS
	// deletes it (7 to 30).
	DeletionWindowInDays int
	// Production protects the keys (kit.Production): a key scheduled for
	// deletion takes every secret, snapshot and log it encrypts with it.
	Production bool
	// Administrators may use the secrets key through Secrets Manager for
	// every secret of the vault (kit.Administrators).
	Administrators []string
	// SecretReaders may use the secrets key through Secrets Manager to read
	// the vault's application secrets, and only those: the reader roles of
	// every application user the secrets layer declares.
	SecretReaders []string
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
	// Administrators and SecretReaders are the principals the secrets key
	// admits; the secrets layer checks its own against them.
	Administrators pulumi.StringArrayOutput
	SecretReaders  pulumi.StringArrayOutput
}

// NewKeys creates the four keys and their aliases as children of one component.
func NewKeys(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Keys, error) {
	if err := args.validate(); err != nil {
		return nil, err
	}
	k := &Keys{}
	if err := ctx.RegisterComponentResource(ComponentType, name, k, opts...); err != nil {
		return nil, err
	}
	for _, purpose := range Purposes {
		key, err := newKey(ctx, args, purpose, pulumi.Parent(k))
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
	k.Administrators = pulumi.ToStringArray(args.Administrators).ToStringArrayOutput()
	k.SecretReaders = pulumi.ToStringArray(append([]string{}, args.SecretReaders...)).ToStringArrayOutput()
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
		"secretReaders":  k.SecretReaders,
	}
}

func (a Args) validate() error {
	if err := kit.ValidateSuffix(a.Suffix); err != nil {
		return err
	}
	if a.AccountID == "" || a.Region == "" {
		return fmt.Errorf("kms: account and region are required")
	}
	if len(a.Administrators) == 0 {
		return fmt.Errorf("kms: at least one administrator is required (config administrators, or the deploying role)")
	}
	seen := map[string]bool{}
	for i, r := range a.SecretReaders {
		if err := kit.ValidateRoleArn(fmt.Sprintf("secretReaders[%d]", i), r); err != nil {
			return err
		}
		if seen[r] {
			return fmt.Errorf("secretReaders[%d] %q is listed twice", i, r)
		}
		seen[r] = true
	}
	return validateWindow(a.DeletionWindowInDays)
}

func validateWindow(days int) error {
	if days < MinDeletionWindow || days > MaxDeletionWindow {
		return fmt.Errorf("deletionWindowInDays is %d; KMS accepts %d to %d days", days, MinDeletionWindow, MaxDeletionWindow)
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

func newKey(ctx *pulumi.Context, args Args, purpose string, parent pulumi.ResourceOption) (*awskms.Key, error) {
	policy, err := KeyPolicy(purpose, args).JSON()
	if err != nil {
		return nil, fmt.Errorf("kms: %s key policy: %w", purpose, err)
	}
	name := kit.Name(purpose+"-key", args.Suffix)
	key, err := awskms.NewKey(ctx, purpose+"-key", &awskms.KeyArgs{
		Description:          pulumi.String(description(purpose, args.Suffix)),
		KeyUsage:             pulumi.String("ENCRYPT_DECRYPT"),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(args.DeletionWindowInDays),
		Policy:               pulumi.String(policy),
		Tags:                 pulumi.StringMap{"Name": pulumi.String(name)},
	}, parent, pulumi.Protect(args.Production))
	if err != nil {
		return nil, err
	}
	if _, err := awskms.NewAlias(ctx, purpose+"-alias", &awskms.AliasArgs{
		Name:        pulumi.String(AliasName(purpose, args.Suffix)),
		TargetKeyId: key.KeyId,
	}, parent); err != nil {
		return nil, err
	}
	return key, nil
}

// AliasName is a key's alias: alias/<purpose>-<suffix>.
func AliasName(purpose, suffix string) string { return "alias/" + kit.Name(purpose, suffix) }

// TrailName is the name of this environment's CloudTrail trail, the only
// trail the logs key serves (the secrets layer creates it under this name).
func TrailName(suffix string) string { return kit.TrailName(suffix) }

// LogGroupArns are the log groups of this environment that the logs key
// serves, by exact ARN: the rotator's, the trail's, the flow log's and the
// three RDS exports. A pattern such as log-group:*-<suffix> would also admit
// other teams' groups and every environment whose suffix ends in -<suffix>
// (dev would admit pr-dev). CloudWatch Logs passes the group's ARN, without
// a :* suffix, as the encryption context aws:logs:arn:
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
func LogGroupArns(region, account, suffix string) []string {
	var out []string
	for _, g := range kit.LogGroups(suffix) {
		out = append(out, fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", region, account, g))
	}
	return out
}

// AlertsTopicArn is the alerts topic the secrets layer creates.
func AlertsTopicArn(region, account, suffix string) string {
	return fmt.Sprintf("arn:aws:sns:%s:%s:%s", region, account, kit.AlertsTopicName(suffix))
}

// KeyPolicy is the key policy of the key for purpose. Every key starts with
// AWS's default statement (the account root may do anything with the key,
// so IAM policies can grant its use and the key can never become
// unmanageable); each service then gets only what it needs, only under a
// condition that ties it to this account and this environment.
func KeyPolicy(purpose string, args Args) kit.PolicyDocument {
	region, account, suffix := args.Region, args.AccountID, args.Suffix
	statements := []kit.Statement{{
		Sid:       "EnableIAMUserPermissions",
		Effect:    "Allow",
		Principal: map[string]any{"AWS": fmt.Sprintf("arn:aws:iam::%s:root", account)},
		Action:    "kms:*",
		Resource:  "*",
	}}
	switch purpose {
	case Database:
		statements = append(statements, viaService("AllowRDSViaService", "rds", region, account))
	case Secrets:
		statements = append(statements, secretsKeyUsers(args)...)
	case Logs:
		trail := fmt.Sprintf("arn:aws:cloudtrail:%s:%s:trail/%s", region, account, TrailName(suffix))
		statements = append(statements,
			kit.Statement{
				Sid:       "AllowCloudWatchLogs",
				Effect:    "Allow",
				Principal: map[string]any{"Service": fmt.Sprintf("logs.%s.amazonaws.com", region)},
				Action:    []string{"kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"},
				Resource:  "*",
				Condition: map[string]map[string]any{
					"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": LogGroupArns(region, account, suffix)},
				},
			},
			kit.Statement{
				Sid:       "AllowCloudTrailEncrypt",
				Effect:    "Allow",
				Principal: map[string]any{"Service": "cloudtrail.amazonaws.com"},
				Action:    "kms:GenerateDataKey*",
				Resource:  "*",
				Condition: map[string]map[string]any{
					"StringLike":   {"kms:EncryptionContext:aws:cloudtrail:arn": fmt.Sprintf("arn:aws:cloudtrail:*:%s:trail/*", account)},
					"StringEquals": {"aws:SourceArn": trail},
				},
			},
			kit.Statement{
				Sid:       "AllowCloudTrailDescribe",
				Effect:    "Allow",
				Principal: map[string]any{"Service": "cloudtrail.amazonaws.com"},
				Action:    "kms:DescribeKey",
				Resource:  "*",
				Condition: map[string]map[string]any{"StringEquals": {"aws:SourceArn": trail}},
			},
		)
	case Alerts:
		// SNS asks KMS for a data key on behalf of whoever publishes to the
		// encrypted topic. Two publishers, two statements:
		//   - CloudWatch alarms send aws:SourceAccount, so they are tied to
		//     this account;
		//   - EventBridge does not: the SNS developer guide says that
		//     aws:SourceAccount and aws:SourceArn in a KMS key policy are not
		//     supported for EventBridge publishing to an SSE-KMS topic, so
		//     such a condition makes KMS deny and the RotationFailed rule
		//     deliver nothing. EventBridge is tied instead to this
		//     environment's topic, through the encryption context SNS passes
		//     (aws:sns:topicArn).
		//     https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
		statements = append(statements,
			kit.Statement{
				Sid:       "CloudWatchAlarmsOfThisAccount",
				Effect:    "Allow",
				Principal: map[string]any{"Service": "cloudwatch.amazonaws.com"},
				Action:    []string{"kms:Decrypt", "kms:GenerateDataKey*"},
				Resource:  "*",
				Condition: map[string]map[string]any{"StringEquals": {"aws:SourceAccount": account}},
			},
			kit.Statement{
				Sid:       "EventBridgeToTheAlertsTopic",
				Effect:    "Allow",
				Principal: map[string]any{"Service": "events.amazonaws.com"},
				Action:    []string{"kms:Decrypt", "kms:GenerateDataKey*"},
				Resource:  "*",
				Condition: map[string]map[string]any{"StringEquals": {"kms:EncryptionContext:aws:sns:topicArn": AlertsTopicArn(region, account, suffix)}},
			},
		)
	}
	return kit.NewPolicy(statements...)
}

// SecretsPrincipals are the principals the secrets key admits through
// Secrets Manager for every secret of the vault: the rotator's role (named
// before it exists, which only a condition allows), the administrators and
// RDS's service-linked role.
func SecretsPrincipals(args Args) []string {
	rotator := kit.RoleArn("aws", args.AccountID, kit.RotatorRoleName(args.Region, args.Suffix))
	return append(append([]string{rotator}, args.Administrators...), kit.RDSServiceLinkedRole("aws", args.AccountID))
}

// ApplicationSecretArnPattern matches the ARNs of this environment's
// application secrets (db-credentials-<user>-<suffix> plus the six
// characters Secrets Manager appends), and not the RDS-managed master
// secret (rds!cluster-...), so that a reader role can never decrypt the
// master password, whatever its IAM policies say.
func ApplicationSecretArnPattern(region, account, suffix string) string {
	return fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:db-credentials-*-%s-??????", region, account, suffix)
}

// secretsKeyUsers replaces AWS's "every principal of the account through
// Secrets Manager" with named principals, still only through Secrets
// Manager in this region (kms:ViaService) and only from this account:
//   - the rotator and the administrators, for every secret the key encrypts
//     (the application secrets and RDS's master secret);
//   - the reader roles, to decrypt (read) only the application secrets:
//     Secrets Manager passes the secret's ARN as the encryption context
//     SecretARN, so kms:EncryptionContext:SecretARN scopes them.
//     https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html#security-encryption-encryption-context
//
// Principal "*" with aws:PrincipalArn (not Principal: the role ARNs) lets
// the policy name the rotator's role before the secrets layer creates it.
// RDS creates and rotates the managed master secret through Secrets Manager
// with this key; AWS documents that the caller who turns on
// ManageMasterUserPassword needs kms:Decrypt and kms:GenerateDataKey on it
// (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-secrets-manager.html#rds-secrets-manager-permissions),
// which the administrators have here; that RDS's own rotation of the
// managed secret needs nothing more from the key policy is unconfirmed
// offline: the first real deploy checks that the master secret rotates.
func secretsKeyUsers(args Args) []kit.Statement {
	via := fmt.Sprintf("secretsmanager.%s.amazonaws.com", args.Region)
	stmts := []kit.Statement{{
		Sid:       "RotatorAndAdministratorsThroughSecretsManager",
		Effect:    "Allow",
		Principal: map[string]any{"AWS": "*"},
		Action:    []string{"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey"},
		Resource:  "*",
		Condition: map[string]map[string]any{
			"StringEquals": {"kms:ViaService": via, "kms:CallerAccount": args.AccountID},
			"ArnEquals":    {"aws:PrincipalArn": SecretsPrincipals(args)},
		},
	}}
	if len(args.SecretReaders) > 0 {
		stmts = append(stmts, kit.Statement{
			Sid:       "ReadersDecryptApplicationSecretsOnly",
			Effect:    "Allow",
			Principal: map[string]any{"AWS": "*"},
			Action:    []string{"kms:Decrypt", "kms:DescribeKey"},
			Resource:  "*",
			Condition: map[string]map[string]any{
				"StringEquals": {"kms:ViaService": via, "kms:CallerAccount": args.AccountID},
				"ArnEquals":    {"aws:PrincipalArn": args.SecretReaders},
				"ArnLike":      {"kms:EncryptionContext:SecretARN": ApplicationSecretArnPattern(args.Region, args.AccountID, args.Suffix)},
			},
		})
	}
	return stmts
}

// viaService admits this account's principals to use the key only through
// service in this region, as AWS's own aws/rds and aws/secretsmanager keys
// do: the service asks KMS on the caller's behalf, with the caller's
// identity, so the caller still needs IAM permission for the service.
func viaService(sid, service, region, account string) kit.Statement {
	return kit.Statement{
		Sid:       sid,
		Effect:    "Allow",
		Principal: map[string]any{"AWS": "*"},
		Action:    []string{"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:ListGrants", "kms:DescribeKey"},
		Resource:  "*",
		Condition: map[string]map[string]any{"StringEquals": {
			"kms:ViaService":    fmt.Sprintf("%s.%s.amazonaws.com", service, region),
			"kms:CallerAccount": account,
		}},
	}
}

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
	caller, err := aws.GetCallerIdentity(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("kms: who am I (sts get-caller-identity): %w", err)
	}
	admins, err := kit.Administrators(ctx)
	if err != nil {
		return nil, err
	}
	var readers []string
	if err := kit.ObjectConfig(config.New(ctx, ""), "secretReaders", &readers); err != nil {
		return nil, err
	}
	k, err := NewKeys(ctx, "keys", Args{
		Suffix:               common.Suffix,
		Region:               common.Region,
		AccountID:            caller.AccountId,
		DeletionWindowInDays: window,
		Production:           common.Production(),
		Administrators:       admins,
		SecretReaders:        readers,
	})
	if err != nil {
		return nil, err
	}
	return k.Outputs(), nil
}
