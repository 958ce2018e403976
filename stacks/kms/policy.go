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
// unmanageable); each service then gets only what it needs, only under a
// condition that ties it to this account and this environment.
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
		statements = append(statements, secretsKeyUsers(args)...)
	case Logs:
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
				Condition: map[string]map[string]any{"StringEquals": {"kms:EncryptionContext:aws:sns:topicArn": AlertsTopicArn(region, account, names)}},
			},
		)
	}
	return kit.NewPolicy(statements...)
}

// SecretsPrincipals are the principals the secrets key admits through
// Secrets Manager for every secret of the vault: the rotator's role (named
// before it exists, which only a condition allows), the administrators and
// RDS's service-linked role.
func SecretsPrincipals(args PolicyArgs) []string {
	rotator := kit.RoleArn("aws", args.AccountID, args.Names.RotatorRoleName(args.Region))
	return append(append([]string{rotator}, args.Administrators...), kit.RDSServiceLinkedRole("aws", args.AccountID))
}

// ApplicationSecretArnPattern matches the ARNs of this environment's
// application secrets (db-credentials-<user>-<suffix> plus the six
// characters Secrets Manager appends), and not the RDS-managed master
// secret (rds!cluster-...), so that a reader role can never decrypt the
// master password, whatever its IAM policies say.
func ApplicationSecretArnPattern(region, account string, names kit.Names) string {
	return fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-??????", region, account, names.AppSecretPattern())
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
func secretsKeyUsers(args PolicyArgs) []kit.Statement {
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
				"ArnLike":      {"kms:EncryptionContext:SecretARN": ApplicationSecretArnPattern(args.Region, args.AccountID, args.Names)},
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
