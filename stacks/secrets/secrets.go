// Package secrets is the vault's fourth layer: one Secrets Manager secret
// per declared application user, each readable only by its reader roles,
// the Go rotation Lambda that creates each user with exactly its declared
// privileges and rotates it every rotationDays with alternating users (using
// RDS's managed master secret), the alerts when rotation fails, and the
// CloudTrail record of every call on the secrets.
package secrets

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/dbvault/dbvault/stacks/kit"
)

// Defaults of the layer's configuration.
const (
	// DefaultRotatorZip is the rotator's deployment package that
	// `go run mage.go build` writes, relative to the repository root.
	DefaultRotatorZip = "functions/rotator/dist/rotator.zip"
	// DefaultRotationDays is how often the password changes.
	DefaultRotationDays = 30
	// MaxRotationDays is the longest rotation period the vault allows.
	MaxRotationDays = 30
	// DefaultPasswordLength is the length of generated passwords.
	DefaultPasswordLength = 32
	// MaxPasswordLength is Aurora MySQL's longest master password.
	MaxPasswordLength = 41
	// DefaultExcludeCharacters are left out of generated passwords: Aurora
	// refuses / ' " @ in a master password; \ and the space break quoting.
	DefaultExcludeCharacters = ` /@"'\`
	// DefaultLogRetentionDays keeps the rotator's and the trail's logs.
	DefaultLogRetentionDays = 90
	// RotatorTimeoutSeconds bounds one rotation step; each network call in
	// the rotator is bounded far below it.
	RotatorTimeoutSeconds = 60
	// RotatorMemoryMB is the rotator's memory (it peaks far below).
	RotatorMemoryMB = 128
)

// InitialVersionStage labels the secret's first version beside AWSCURRENT.
// See NewVault for why the label exists.
const InitialVersionStage = "DBVAULT_INITIAL"

// Layer is the secrets layer: project vault-secrets.
var Layer = kit.Layer{Name: "secrets", Project: kit.SecretsProject, Run: run}

// Database is what the secrets layer needs from the database layer.
type Database struct {
	ClusterIdentifier pulumi.StringInput
	Endpoint          pulumi.StringInput
	Port              pulumi.IntInput
	MasterUsername    pulumi.StringInput
	// MasterSecretArn is RDS's managed master secret.
	MasterSecretArn pulumi.StringInput
	// DBName is the cluster's database, the default of an application
	// user's database.
	DBName pulumi.StringInput
}

// Args are the inputs of the Vault component.
type Args struct {
	// Suffix is environmentSuffix; Region, Account and Partition locate
	// the environment.
	Suffix, Region, Account, Partition string
	// RotatorZip is the rotator's deployment package (an absolute path).
	RotatorZip string
	// RotatorZipSHA256 is the package's SHA-256, base64 as Lambda's
	// CodeSha256 is.
	RotatorZipSHA256 string
	// RotationDays is the rotation period.
	RotationDays int
	// PasswordLength and ExcludeCharacters shape generated passwords.
	PasswordLength    int
	ExcludeCharacters string
	// LogRetentionDays is the retention of the layer's log groups.
	LogRetentionDays int
	// AlertEmail, when set, subscribes to the alerts topic.
	AlertEmail string
	// ExistingTrailName, when set, is the trail that already records the
	// account's management events; the layer creates none.
	ExistingTrailName string
	// AppUsers are the application users, validated (ValidateAppUsers);
	// the first one's secret is the layer's secretArn.
	AppUsers []AppUser
	// Administrators may read and write every secret of the vault.
	Administrators []string
	// Production keeps the secrets and the audit trail (kit.Production):
	// a 30-day recovery window and `protect` on the secrets, the trail's
	// bucket versioned with Object Lock and never force-destroyed.
	Production bool

	// SubnetIDs and RotatorSecurityGroupID place the rotator in the VPC.
	SubnetIDs              pulumi.StringArrayInput
	RotatorSecurityGroupID pulumi.StringInput
	// SecretsKeyArn encrypts the secrets; LogsKeyArn the log groups and
	// the trail; AlertsKeyArn the alerts topic.
	SecretsKeyArn, LogsKeyArn, AlertsKeyArn pulumi.StringInput
	// KeyAdministrators and KeyReaders are the principals the secrets
	// key's policy admits (the kms layer's administrators and
	// secretReaders outputs); every administrator and reader of this layer
	// must be among them, or Secrets Manager could not decrypt for them.
	KeyAdministrators, KeyReaders pulumi.StringArrayInput
	// Database is the cluster whose users the secrets hold.
	Database Database
}

// Vault is the application secrets, their rotation and their audit trail.
type Vault struct {
	pulumi.ResourceState

	// SecretArn and SecretName identify the first application user's
	// secret.
	SecretArn  pulumi.StringOutput
	SecretName pulumi.StringOutput
	// AppSecretArns maps each application user to its secret's ARN.
	AppSecretArns pulumi.StringMapOutput
	// MasterSecretArn is RDS's master secret, which the rotator reads.
	MasterSecretArn pulumi.StringOutput
	// RotatorFunctionArn and RotatorFunctionName identify the rotator.
	RotatorFunctionArn  pulumi.StringOutput
	RotatorFunctionName pulumi.StringOutput
	// RotatorRoleArn is the rotator's execution role.
	RotatorRoleArn pulumi.StringOutput
	// AlertsTopicArn receives rotation failures and rotator errors.
	AlertsTopicArn pulumi.StringOutput
	// TrailArn is the ARN of the trail, the vault's own or the existing one.
	TrailArn pulumi.StringOutput
	// RotationFailedRuleName is the EventBridge rule that alerts on failed
	// and abandoned rotations.
	RotationFailedRuleName pulumi.StringOutput
	// RotationDays is the application secrets' rotation period.
	RotationDays pulumi.IntOutput
}

// RotatorName is the rotation function's name in environment suffix.
func RotatorName(suffix string) string { return kit.RotatorName(suffix) }

// appSecret is one application user's secret and what it needs to rotate.
type appSecret struct {
	user    AppUser
	secret  *secretsmanager.Secret
	version *secretsmanager.SecretVersion
	policy  *secretsmanager.SecretPolicy
}

// NewVault creates the secrets layer's resources as children of one component.
func NewVault(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Vault, error) {
	users, err := ValidateAppUsers(args.AppUsers, args.Account)
	if err != nil {
		return nil, err
	}
	if len(args.Administrators) == 0 {
		return nil, fmt.Errorf("secrets: at least one administrator is required")
	}
	v := &Vault{}
	if err := ctx.RegisterComponentResource("dbvault:secrets:Vault", name, v, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(v)
	arn := func(service, resource string) string {
		return fmt.Sprintf("arn:%s:%s:%s:%s:%s", args.Partition, service, args.Region, args.Account, resource)
	}
	fnName := RotatorName(args.Suffix)
	roleName := kit.RotatorRoleName(args.Region, args.Suffix)
	rotatorRole := kit.RoleArn(args.Partition, args.Account, roleName)
	writers := append([]string{rotatorRole}, args.Administrators...)

	// The key may encrypt a secret only for principals its policy admits:
	// an administrator or reader the kms layer does not know would be
	// refused by KMS at the first read. Checked here, before anything is
	// created, by making the secrets' key depend on the check.
	keyArn := pulumi.All(args.SecretsKeyArn, args.KeyAdministrators, args.KeyReaders).ApplyT(func(a []any) (string, error) {
		admins, readers := a[1].([]string), a[2].([]string)
		for _, p := range args.Administrators {
			if !slices.Contains(admins, p) {
				return "", fmt.Errorf("administrator %s is not an administrator of the kms layer's secrets key: set the same administrators in stacks/kms and run `go run mage.go up:kms` first", p)
			}
		}
		for _, u := range users {
			for _, r := range u.Readers {
				if !slices.Contains(readers, r) {
					return "", fmt.Errorf("appUsers (%s): reader %s is not in the kms layer's secretReaders: add it there and run `go run mage.go up:kms` first", u.Name, r)
				}
			}
		}
		return a[0].(string), nil
	}).(pulumi.StringOutput)

	apps := make([]appSecret, 0, len(users))
	for _, u := range users {
		a, err := newAppSecret(ctx, args, u, keyArn, writers, parent)
		if err != nil {
			return nil, err
		}
		apps = append(apps, a)
	}
	var appArns pulumi.StringArray
	appArnsByUser := pulumi.StringMap{}
	for _, a := range apps {
		appArns = append(appArns, a.secret.Arn)
		appArnsByUser[a.user.Name] = a.secret.Arn
	}
	masterArn := args.Database.MasterSecretArn.ToStringOutput()

	// RDS's master secret: readable only by the rotator, the administrators
	// and RDS. Whether Secrets Manager accepts a resource policy on a
	// secret that RDS manages is unconfirmed offline; the first real
	// deploy's `up` shows it.
	masterPolicy, err := MasterSecretPolicy(append(append([]string{}, writers...), kit.RDSServiceLinkedRole(args.Partition, args.Account))).JSON()
	if err != nil {
		return nil, err
	}
	_, err = secretsmanager.NewSecretPolicy(ctx, "master-secret-policy", &secretsmanager.SecretPolicyArgs{
		SecretArn:         masterArn,
		Policy:            pulumi.String(masterPolicy),
		BlockPublicPolicy: pulumi.Bool(true),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("master secret policy: %w", err)
	}

	fnLogs, err := cloudwatch.NewLogGroup(ctx, "rotator-logs", &cloudwatch.LogGroupArgs{
		// Lambda's own name for the function's group; created here first,
		// encrypted and with a retention, before Lambda could create it bare.
		Name:            pulumi.String(kit.RotatorLogGroup(args.Suffix)),
		RetentionInDays: pulumi.Int(args.LogRetentionDays),
		KmsKeyId:        args.LogsKeyArn,
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("rotator log group: %w", err)
	}

	role, err := iam.NewRole(ctx, "rotator-role", &iam.RoleArgs{
		Name:        pulumi.String(roleName),
		Description: pulumi.String("Execution role of " + fnName),
		AssumeRolePolicy: policyJSON(kit.Statement{
			Sid:       "LambdaOfThisAccount",
			Effect:    "Allow",
			Principal: map[string]any{"Service": "lambda.amazonaws.com"},
			Action:    "sts:AssumeRole",
			Condition: map[string]map[string]any{"StringEquals": {"aws:SourceAccount": args.Account}},
		}),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("rotator role: %w", err)
	}

	rolePolicy, err := iam.NewRolePolicy(ctx, "rotator-policy", &iam.RolePolicyArgs{
		Name:   pulumi.String(kit.Name("rotator-policy", args.Suffix)),
		Role:   role.Name,
		Policy: rotatorPolicy(args, arn, appArns.ToStringArrayOutput(), masterArn, fnLogs.Arn),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("rotator policy: %w", err)
	}

	// What each application user may be: in the function's environment,
	// which only the deployer can change (lambda:UpdateFunctionConfiguration),
	// never in the secret, which its writers could edit.
	appUsersJSON := args.Database.DBName.ToStringOutput().ApplyT(func(db string) (string, error) {
		return appUsersEnv(users, args.Suffix, db)
	}).(pulumi.StringOutput)
	env := pulumi.StringMap{
		// The regional endpoint resolves to the VPC's interface endpoint
		// through its private DNS.
		"SECRETS_MANAGER_ENDPOINT": pulumi.String(fmt.Sprintf("https://secretsmanager.%s.amazonaws.com", args.Region)),
		"DB_TLS":                   pulumi.String("verify-full"),
		"PASSWORD_LENGTH":          pulumi.String(strconv.Itoa(args.PasswordLength)),
		"EXCLUDE_CHARACTERS":       pulumi.String(args.ExcludeCharacters),
		"MASTER_SECRET_ARN":        masterArn,
		"APP_USERS":                appUsersJSON,
		// The master login goes only to the cluster, whatever host an
		// application secret names: a principal that can write a secret
		// cannot send the master password elsewhere.
		"DB_HOST": args.Database.Endpoint.ToStringOutput(),
		"DB_PORT": args.Database.Port.ToIntOutput().ApplyT(func(p int) string { return strconv.Itoa(p) }).(pulumi.StringOutput),
	}
	envChecked := env.ToStringMapOutput().ApplyT(func(vars map[string]string) (map[string]string, error) {
		n := 0
		for k, v := range vars {
			n += len(k) + len(v)
		}
		if n > maxEnvBytes {
			return nil, fmt.Errorf("the rotator's environment would be %d bytes, over Lambda's %d: declare fewer appUsers or shorter privilege lists", n, maxEnvBytes)
		}
		return vars, nil
	}).(pulumi.StringMapOutput)

	fn, err := lambda.NewFunction(ctx, "rotator", &lambda.FunctionArgs{
		Name:          pulumi.String(fnName),
		Description:   pulumi.String("Rotates the application credentials of vault " + args.Suffix + " (dbvault rotator)"),
		Runtime:       pulumi.String("provided.al2023"),
		Architectures: pulumi.ToStringArray([]string{"arm64"}),
		Handler:       pulumi.String("bootstrap"),
		Code:          pulumi.NewFileArchive(args.RotatorZip),
		// The zip is byte-identical across builds of the same code, so its
		// hash changes, and the function with it, only when the code does.
		SourceCodeHash: pulumi.String(args.RotatorZipSHA256),
		Role:           role.Arn,
		Timeout:        pulumi.Int(RotatorTimeoutSeconds),
		MemorySize:     pulumi.Int(RotatorMemoryMB),
		VpcConfig: &lambda.FunctionVpcConfigArgs{
			SubnetIds:        args.SubnetIDs,
			SecurityGroupIds: pulumi.StringArray{args.RotatorSecurityGroupID},
		},
		Environment: &lambda.FunctionEnvironmentArgs{Variables: envChecked},
		LoggingConfig: &lambda.FunctionLoggingConfigArgs{
			LogFormat:           pulumi.String("JSON"),
			LogGroup:            fnLogs.Name,
			ApplicationLogLevel: pulumi.String("INFO"),
			// INFO keeps the platform's REPORT lines (duration, memory,
			// init), which WARN would drop.
			// https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html
			SystemLogLevel: pulumi.String("INFO"),
		},
	}, parent,
		// Lambda checks at creation that the role may manage the VPC's
		// network interfaces: the policy must be attached first. The log
		// group must exist before the first line is written.
		pulumi.DependsOn([]pulumi.Resource{rolePolicy, fnLogs}))
	if err != nil {
		return nil, fmt.Errorf("rotator function: %w", err)
	}

	watched := pulumi.All(appArns.ToStringArrayOutput(), masterArn).ApplyT(func(a []any) []string {
		return append(append([]string{}, a[0].([]string)...), a[1].(string))
	}).(pulumi.StringArrayOutput)
	alert, err := alerts(ctx, args, arn, fn, watched, parent)
	if err != nil {
		return nil, err
	}

	for _, a := range apps {
		if err := rotate(ctx, args, a, fn, alert.target, parent); err != nil {
			return nil, err
		}
	}

	var trailArn pulumi.StringOutput
	if args.ExistingTrailName != "" {
		trailArn = pulumi.String(existingTrailArn(args)).ToStringOutput()
	} else {
		trail, err := newTrail(ctx, args, arn, parent)
		if err != nil {
			return nil, err
		}
		trailArn = trail.Arn
	}

	v.SecretArn = apps[0].secret.Arn
	v.SecretName = apps[0].secret.Name
	v.AppSecretArns = appArnsByUser.ToStringMapOutput()
	v.MasterSecretArn = masterArn
	v.RotatorFunctionArn = fn.Arn
	v.RotatorFunctionName = fn.Name
	v.RotatorRoleArn = role.Arn
	v.AlertsTopicArn = alert.topic.Arn
	v.RotationFailedRuleName = alert.ruleName
	v.TrailArn = trailArn
	v.RotationDays = pulumi.Int(args.RotationDays).ToIntOutput()
	if err := ctx.RegisterResourceOutputs(v, v.outputs()); err != nil {
		return nil, err
	}
	return v, nil
}

// outputs are the component's outputs, which are also the stack's.
func (v *Vault) outputs() pulumi.Map {
	return pulumi.Map{
		"secretArn":              v.SecretArn,
		"secretName":             v.SecretName,
		"appSecretArns":          v.AppSecretArns,
		"masterSecretArn":        v.MasterSecretArn,
		"rotatorFunctionArn":     v.RotatorFunctionArn,
		"rotatorFunctionName":    v.RotatorFunctionName,
		"rotatorRoleArn":         v.RotatorRoleArn,
		"alertsTopicArn":         v.AlertsTopicArn,
		"trailArn":               v.TrailArn,
		"rotationFailedRuleName": v.RotationFailedRuleName,
		"rotationDays":           v.RotationDays,
	}
}

// existingTrailArn is the ARN of the trail named by ExistingTrailName (a
// name of this account and region, or already an ARN).
func existingTrailArn(args *Args) string {
	if strings.HasPrefix(args.ExistingTrailName, "arn:") {
		return args.ExistingTrailName
	}
	return fmt.Sprintf("arn:%s:cloudtrail:%s:%s:trail/%s", args.Partition, args.Region, args.Account, args.ExistingTrailName)
}

// newAppSecret creates an application user's secret, its first version and
// its resource policy.
func newAppSecret(ctx *pulumi.Context, args *Args, u AppUser, keyArn pulumi.StringOutput, writers []string, parent pulumi.ResourceOption) (appSecret, error) {
	secretName := AppSecretName(u.Name, args.Suffix)
	secret, err := secretsmanager.NewSecret(ctx, "secret-"+u.Name, &secretsmanager.SecretArgs{
		Name:        pulumi.String(secretName),
		Description: pulumi.String("Database user " + u.Name + " of vault " + args.Suffix + ", rotated by " + RotatorName(args.Suffix) + " with alternating users"),
		KmsKeyId:    keyArn,
		// Ephemeral: 0 deletes at once, so an environment can be destroyed
		// and rebuilt under the same name (a recovery window would block
		// the name). Production: 30 days to restore a deleted secret.
		RecoveryWindowInDays: pulumi.Int(recoveryWindow(args)),
	}, parent, pulumi.Protect(args.Production))
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
	version, err := secretsmanager.NewSecretVersion(ctx, "initial-version-"+u.Name, &secretsmanager.SecretVersionArgs{
		SecretId:      secret.ID(),
		SecretString:  initial,
		VersionStages: pulumi.ToStringArray([]string{"AWSCURRENT", InitialVersionStage}),
	}, parent, pulumi.IgnoreChanges([]string{"secretString", "versionStages"}))
	if err != nil {
		return appSecret{}, fmt.Errorf("first version of %s: %w", u.Name, err)
	}

	policyDoc, err := AppSecretPolicy(u.Readers, writers).JSON()
	if err != nil {
		return appSecret{}, err
	}
	policy, err := secretsmanager.NewSecretPolicy(ctx, "secret-policy-"+u.Name, &secretsmanager.SecretPolicyArgs{
		SecretArn: secret.Arn,
		Policy:    pulumi.String(policyDoc),
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

// rotate lets Secrets Manager invoke the rotator for one application secret
// and turns its rotation on. Rotating at once creates the user: the secret
// has no password until then. The rotation waits for alerting, so that a
// failure of that first rotation already pages.
func rotate(ctx *pulumi.Context, args *Args, a appSecret, fn *lambda.Function, alerting pulumi.Resource, parent pulumi.ResourceOption) error {
	permission, err := lambda.NewPermission(ctx, "rotator-invoke-"+a.user.Name, &lambda.PermissionArgs{
		StatementId: pulumi.String("SecretsManagerRotates-" + a.user.Name),
		Action:      pulumi.String("lambda:InvokeFunction"),
		Function:    fn.Name,
		Principal:   pulumi.String("secretsmanager.amazonaws.com"),
		// This account's Secrets Manager, for this secret only.
		SourceAccount: pulumi.String(args.Account),
		SourceArn:     a.secret.Arn,
	}, parent)
	if err != nil {
		return fmt.Errorf("rotator permission for %s: %w", a.user.Name, err)
	}
	_, err = secretsmanager.NewSecretRotation(ctx, "rotation-"+a.user.Name, &secretsmanager.SecretRotationArgs{
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

func policyJSON(statements ...kit.Statement) pulumi.StringOutput {
	return pulumi.String("").ToStringOutput().ApplyT(func(string) (string, error) {
		return kit.NewPolicy(statements...).JSON()
	}).(pulumi.StringOutput)
}

// Config is the layer's own configuration (beyond kit.Common).
type Config struct {
	RotatorZip        string
	RotatorZipSHA256  string
	RotationDays      int
	PasswordLength    int
	ExcludeCharacters string
	LogRetentionDays  int
	AlertEmail        string
	ExistingTrailName string
	// AppUsers is config appUsers, or DefaultAppUser; not yet validated
	// (NewVault does that, with the account).
	AppUsers []AppUser
}

var (
	emailPattern = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	// A trail name (3 to 128 letters, digits, . _ -) or a trail ARN.
	trailPattern = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9]|arn:aws[a-z-]*:cloudtrail:[a-z0-9-]+:\d{12}:trail/[A-Za-z0-9._-]+)$`)
)

// LoadConfig reads and validates the layer's configuration, and finds and
// hashes the rotator's zip.
func LoadConfig(ctx *pulumi.Context, common kit.Common) (Config, error) {
	cfg := config.New(ctx, "")
	c := Config{
		AlertEmail:        cfg.Get("alertEmail"),
		ExistingTrailName: cfg.Get("existingTrailName"),
		ExcludeCharacters: DefaultExcludeCharacters,
	}
	if v, ok := ctx.GetConfig(ctx.Project() + ":excludeCharacters"); ok {
		c.ExcludeCharacters = v
	}
	var err error
	if c.RotationDays, err = kit.IntConfig(cfg, "rotationDays", DefaultRotationDays); err != nil {
		return Config{}, err
	}
	if c.PasswordLength, err = kit.IntConfig(cfg, "passwordLength", DefaultPasswordLength); err != nil {
		return Config{}, err
	}
	if c.LogRetentionDays, err = common.LogRetention(cfg, "logRetentionDays", DefaultLogRetentionDays); err != nil {
		return Config{}, err
	}
	switch {
	case c.RotationDays < 1 || c.RotationDays > MaxRotationDays:
		return Config{}, fmt.Errorf("rotationDays is %d; it must be from 1 to %d (the vault rotates at least every %d days)", c.RotationDays, MaxRotationDays, MaxRotationDays)
	case c.PasswordLength < 8 || c.PasswordLength > MaxPasswordLength:
		return Config{}, fmt.Errorf("passwordLength is %d; it must be from 8 to %d (Aurora MySQL's longest master password)", c.PasswordLength, MaxPasswordLength)
	case c.AlertEmail != "" && !emailPattern.MatchString(c.AlertEmail):
		return Config{}, fmt.Errorf("alertEmail %q is not an e-mail address", c.AlertEmail)
	case c.ExistingTrailName != "" && !trailPattern.MatchString(c.ExistingTrailName):
		return Config{}, fmt.Errorf("existingTrailName %q is neither a trail name nor a trail ARN", c.ExistingTrailName)
	}
	for _, r := range `/@"'` {
		if !strings.ContainsRune(c.ExcludeCharacters, r) {
			return Config{}, fmt.Errorf("excludeCharacters must contain / @ \" and ' (Aurora MySQL refuses them in a master password)")
		}
	}
	if err := kit.ObjectConfig(cfg, "appUsers", &c.AppUsers); err != nil {
		return Config{}, fmt.Errorf("%w; appUsers is a list of {name, database, privileges, readers}", err)
	}
	if cfg.Get("appUsers") == "" {
		c.AppUsers = []AppUser{DefaultAppUser()}
	}
	c.RotatorZip, err = resolveZip(cfg.Get("rotatorZip"))
	if err != nil {
		return Config{}, err
	}
	if c.RotatorZipSHA256, err = sha256File(c.RotatorZip); err != nil {
		return Config{}, err
	}
	return c, nil
}

// resolveZip returns the absolute path of the rotator's zip: p (default
// DefaultRotatorZip), relative to the repository root when not absolute.
func resolveZip(p string) (string, error) {
	if p == "" {
		p = DefaultRotatorZip
	}
	if !filepath.IsAbs(p) {
		root, err := repoRoot()
		if err != nil {
			return "", err
		}
		p = filepath.Join(root, p)
	}
	info, err := os.Stat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("rotator zip %s does not exist: build the rotator first: go run mage.go build", p)
	case err != nil:
		return "", fmt.Errorf("rotator zip: %w", err)
	case info.IsDir():
		return "", fmt.Errorf("rotator zip %s is a directory: set rotatorZip to the zip that `go run mage.go build` writes", p)
	}
	return p, nil
}

// repoRoot is the nearest directory at or above the working directory that
// holds go.work: `pulumi up` runs in stacks/secrets, mage at the root.
func repoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("rotator zip: %w", err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("rotator zip: no go.work at or above %s; set rotatorZip to an absolute path", wd)
		}
	}
}

// sha256File is the base64 SHA-256 of the file, the form of Lambda's
// CodeSha256 and of sourceCodeHash.
func sha256File(p string) (string, error) {
	b, err := os.ReadFile(p) // #nosec G304 -- the operator's own build output, named by the stack's config
	if err != nil {
		return "", fmt.Errorf("rotator zip: %w", err)
	}
	sum := sha256.Sum256(b)
	return base64.StdEncoding.EncodeToString(sum[:]), nil
}

func run(ctx *pulumi.Context) (pulumi.Map, error) {
	common, err := kit.LoadCommon(ctx)
	if err != nil {
		return nil, err
	}
	c, err := LoadConfig(ctx, common)
	if err != nil {
		return nil, err
	}
	identity, err := aws.GetCallerIdentity(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("caller identity: %w", err)
	}
	partition, err := aws.GetPartition(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("partition: %w", err)
	}
	admins, err := kit.Administrators(ctx)
	if err != nil {
		return nil, err
	}
	network, err := kit.NewRef(ctx, "networkStack", kit.NetworkProject)
	if err != nil {
		return nil, err
	}
	keys, err := kit.NewRef(ctx, "kmsStack", kit.KMSProject)
	if err != nil {
		return nil, err
	}
	database, err := kit.NewRef(ctx, "databaseStack", kit.DatabaseProject)
	if err != nil {
		return nil, err
	}
	v, err := NewVault(ctx, "vault", &Args{
		Suffix:                 common.Suffix,
		Region:                 common.Region,
		Account:                identity.AccountId,
		Partition:              partition.Partition,
		RotatorZip:             c.RotatorZip,
		RotatorZipSHA256:       c.RotatorZipSHA256,
		RotationDays:           c.RotationDays,
		PasswordLength:         c.PasswordLength,
		ExcludeCharacters:      c.ExcludeCharacters,
		LogRetentionDays:       c.LogRetentionDays,
		AlertEmail:             c.AlertEmail,
		ExistingTrailName:      c.ExistingTrailName,
		SubnetIDs:              network.Strings("privateSubnetIds"),
		RotatorSecurityGroupID: network.String("rotatorSecurityGroupId"),
		SecretsKeyArn:          keys.String("secretsKeyArn"),
		LogsKeyArn:             keys.String("logsKeyArn"),
		AlertsKeyArn:           keys.String("alertsKeyArn"),
		Database: Database{
			ClusterIdentifier: database.String("clusterIdentifier"),
			Endpoint:          database.String("clusterEndpoint"),
			Port:              database.Int("port"),
			MasterUsername:    database.String("masterUsername"),
			MasterSecretArn:   database.String("masterSecretArn"),
			DBName:            database.String("dbName"),
		},
		AppUsers:          c.AppUsers,
		Production:        common.Production(),
		Administrators:    admins,
		KeyAdministrators: keys.Strings("administrators"),
		KeyReaders:        keys.OptionalStrings("secretReaders"),
	})
	if err != nil {
		return nil, err
	}
	return v.outputs(), nil
}
