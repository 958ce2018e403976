package secrets

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dbvault/dbvault/stacks/kit"
)

// appSecret is one application user's secret and what it needs to rotate.
type appSecret struct {
	user    AppUser
	secret  *secretsmanager.Secret
	version *secretsmanager.SecretVersion
	policy  *secretsmanager.SecretPolicy
}

// newAppSecret creates an application user's secret, its first version and
// its resource policy.
func newAppSecret(ctx *pulumi.Context, args *Args, u AppUser, keyArn pulumi.StringOutput, rotator string, admins pulumi.StringArrayOutput, parent pulumi.ResourceOption) (appSecret, error) {
	names, l := args.names, args.names.Logical
	secretName := names.AppSecretName(u.Name)
	secret, err := secretsmanager.NewSecret(ctx, l("secret-"+u.Name), &secretsmanager.SecretArgs{
		Name:        pulumi.String(secretName),
		Description: pulumi.String("Database user " + u.Name + " of vault " + args.Suffix + ", rotated by " + names.RotatorName() + " with alternating users"),
		KmsKeyId:    keyArn,
		// Ephemeral: 0 deletes at once, so an environment can be destroyed
		// and rebuilt under the same name (a recovery window would block
		// the name). Production: 30 days to restore a deleted secret.
		RecoveryWindowInDays: pulumi.Int(recoveryWindow(args)),
	}, parent, kit.Protected(args.Production))
	if err != nil {
		return appSecret{}, fmt.Errorf("secret of %s: %w", u.Name, err)
	}

	// The first version: AWS's JSON shape for MySQL secrets with masterarn
	// (the one the rotator and AWS's own multi-user template read), and no
	// password. Nothing in it is secret, so nothing secret reaches Pulumi's
	// state; the first rotation, which SecretRotation starts at once,
	// creates the user and its password, and only Secrets Manager and the
	// database ever hold that.
	db := args.Database
	initial := pulumi.All(db.Endpoint, db.Port, db.DBName, db.ClusterIdentifier, db.MasterSecretArn, db.MasterUsername).ApplyT(
		func(a []any) (string, error) {
			if a[5].(string) == u.Name {
				return "", fmt.Errorf("appUsers (%s): the name is the cluster's master user; choose another", u.Name)
			}
			database := u.Database
			if database == "" {
				database = a[2].(string)
			}
			b, err := json.Marshal(map[string]any{
				"engine":              "aurora-mysql",
				"host":                a[0],
				"port":                a[1],
				"username":            u.Name,
				"dbname":              database,
				"dbClusterIdentifier": a[3],
				"masterarn":           a[4],
			})
			return string(b), err
		}).(pulumi.StringOutput)
	// Created once, then left to rotation:
	//   - ignoreChanges on secretString and versionStages: rotation moves
	//     AWSCURRENT to versions Pulumi does not know; without this, `up`
	//     would move AWSCURRENT back to this version, which has no password.
	//   - the extra label InitialVersionStage: Secrets Manager deprecates,
	//     and eventually deletes, versions that carry no label. If this
	//     version vanished, the provider would see it gone and `up` would
	//     create it again, as AWSCURRENT. A label of our own keeps the
	//     version (and so Pulumi's view of it) alive.
	version, err := secretsmanager.NewSecretVersion(ctx, l("initial-version-"+u.Name), &secretsmanager.SecretVersionArgs{
		SecretId:      secret.ID(),
		SecretString:  initial,
		VersionStages: pulumi.ToStringArray([]string{"AWSCURRENT", InitialVersionStage}),
	}, parent, pulumi.IgnoreChanges([]string{"secretString", "versionStages"}))
	if err != nil {
		return appSecret{}, fmt.Errorf("first version of %s: %w", u.Name, err)
	}

	policyDoc := admins.ApplyT(func(a []string) (string, error) {
		return AppSecretPolicy(u.Readers, rotator, a).JSON()
	}).(pulumi.StringOutput)
	policy, err := secretsmanager.NewSecretPolicy(ctx, l("secret-policy-"+u.Name), &secretsmanager.SecretPolicyArgs{
		SecretArn: secret.Arn,
		Policy:    policyDoc,
		// Secrets Manager refuses a policy that grants broad access
		// (PutResourcePolicy, BlockPublicPolicy).
		BlockPublicPolicy: pulumi.Bool(true),
	}, parent)
	if err != nil {
		return appSecret{}, fmt.Errorf("resource policy of %s: %w", u.Name, err)
	}
	return appSecret{user: u, secret: secret, version: version, policy: policy}, nil
}

func recoveryWindow(args *Args) int {
	if args.Production {
		return kit.ProductionRecoveryWindowDays
	}
	return 0
}

// invokePermissions let this account's Secrets Manager invoke the rotator
// for the application secrets, and return the permission each secret's
// rotation needs. Up to ExactSecretsLimit secrets, one permission each,
// whose SourceArn is that secret. Past it, one permission for every
// secret of the vault, by the pattern the rotator's role uses: each
// permission is a statement of the function's resource-based policy,
// which Lambda caps at 20 KB ("The final policy size is bigger than the
// limit"; AWS's advice is one statement with a wildcard:
// https://repost.aws/knowledge-center/lambda-resource-based-policy-size-error),
// and a hundred statements of up to 470 bytes would pass it. Lambda keeps
// SourceArn as a condition that admits * and ?: its API reference says
// "Lambda configures the comparison using the StringLike operator"
// (https://docs.aws.amazon.com/lambda/latest/api/API_AddPermission.html),
// and the policies it returns show ArnLike (terraform-provider-aws
// internal/service/lambda/permission.go reads AWS:SourceArn under it).
// verify's rotator line judges the stored policy with ops/access; that
// Secrets Manager's invocation matches the pattern is shown only by a
// rotation that succeeds (its secrets/<user> line), unconfirmed offline.
func invokePermissions(ctx *pulumi.Context, args *Args, apps []appSecret, fn *lambda.Function, pattern string, parent pulumi.ResourceOption) ([]pulumi.Resource, error) {
	l := args.names.Logical
	permission := func(logical, sid string, source pulumi.StringInput) (pulumi.Resource, error) {
		return lambda.NewPermission(ctx, l(logical), &lambda.PermissionArgs{
			StatementId:   pulumi.String(sid),
			Action:        pulumi.String("lambda:InvokeFunction"),
			Function:      fn.Name,
			Principal:     pulumi.String("secretsmanager.amazonaws.com"),
			SourceAccount: pulumi.String(args.AccountID),
			SourceArn:     source,
		}, parent)
	}
	out := make([]pulumi.Resource, len(apps))
	if len(apps) > ExactSecretsLimit {
		p, err := permission("rotator-invoke", "SecretsManagerRotatesTheVaultsSecrets", pulumi.String(pattern))
		if err != nil {
			return nil, fmt.Errorf("rotator permission: %w", err)
		}
		for i := range out {
			out[i] = p
		}
		return out, nil
	}
	for i, a := range apps {
		p, err := permission("rotator-invoke-"+a.user.Name, "SecretsManagerRotates-"+a.user.Name, a.secret.Arn)
		if err != nil {
			return nil, fmt.Errorf("rotator permission for %s: %w", a.user.Name, err)
		}
		out[i] = p
	}
	return out, nil
}

// rotate turns on the rotation of one application secret, once Secrets
// Manager may invoke the rotator for it (permission). Rotating at once
// creates the user: the secret has no password until then. The rotation
// waits for alerting, so that a failure of that first rotation already
// pages.
func rotate(ctx *pulumi.Context, args *Args, a appSecret, fn *lambda.Function, permission, alerting pulumi.Resource, parent pulumi.ResourceOption) error {
	l := args.names.Logical
	_, err := secretsmanager.NewSecretRotation(ctx, l("rotation-"+a.user.Name), &secretsmanager.SecretRotationArgs{
		SecretId:          a.secret.ID(),
		RotationLambdaArn: fn.Arn,
		RotationRules: &secretsmanager.SecretRotationRotationRulesArgs{
			AutomaticallyAfterDays: pulumi.Int(args.RotationDays),
		},
		RotateImmediately: pulumi.Bool(true),
	}, parent, pulumi.DependsOn([]pulumi.Resource{a.version, a.policy, permission, alerting}))
	if err != nil {
		return fmt.Errorf("rotation of %s: %w", a.user.Name, err)
	}
	return nil
}
