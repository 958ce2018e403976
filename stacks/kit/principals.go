package kit

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

// RoleArn is the ARN of an IAM role of the account.
func RoleArn(partition, account, role string) string {
	return fmt.Sprintf("arn:%s:iam::%s:role/%s", partition, account, role)
}

// principalPattern is an IAM role or user ARN (paths allowed), the forms
// aws:PrincipalArn takes for the principals that may administer the vault.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn
var principalPattern = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:(role|user)/[\w+=,.@/-]{1,512}$`)

// rolePattern is an IAM role ARN: what may read an application secret.
var rolePattern = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$`)

// ValidateRoleArn refuses anything but an IAM role ARN; what names the
// value in the message.
func ValidateRoleArn(what, v string) error {
	if !rolePattern.MatchString(v) {
		return fmt.Errorf("%s %q is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)", what, v)
	}
	return nil
}

// DeployingPrincipal is the principal that runs the program, as
// aws:PrincipalArn names it in a policy: for an assumed-role session
// (arn:aws:sts::<account>:assumed-role/<role>/<session>) that is the role.
// Source for the resolution: pulumi-aws aws.iam.getSessionContext
// (https://www.pulumi.com/registry/packages/aws/api-docs/iam/getsessioncontext/),
// which returns issuerArn, the role of an assumed-role ARN (read with
// iam:GetRole, so that a role path is kept: terraform-provider-aws
// internal/service/iam/session_context_data_source.go) or the ARN itself
// otherwise; aws:PrincipalArn holds the role's ARN for a role session:
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn
//
// callerArn is the caller's ARN (sts get-caller-identity, which the layer
// has already asked); opts send the lookup through the stack's provider.
func DeployingPrincipal(ctx *pulumi.Context, callerArn string, opts ...pulumi.InvokeOption) (string, error) {
	session, err := iam.GetSessionContext(ctx, &iam.GetSessionContextArgs{Arn: callerArn}, opts...)
	if err != nil {
		return "", fmt.Errorf("the deploying principal (iam getSessionContext of %s): %w", callerArn, err)
	}
	return session.IssuerArn, nil
}

// Deployer asks STS who runs the program, through the stack's provider, and
// returns the account the stack deploys into and the deploying principal
// (DeployingPrincipal), which a layer that touches what only the
// administrators may checks against them (CheckDeployer).
func (c Common) Deployer(ctx *pulumi.Context) (account, deployer string, err error) {
	caller, err := aws.GetCallerIdentity(ctx, nil, c.AWS())
	if err != nil {
		return "", "", fmt.Errorf("who am I (sts get-caller-identity): %w", err)
	}
	deployer, err = DeployingPrincipal(ctx, caller.Arn, c.AWS())
	if err != nil {
		return "", "", err
	}
	return caller.AccountId, deployer, nil
}

// Administrators are the principals that may administer the vault: read and
// write every secret, change or delete any of them and their policies, and
// manage the secrets key. They are config `administrators` of the kms layer
// (a list of IAM role or user ARNs) when set, else deployer, the principal
// that deploys (DeployingPrincipal). The database and secrets layers read
// the list from the kms stack's output of the same name.
func Administrators(ctx *pulumi.Context, deployer string) ([]string, error) {
	var admins []string
	if err := ObjectConfig(config.New(ctx, ""), "administrators", &admins); err != nil {
		return nil, err
	}
	if len(admins) == 0 {
		admins = []string{deployer}
	}
	seen := map[string]bool{}
	for i, a := range admins {
		if !principalPattern.MatchString(a) {
			return nil, fmt.Errorf("administrators[%d] %q is not an IAM role or user ARN; set administrators to the roles that manage the vault", i, a)
		}
		if seen[a] {
			return nil, fmt.Errorf("administrators[%d] %q is listed twice", i, a)
		}
		seen[a] = true
	}
	return admins, nil
}

// OnlyIdentityCenterAdministrators is a refusal when every administrator is
// a role IAM Identity Center creates for a permission set
// (role/aws-reserved/sso.amazonaws.com/...), "" otherwise. The vault's
// policies deny the keys' and the secrets' control to everyone else, the
// account's root user included, by ARN, and such a role cannot come back
// under its ARN: when the set's last assignment to the account goes, so
// does the role, and a new assignment creates one "with a different,
// unique suffix"
// (https://docs.aws.amazon.com/singlesignon/latest/userguide/referencingpermissionsets.html).
// A role of the account's own can be re-created under the same name.
func OnlyIdentityCenterAdministrators(admins []string) string {
	for _, a := range admins {
		if !strings.Contains(a, ":role/aws-reserved/sso.amazonaws.com/") {
			return ""
		}
	}
	return "every administrator is an IAM Identity Center role (role/aws-reserved/sso.amazonaws.com/...): if its permission set's assignments to this account were removed, the role would come back under another name, and no one, not even the account's root user, could change the secrets' policies again, nor the keys' without AWS Support; add to administrators a role of the account's own (a break-glass role), which can be re-created under the same name"
}

// CheckDeployer refuses a deployer that is not one of the administrators.
// Every layer writes or reads back what only the administrators may touch,
// so a deployer outside the list would lock itself out halfway:
//   - kms: the secrets key's policy lets only the administrators change it,
//     and KMS refuses a key policy that would stop the principal writing it
//     from writing it again (the lockout safety check of CreateKey and
//     PutKeyPolicy: https://docs.aws.amazon.com/kms/latest/APIReference/API_PutKeyPolicy.html);
//   - database: RDS creates the master secret with the secrets key on the
//     deployer's behalf, which needs kms:CreateGrant, kms:Decrypt and
//     kms:GenerateDataKey on that key
//     (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-secrets-manager.html#rds-secrets-manager-permissions);
//   - secrets: each secret's first version and its resource policy are
//     created side by side, and the provider reads a new version back with
//     GetSecretValue and deletes one by moving its labels with
//     UpdateSecretVersionStage (terraform-provider-aws
//     internal/service/secretsmanager/secret_version.go), which the policy
//     denies to everyone but the rotator and the administrators: the first
//     up would race its own policy, and every later refresh and destroy
//     would fail.
func CheckDeployer(deployer string, admins []string) error {
	if slices.Contains(admins, deployer) {
		return nil
	}
	return fmt.Errorf("the deploying principal %s is not one of the vault's administrators (%s): add %s to administrators in stacks/kms and run up:kms, or deploy as one of them", deployer, strings.Join(admins, ", "), deployer)
}

// RequireDeployer is admins (the kms stack's administrators output), once
// CheckDeployer has accepted deployer: whatever takes it waits for the
// check, so a preview by anyone else fails before anything is created.
func RequireDeployer(deployer string, admins pulumi.StringArrayOutput) pulumi.StringArrayOutput {
	return admins.ApplyT(func(a []string) ([]string, error) {
		return a, CheckDeployer(deployer, a)
	}).(pulumi.StringArrayOutput)
}

// RDSServiceLinkedRole is the role RDS acts through in the account. RDS
// rotates its managed master secret itself; whether it reads the secret and
// uses the secrets key through this role (rather than as the
// rds.amazonaws.com service principal, which the secret policies exempt
// with aws:PrincipalIsAWSService) is unconfirmed offline, so the secrets
// key and the master secret's policy admit it (only RDS can assume it), and
// the first real deploy confirms that the master secret still rotates.
// https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAM.ServiceLinkedRoles.html
func RDSServiceLinkedRole(partition, account string) string {
	return fmt.Sprintf("arn:%s:iam::%s:role/aws-service-role/rds.amazonaws.com/AWSServiceRoleForRDS", partition, account)
}
