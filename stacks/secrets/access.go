package secrets

import (
	"fmt"
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dbvault/dbvault/stacks/kit"
)

// Who may do what with the vault's secrets is decided by three policies:
// each secret's resource policy (here), which names who may read, write
// and manage it; the secrets key's policy (stacks/kms, KeyPolicy), which
// confines the key to Secrets Manager and the master secret to the
// rotator, the administrators and RDS; and the rotator's role policy. The
// table of what they allow together is docs/credential-model.md's, decided
// by ops/accesstable. Each resource policy is explicit Denies wherever an IAM policy
// could otherwise allow: a role with secretsmanager:* on "*" still cannot
// read, write, re-label, rotate, delete, replicate, retag or re-police a
// secret it is not named for, and cannot remove the policy that says so.
// An explicit Deny in a resource policy wins over any Allow:
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html

// notAnAWSService keeps a Deny from applying to an AWS service acting with
// its own service principal (such a request has no aws:PrincipalArn of the
// account, so ArnNotEquals alone would deny it). BoolIfExists: a request
// without the key is still denied.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalisawsservice
var notAnAWSService = map[string]any{"aws:PrincipalIsAWSService": "false"}

// valueActions read or change a secret's value or which version is current;
// NoOtherReaders and NoOtherWriters say who may.
var valueActions = []string{"secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"}

// metadataReadActions read a secret's metadata and change nothing: the
// rotator's DescribeSecret and ListSecretVersionIds, the policy's own read
// and validation (Service Authorization Reference for Secrets Manager:
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecretsmanager.html).
var metadataReadActions = []string{"secretsmanager:DescribeSecret", "secretsmanager:ListSecretVersionIds", "secretsmanager:GetResourcePolicy", "secretsmanager:ValidateResourcePolicy"}

// AppSecretPolicy is an application secret's resource policy:
//   - its reader roles may read it (Allow, so a reader needs no IAM policy
//     of its own for this secret), and every other principal of any account
//     is denied reading it, except the rotator and the administrators;
//   - only the rotator and the administrators may write it
//     (PutSecretValue, UpdateSecretVersionStage);
//   - only the administrators may do anything else to it (OnlyAdministratorsManage).
//
// The administrators include the deployer (kit.CheckDeployer), so Pulumi's
// refresh (GetSecretValue of the first version, GetResourcePolicy,
// DescribeSecret) keeps working, and the rotator's own role is never denied
// what it needs, so rotation cannot lock itself out.
//
// Readers are named as Principal: IAM resolves a role ARN to the role's
// unique ID when the policy is saved, so a reader role that is deleted and
// created again under the same name loses access until the policy is
// written again (`go run mage.go up:secrets`). The Denies name principals
// by aws:PrincipalArn, a string, which a re-created role matches again.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-roles
func AppSecretPolicy(readers []string, rotator string, admins []string) kit.PolicyDocument {
	var stmts []kit.Statement
	if len(readers) > 0 {
		stmts = append(stmts, kit.Statement{
			Sid:       "ReadersReadThisSecret",
			Effect:    "Allow",
			Principal: map[string]any{"AWS": readers},
			Action:    []string{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"},
			Resource:  "*",
		})
	}
	writers := append([]string{rotator}, admins...)
	return kit.NewPolicy(append(stmts, denyOthers(append(slices.Clone(readers), writers...), writers, admins)...)...)
}

// MasterSecretPolicy is the resource policy of RDS's master secret: only
// the rotator (which creates the application users with it), the
// administrators (break-glass) and RDS may read it, and only the
// administrators and RDS may write or manage it. RDS owns the secret and
// rotates it; rds is its service-linked role (kit.RDSServiceLinkedRole),
// and RDS's calls as rds.amazonaws.com are spared as every AWS service's
// are.
func MasterSecretPolicy(rotator string, admins []string, rds string) kit.PolicyDocument {
	managers := append(slices.Clone(admins), rds)
	return kit.NewPolicy(denyOthers(append([]string{rotator}, managers...), managers, managers)...)
}

// denyOthers denies reading to all but readers, writing to all but
// writers, and everything else but metadata reads to all but managers.
//
// The last is one Deny with NotAction rather than a list of actions:
// UpdateSecret, RotateSecret, CancelRotateSecret, DeleteSecret,
// RestoreSecret, PutResourcePolicy, DeleteResourcePolicy,
// ReplicateSecretToRegions, RemoveRegionsFromReplication,
// StopReplicationToReplica, TagResource, UntagResource and any action AWS
// adds later are all denied, because only what it names (the value
// actions, which the two Denies before it govern, and metadata reads) is
// left out. Without it, a principal allowed secretsmanager:* by IAM could
// delete this policy and then read the secret, rotate it twice within the
// applications' cache time, cancel its rotation, or delete it without
// recovery.
func denyOthers(readers, writers, managers []string) []kit.Statement {
	return []kit.Statement{
		{
			Sid:       "NoOtherReaders",
			Effect:    "Deny",
			Principal: "*",
			Action:    "secretsmanager:GetSecretValue",
			Resource:  "*",
			Condition: map[string]map[string]any{
				"ArnNotEquals": {"aws:PrincipalArn": readers},
				"BoolIfExists": notAnAWSService,
			},
		},
		{
			Sid:       "NoOtherWriters",
			Effect:    "Deny",
			Principal: "*",
			Action:    []string{"secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"},
			Resource:  "*",
			Condition: map[string]map[string]any{
				"ArnNotEquals": {"aws:PrincipalArn": writers},
				"BoolIfExists": notAnAWSService,
			},
		},
		{
			Sid:       "OnlyAdministratorsManage",
			Effect:    "Deny",
			Principal: "*",
			NotAction: append(slices.Clone(valueActions), metadataReadActions...),
			Resource:  "*",
			Condition: map[string]map[string]any{
				"ArnNotEquals": {"aws:PrincipalArn": managers},
				"BoolIfExists": notAnAWSService,
			},
		},
	}
}

// rotatorPolicy is the rotator's least-privilege policy: rotate the
// application secrets, read (never write) the master secret, use the
// secrets key only through Secrets Manager for those secrets, write its own
// logs, and manage its network interfaces in the vault's subnets.
func rotatorPolicy(args *Args, arn func(service, resource string) string, appSecretArns pulumi.StringArrayOutput, masterSecretArn, logGroupArn pulumi.StringOutput) pulumi.StringOutput {
	masterKey := args.Database.MasterSecretKeyArn
	if masterKey == nil {
		masterKey = args.SecretsKeyArn
	}
	return pulumi.All(appSecretArns, masterSecretArn, logGroupArn, args.SecretsKeyArn, args.SubnetIDs, args.RotatorSecurityGroupID, masterKey).ApplyT(
		func(a []any) (string, error) {
			apps, master, logGroup, key := a[0].([]string), a[1].(string), a[2].(string), a[3].(string)
			subnets := a[4].([]string)
			sg := a[5].(string)
			masterKey := a[6].(string)
			scope := appSecretScope(apps, appSecretsArnPattern(args, arn))
			var subnetArns []string
			for _, s := range subnets {
				subnetArns = append(subnetArns, arn("ec2", "subnet/"+s))
			}
			enis := arn("ec2", "network-interface/*")
			via := fmt.Sprintf("secretsmanager.%s.amazonaws.com", args.Region)
			return kit.NewPolicy(slices.DeleteFunc([]kit.Statement{
				kit.Statement{
					Sid:    "RotateTheApplicationSecrets",
					Effect: "Allow",
					// ListSecretVersionIds: after an unfinished rotation the
					// password the database holds may be in an unlabelled
					// version, which the rotator finds by listing them.
					Action:   []string{"secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:ListSecretVersionIds", "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"},
					Resource: scope.resources,
				},
				kit.Statement{
					Sid:      "ReadTheMasterSecret",
					Effect:   "Allow",
					Action:   []string{"secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"},
					Resource: master,
				},
				kit.Statement{
					Sid:    "GeneratePasswords",
					Effect: "Allow",
					Action: "secretsmanager:GetRandomPassword",
					// "*": GetRandomPassword touches no secret; the Service
					// Authorization Reference lists no resource type for it.
					Resource: "*",
				},
				kit.Statement{
					Sid:       "EncryptAndDecryptTheApplicationSecrets",
					Effect:    "Allow",
					Action:    []string{"kms:Decrypt", "kms:GenerateDataKey"},
					Resource:  key,
					Condition: scope.kmsCondition(via),
				},
				decryptMaster(masterKey, master, via),
				kit.Statement{
					Sid:    "WriteOwnLogs",
					Effect: "Allow",
					Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"},
					// The function's own group and its streams.
					Resource: []string{logGroup, logGroup + ":log-stream:*"},
				},
				kit.Statement{
					Sid:    "CreateInterfacesInTheVaultSubnetsOnly",
					Effect: "Allow",
					Action: "ec2:CreateNetworkInterface",
					// The new interface (its ID is not known before) in the
					// private subnets, with the rotator's security group.
					Resource: append(append([]string{enis}, subnetArns...), arn("ec2", "security-group/"+sg)),
				},
				kit.Statement{
					Sid:    "ManageOwnInterfaces",
					Effect: "Allow",
					Action: []string{"ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"},
					// Lambda checks, when it creates a VPC function, that the
					// role may manage network interfaces; AWS's Lambda guide
					// says to give these actions a unique resource ID or all
					// of them, its example being arn:aws:ec2:REGION:ACCOUNT:*/*,
					// and network-interface/* is reported to fail that check.
					// The account's and region's resources, then; still no
					// condition (ec2:Subnet, ec2:Vpc), which the check cannot
					// satisfy.
					// https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions
					Resource: arn("ec2", "*/*"),
				},
				kit.Statement{
					Sid:    "DescribeInterfaces",
					Effect: "Allow",
					Action: []string{"ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"},
					// "*": EC2 Describe actions support no resource-level
					// permissions (Service Authorization Reference).
					Resource: "*",
				},
			}, func(s kit.Statement) bool { return s.Sid == "" })...).JSON()
		}).(pulumi.StringOutput)
}

// ExactSecretsLimit is the most application secrets the rotator's policy
// names one by one. Each costs about 250 characters there (its ARN twice,
// with the longest names), and IAM allows a role 10,240 characters of
// inline policies (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html);
// TestLimitsHoldAtMaxAppUsers checks both sides of the limit.
const ExactSecretsLimit = 25

// secretScope is how the rotator's policy names the application secrets.
type secretScope struct {
	resources []string
	// exact: resources are the secrets' ARNs; else one ARN pattern.
	exact bool
}

// appSecretsArnPattern matches the ARN of every application secret of the
// vault: its name (kit.Names.AppSecretPattern), then the hyphen and six
// random characters Secrets Manager appends.
func appSecretsArnPattern(args *Args, arn func(service, resource string) string) string {
	return arn("secretsmanager", "secret:"+args.names.AppSecretPattern()+"-??????")
}

// appSecretScope names the secrets by ARN up to ExactSecretsLimit, and
// beyond it by pattern: the ARN of every name the vault gives an
// application secret (kit.Names.AppSecretPattern) followed by the six
// characters Secrets Manager appends ("?" is exactly one character in an
// IAM ARN pattern: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html).
// The pattern also matches a secret another principal creates under such a
// name; the rotator refuses every secret the vault does not declare before
// reading it (DECLARED_ONLY), and another vault's secrets deny this rotator
// in their resource policies, so the pattern gives the role nothing the
// vault did not declare.
func appSecretScope(apps []string, pattern string) secretScope {
	if len(apps) <= ExactSecretsLimit {
		return secretScope{resources: apps, exact: true}
	}
	return secretScope{resources: []string{pattern}}
}

// kmsCondition limits the secrets key to Secrets Manager and to these
// secrets' encryption context (StringLike for the pattern).
func (s secretScope) kmsCondition(via string) map[string]map[string]any {
	if s.exact {
		return map[string]map[string]any{"StringEquals": {"kms:ViaService": via, "kms:EncryptionContext:SecretARN": s.resources}}
	}
	return map[string]map[string]any{
		"StringEquals": {"kms:ViaService": via},
		"StringLike":   {"kms:EncryptionContext:SecretARN": s.resources},
	}
}

// decryptMaster lets the rotator decrypt the master secret with its key,
// only through Secrets Manager and only for that secret. A secret encrypted
// with the AWS managed key aws/secretsmanager (key "") needs no statement:
// that key's own policy lets the account's principals use it through
// Secrets Manager
// (https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html);
// the zero Statement it returns then is dropped.
func decryptMaster(key, secret, via string) kit.Statement {
	if key == "" {
		return kit.Statement{}
	}
	return kit.Statement{
		Sid:      "DecryptTheMasterSecret",
		Effect:   "Allow",
		Action:   "kms:Decrypt",
		Resource: key,
		Condition: map[string]map[string]any{"StringEquals": {
			"kms:ViaService":                  via,
			"kms:EncryptionContext:SecretARN": secret,
		}},
	}
}
