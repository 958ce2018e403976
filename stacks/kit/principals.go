package kit

import (
	"fmt"
	"regexp"

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

// Administrators are the principals that may read and write every secret of
// the vault and use its secrets key: config `administrators` (a list of IAM
// role or user ARNs) when set, else the principal that deploys, resolved
// from its session: for an assumed-role session
// (arn:aws:sts::<account>:assumed-role/<role>/<session>) that is the role,
// which is what aws:PrincipalArn holds for such a caller. Source for the
// resolution: pulumi-aws aws.iam.getSessionContext
// (https://www.pulumi.com/registry/packages/aws/api-docs/iam/getsessioncontext/),
// which returns issuerArn, the role of an assumed-role ARN or the ARN itself
// otherwise.
//
// callerArn is the deploying principal (sts get-caller-identity, which the
// layer has already asked); opts send the session lookup through the
// stack's provider.
func Administrators(ctx *pulumi.Context, callerArn string, opts ...pulumi.InvokeOption) ([]string, error) {
	var admins []string
	if err := ObjectConfig(config.New(ctx, ""), "administrators", &admins); err != nil {
		return nil, err
	}
	if len(admins) == 0 {
		session, err := iam.GetSessionContext(ctx, &iam.GetSessionContextArgs{Arn: callerArn}, opts...)
		if err != nil {
			return nil, fmt.Errorf("administrators: the deploying session's role (iam getSessionContext): %w", err)
		}
		admins = []string{session.IssuerArn}
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
