package kms

import (
	"fmt"

	"github.com/dbvault/dbvault/stacks/kit"
)

// AliasName is a key's alias: alias/[<vault>-]<purpose>-<suffix>.
func AliasName(names kit.Names, purpose string) string { return "alias/" + names.Name(purpose) }

// PolicyArgs are what the key policies depend on: the vault's names, its
// account and region, and the principals of the secrets key.
type PolicyArgs struct {
	Names     kit.Names
	Region    string
	AccountID string
	Principals
}

// LogGroupArns are the log groups of this environment that the logs key
// serves, by exact ARN: the rotator's, the trail's, the flow log's and the
// three RDS exports. A pattern such as log-group:*-<suffix> would also admit
// other teams' groups and every environment whose suffix ends in -<suffix>
// (dev would admit pr-dev). CloudWatch Logs passes the group's ARN, without
// a :* suffix, as the encryption context aws:logs:arn:
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
func LogGroupArns(region, account string, names kit.Names) []string {
	var out []string
	for _, g := range names.LogGroups() {
		out = append(out, fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", region, account, g))
	}
	return out
}

// AlertsTopicArn is the alerts topic the secrets layer creates.
func AlertsTopicArn(region, account string, names kit.Names) string {
	return fmt.Sprintf("arn:aws:sns:%s:%s:%s", region, account, names.AlertsTopicName())
}

// KeyPolicy is the key policy of the key for purpose. Every key starts with
// AWS's default statement (the account root may do anything with the key,
// so IAM policies can grant its use and the key can never become
// unmanageable): https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html.
// Each service then gets only what it needs, only under a condition that
// ties it to this account and this environment. The secrets key adds
// explicit Deny statements (secretsKeyStatements): no Allow, from this
// policy, an IAM policy or a grant, overrides an explicit Deny in the key
// policy, so they hold against the root statement and against whatever IAM
// grants (https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html,
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
// The logs and alerts keys deny their control to all but the
// administrators too (controlStatement): disabling either, or changing its
// policy, would stop the trail's and the groups' delivery or the alerts
// without a word. Only AWS services acting as themselves use those keys,
// and the Deny spares them. The database key has no such Deny: RDS creates
// grants on it for the cluster's storage, and whether it ever does so as a
// principal other than the deployer is unconfirmed offline, where a Deny
// would cost the cluster its storage.
func KeyPolicy(purpose string, args PolicyArgs) kit.PolicyDocument {
	region, account, names := args.Region, args.AccountID, args.Names
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
		statements = append(statements, secretsKeyStatements(args)...)
	case Logs:
		statements = append(statements, controlStatement(args))
		trail := fmt.Sprintf("arn:aws:cloudtrail:%s:%s:trail/%s", region, account, names.TrailName())
		statements = append(statements,
			kit.Statement{
				Sid:       "AllowCloudWatchLogs",
				Effect:    "Allow",
				Principal: map[string]any{"Service": fmt.Sprintf("logs.%s.amazonaws.com", region)},
				Action:    []string{"kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"},
				Resource:  "*",
				Condition: map[string]map[string]any{
					"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": LogGroupArns(region, account, names)},
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
			// The trail's bucket uses an S3 Bucket Key (stacks/secrets,
			// trail.go), and CloudTrail's guide says that with a Bucket Key
			// kms:Decrypt is required to create or update a trail with
			// SSE-KMS ("Required KMS key policy elements for trails", item 2:
			// https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html).
			// Which principal the check runs as is not spelled out there;
			// CloudTrail itself is given it, for this trail only
			// (aws:SourceArn), and the administrators who create the trail
			// have it through the root statement and their IAM policies.
			// Unconfirmed offline: the first real deploy's `up:secrets`
			// creates the trail (InsufficientEncryptionPolicyException
			// otherwise), and verify's trail line reads it back.
			kit.Statement{
				Sid:       "AllowCloudTrailDecryptForTheBucketKey",
				Effect:    "Allow",
				Principal: map[string]any{"Service": "cloudtrail.amazonaws.com"},
				Action:    "kms:Decrypt",
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
		statements = append(statements, controlStatement(args),
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
				Condition: map[string]map[string]any{"StringEquals": {"kms:EncryptionContext:aws:sns:topicArn": AlertsTopicArn(region, account, names)}},
			},
		)
	}
	return kit.NewPolicy(statements...)
}

// SecretsPrincipals are the principals the secrets key admits through
// Secrets Manager for every secret of the vault, the RDS-managed master
// secret included: the rotator's role (named before it exists, which only a
// condition allows), the administrators and RDS's service-linked role.
func SecretsPrincipals(args PolicyArgs) []string {
	rotator := kit.RoleArn("aws", args.AccountID, args.Names.RotatorRoleName(args.Region))
	return append(append([]string{rotator}, args.Administrators...), kit.RDSServiceLinkedRole("aws", args.AccountID))
}

// ApplicationSecretArnPattern matches the ARNs of this environment's
// application secrets (db-credentials-<user>-<suffix> plus the six
// characters Secrets Manager appends), and not the RDS-managed master
// secret (rds!cluster-...).
func ApplicationSecretArnPattern(region, account string, names kit.Names) string {
	return fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-??????", region, account, names.AppSecretPattern())
}

// MasterSecretArnPattern matches the secrets RDS creates and manages in
// this account and region (rds!cluster-..., rds!db-...): the master
// secret. A managed secret's name starts with the managing service's ID and
// "!": https://docs.aws.amazon.com/secretsmanager/latest/userguide/service-linked-secrets.html
func MasterSecretArnPattern(region, account string) string {
	return fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:rds!*", region, account)
}

// CryptoActions are the key's cryptographic operations that reveal or
// produce a secret's data key. Secrets Manager calls GenerateDataKey,
// Decrypt and Encrypt on the caller's behalf
// (https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html#security-encryption-using-cmk);
// ReEncrypt* would move ciphertext to a key of the caller's choosing.
var CryptoActions = []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"}

// KeyControlActions change who may use the key, or whether anyone can:
// its policy, grants (a grant gives key use outside the policy), its
// deletion, disabling it or its rotation, copies in other regions, and the
// tags and aliases that IAM policies may use as conditions (aws:ResourceTag,
// kms:ResourceAliases).
// https://docs.aws.amazon.com/kms/latest/developerguide/kms-api-permissions-reference.html
var KeyControlActions = []string{
	"kms:PutKeyPolicy", "kms:CreateGrant", "kms:RevokeGrant", "kms:ScheduleKeyDeletion",
	"kms:DisableKey", "kms:DisableKeyRotation", "kms:ReplicateKey", "kms:UpdatePrimaryRegion",
	"kms:TagResource", "kms:UntagResource", "kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias",
}

// notAnAWSService keeps a Deny from applying to an AWS service acting with
// its own service principal, which no principal of the account can use.
// BoolIfExists: the key is absent from some requests, and a Deny that
// needed it would then not apply at all.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalisawsservice
var notAnAWSService = map[string]any{"aws:PrincipalIsAWSService": "false"}

// secretsKeyStatements are the secrets key's statements after the root's.
//
// Allows, only through Secrets Manager in this region (kms:ViaService) and
// only from this account (kms:CallerAccount):
//   - the rotator, the administrators and RDS's service-linked role, for
//     every secret the key encrypts;
//   - every principal of the account, to decrypt this environment's
//     application secrets only. Secrets Manager passes the secret's ARN as
//     the encryption context SecretARN
//     (https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html#security-encryption-encryption-context),
//     so kms:EncryptionContext:SecretARN scopes it. This is what AWS's own
//     aws/secretsmanager key allows, narrowed to these secrets: who may
//     read one of them is each secret's resource policy's to say, which
//     names its readers (stacks/secrets, AppSecretPolicy).
//
// Denies, which hold whatever any Allow says (root statement, IAM, grants):
//   - the cryptographic operations except through Secrets Manager: the key
//     encrypts secrets and nothing else;
//   - those operations on the RDS-managed master secret (by its SecretARN
//     context) to anyone but the rotator, the administrators and RDS's
//     service-linked role;
//   - KeyControlActions to anyone but the administrators.
//
// Every Deny spares AWS services acting as themselves (notAnAWSService).
// A negated condition operator is true when its key is absent from the
// request (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html),
// so a direct call, which carries no kms:ViaService, is denied.
//
// Principal "*" with aws:PrincipalArn (not Principal: the role ARNs) lets
// the policy name the rotator's role before the secrets layer creates it,
// and keeps working when a role is deleted and created again under the same
// name. Secrets Manager uses no grants of its own (security-encryption.html,
// "Key policy of the AWS managed key"), so no Allow here includes
// kms:CreateGrant. RDS creates the managed master secret with this key on
// behalf of the principal that turns ManageMasterUserPassword on, which
// needs kms:DescribeKey, kms:Decrypt, kms:GenerateDataKey and
// kms:CreateGrant on it
// (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-secrets-manager.html#rds-secrets-manager-permissions):
// the database layer's deployer, which must be an administrator (its IAM
// policy grants them; the control Deny spares administrators). That RDS
// then reads and rotates the managed secret only as rds.amazonaws.com or
// through its service-linked role, and calls the key only through Secrets
// Manager, is unconfirmed offline: the first real deploy checks that the
// cluster is created and that the master secret rotates.
//
// The administrators must include the principal that writes this policy:
// KMS refuses a key policy that would stop that principal from writing it
// again (BypassPolicyLockoutSafetyCheck, which stays off:
// https://docs.aws.amazon.com/kms/latest/APIReference/API_PutKeyPolicy.html),
// and every layer refuses a deployer that is not an administrator
// (kit.CheckDeployer).
func secretsKeyStatements(args PolicyArgs) []kit.Statement {
	via := fmt.Sprintf("secretsmanager.%s.amazonaws.com", args.Region)
	return []kit.Statement{
		{
			Sid:       "RotatorAndAdministratorsThroughSecretsManager",
			Effect:    "Allow",
			Principal: map[string]any{"AWS": "*"},
			Action:    []string{"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"},
			Resource:  "*",
			Condition: map[string]map[string]any{
				"StringEquals": {"kms:ViaService": via, "kms:CallerAccount": args.AccountID},
				"ArnEquals":    {"aws:PrincipalArn": SecretsPrincipals(args)},
			},
		},
		{
			Sid:       "AccountDecryptsApplicationSecretsThroughSecretsManager",
			Effect:    "Allow",
			Principal: map[string]any{"AWS": "*"},
			Action:    "kms:Decrypt",
			Resource:  "*",
			Condition: map[string]map[string]any{
				"StringEquals": {"kms:ViaService": via, "kms:CallerAccount": args.AccountID},
				"ArnLike":      {"kms:EncryptionContext:SecretARN": ApplicationSecretArnPattern(args.Region, args.AccountID, args.Names)},
			},
		},
		{
			Sid:       "OnlyThroughSecretsManager",
			Effect:    "Deny",
			Principal: map[string]any{"AWS": "*"},
			Action:    CryptoActions,
			Resource:  "*",
			Condition: map[string]map[string]any{
				"StringNotEquals": {"kms:ViaService": via},
				"BoolIfExists":    notAnAWSService,
			},
		},
		{
			Sid:       "MasterSecretOnlyForRotatorAdministratorsAndRDS",
			Effect:    "Deny",
			Principal: map[string]any{"AWS": "*"},
			Action:    CryptoActions,
			Resource:  "*",
			Condition: map[string]map[string]any{
				"ArnLike":      {"kms:EncryptionContext:SecretARN": MasterSecretArnPattern(args.Region, args.AccountID)},
				"ArnNotEquals": {"aws:PrincipalArn": SecretsPrincipals(args)},
				"BoolIfExists": notAnAWSService,
			},
		},
		controlStatement(args),
	}
}

// controlStatement denies KeyControlActions to anyone but the
// administrators, sparing AWS services acting as themselves.
func controlStatement(args PolicyArgs) kit.Statement {
	return kit.Statement{
		Sid:       "OnlyAdministratorsControlTheKey",
		Effect:    "Deny",
		Principal: map[string]any{"AWS": "*"},
		Action:    KeyControlActions,
		Resource:  "*",
		Condition: map[string]map[string]any{
			"ArnNotEquals": {"aws:PrincipalArn": args.Administrators},
			"BoolIfExists": notAnAWSService,
		},
	}
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
