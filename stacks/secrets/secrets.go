// Package secrets is the vault's fourth layer: one Secrets Manager secret
// per declared application user, each readable only by its reader roles,
// the Go rotation Lambda that creates each user with exactly its declared
// privileges and rotates it every rotationDays with alternating users (using
// RDS's managed master secret), the alerts when rotation fails, and the
// CloudTrail record of every call on the secrets.
package secrets

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dbvault/dbvault/functions/rotator/version"
	"github.com/dbvault/dbvault/stacks/database"
	"github.com/dbvault/dbvault/stacks/kit"
)

// Defaults of the layer's configuration.
const (
	// DefaultRotatorZip is the rotator's deployment package that
	// `go run mage.go dev:build` writes, relative to the repository root.
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

// Database is what the secrets layer needs from the database layer.
type Database struct {
	ClusterIdentifier pulumi.StringInput
	Endpoint          pulumi.StringInput
	Port              pulumi.IntInput
	MasterUsername    pulumi.StringInput
	// MasterSecretArn is the secret with the master user's credentials:
	// RDS's managed master secret, or the team's for an existing cluster.
	MasterSecretArn pulumi.StringInput
	// MasterSecretKeyArn is the KMS key that encrypts it; nil means
	// SecretsKeyArn (the vault's own cluster), empty the AWS managed key
	// aws/secretsmanager, for which the rotator needs no KMS statement.
	MasterSecretKeyArn pulumi.StringInput
	// Existing says the cluster is the team's (the database layer's
	// existingCluster): its master secret's resource policy is the team's,
	// and the vault leaves it alone.
	Existing bool
	// DBName is the cluster's database, the default of an application
	// user's database.
	DBName pulumi.StringInput
}

// DatabaseOf is what the vault needs of a database component, as one value:
// its cluster's endpoint, port and master user, the master secret and the
// key that encrypts it, its database, and whether the cluster is the
// team's (database.Args.Existing).
func DatabaseOf(d *database.Database) Database {
	return Database{
		ClusterIdentifier:  d.ClusterIdentifier,
		Endpoint:           d.Endpoint,
		Port:               d.Port,
		MasterUsername:     d.MasterUsername,
		MasterSecretArn:    d.MasterSecretArn,
		MasterSecretKeyArn: d.MasterSecretKeyArn,
		Existing:           d.ExistingCluster,
		DBName:             d.DBName,
	}
}

// Args are the inputs of the Vault component. NewVault applies the
// default to every optional argument left at its zero value and refuses an
// invalid one, naming the argument (applyDefaults).
type Args struct {
	// Suffix is environmentSuffix, Region and AccountID the environment's
	// region and account. Required.
	Suffix, Region, AccountID string
	// Partition is the AWS partition. Zero means aws.
	Partition string
	// RotatorZip is the rotator's deployment package: a path (relative
	// paths resolve against the repository root), which may come from
	// another resource; nil is the workspace build, DefaultRotatorZip, in
	// this repository, and in a program of your own the rotator built from
	// the module cache exactly as the release builds it (same bytes).
	RotatorZip pulumi.StringInput
	// RotatorZipSHA256 is the package's SHA-256, base64 as Lambda's
	// CodeSha256 is; empty: computed from the package.
	RotatorZipSHA256 string
	// RotationDays is the rotation period: 1 to MaxRotationDays. Zero
	// means DefaultRotationDays.
	RotationDays int
	// PasswordLength is the generated passwords' length: 8 to
	// MaxPasswordLength. Zero means DefaultPasswordLength.
	PasswordLength int
	// ExcludeCharacters are left out of generated passwords; they must
	// include / @ " and ', which Aurora MySQL refuses in a master password.
	// Empty means DefaultExcludeCharacters.
	ExcludeCharacters string
	// LogRetentionDays is the retention of the layer's log groups, a value
	// CloudWatch Logs accepts, at least 365 in production. Zero means
	// DefaultLogRetentionDays, or 365 in production.
	LogRetentionDays int
	// AlertEmail, when set, is an e-mail address subscribed to the alerts
	// topic.
	AlertEmail string
	// ExistingTrailName, when set, is the trail (its name or ARN) that
	// already records the account's management events; the layer creates
	// none.
	ExistingTrailName string
	// TrailRetentionDays is how long the vault's own trail bucket keeps
	// log files; 0 means DefaultTrailRetentionDays, or TrailRetentionDays
	// in production, which refuses less.
	TrailRetentionDays int
	// AppUsers are the application users (ValidateAppUsers says what is
	// valid); the first one's secret is the layer's secretArn. Nil means
	// one user, DefaultAppUser.
	AppUsers []AppUser
	// Administrators administer the vault: they alone may change, rotate,
	// delete or re-police its secrets, and they may read and write every
	// one. The kms layer declares them (its administrators output, or
	// kms.Keys.Administrators); at least one.
	Administrators pulumi.StringArrayInput
	// Production keeps the secrets and the audit trail (kit.Production):
	// a 30-day recovery window and `protect` on the secrets, the trail's
	// bucket versioned with Object Lock and never force-destroyed.
	Production bool

	// SubnetIDs and RotatorSecurityGroupID place the rotator in the VPC.
	SubnetIDs              pulumi.StringArrayInput
	RotatorSecurityGroupID pulumi.StringInput
	// SecretsManagerEndpoint is the URL the rotator calls Secrets Manager
	// by (the network layer's secretsManagerEndpointUrl): the endpoint's own
	// name where it has no private DNS. Nil or empty: the regional name,
	// which private DNS sends to the VPC's endpoint.
	SecretsManagerEndpoint pulumi.StringInput
	// SecretsKeyArn encrypts the secrets; LogsKeyArn the log groups and
	// the trail; AlertsKeyArn the alerts topic.
	SecretsKeyArn, LogsKeyArn, AlertsKeyArn pulumi.StringInput
	// Database is the cluster whose users the secrets hold.
	Database Database

	// names are the vault's names, from the component's name (set by
	// NewVault on its own copy of the Args).
	names kit.Names
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
	// RotatorCodeSha256 is the SHA-256 of the rotator's package as deployed,
	// base64 as Lambda's CodeSha256 is: verify compares the two, since a
	// refresh does not bring back code changed outside Pulumi
	// (https://github.com/pulumi/pulumi-aws/issues/906).
	RotatorCodeSha256 pulumi.StringOutput
	// AlertsTopicArn receives rotation failures and rotator errors.
	AlertsTopicArn pulumi.StringOutput
	// TrailArn is the ARN of the trail, the vault's own or the existing one.
	TrailArn pulumi.StringOutput
	// RotationFailedRuleName is the EventBridge rule that alerts on failed
	// and abandoned rotations.
	RotationFailedRuleName pulumi.StringOutput
	// RotatorChangesRuleName is the EventBridge rule that alerts on
	// changes to the rotator's function and role.
	RotatorChangesRuleName pulumi.StringOutput
	// AlertChangesRuleName is the EventBridge rule that alerts on changes
	// that would silence the alerts.
	AlertChangesRuleName pulumi.StringOutput
	// RotationDays is the application secrets' rotation period.
	RotationDays pulumi.IntOutput
}

var (
	emailPattern = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	// A trail name (3 to 128 letters, digits, . _ -) or a trail ARN.
	trailPattern = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9]|arn:aws[a-z-]*:cloudtrail:[a-z0-9-]+:\d{12}:trail/[A-Za-z0-9._-]+)$`)
)

// applyDefaults gives every optional argument left at its zero value its
// documented default and refuses an invalid one, naming the argument.
func (a *Args) applyDefaults() error {
	switch {
	case a.Region == "" || a.AccountID == "":
		//lint:ignore ST1005 the message starts with the argument's Go name
		return fmt.Errorf("Region and AccountID are required")
	case a.SubnetIDs == nil || a.RotatorSecurityGroupID == nil:
		return fmt.Errorf("SubnetIDs and RotatorSecurityGroupID are required (the network layer's private subnets and rotator group)")
	case a.SecretsKeyArn == nil || a.LogsKeyArn == nil || a.AlertsKeyArn == nil:
		return fmt.Errorf("SecretsKeyArn, LogsKeyArn and AlertsKeyArn are required (the kms layer's keys)")
	case a.Database.ClusterIdentifier == nil || a.Database.Endpoint == nil || a.Database.Port == nil ||
		a.Database.MasterUsername == nil || a.Database.MasterSecretArn == nil || a.Database.DBName == nil:
		return fmt.Errorf("Database is required: its ClusterIdentifier, Endpoint, Port, MasterUsername, MasterSecretArn and DBName (secrets.DatabaseOf of a database component gives them all)")
	}
	if a.Partition == "" {
		a.Partition = "aws"
	}
	if a.RotationDays == 0 {
		a.RotationDays = DefaultRotationDays
	}
	if a.PasswordLength == 0 {
		a.PasswordLength = DefaultPasswordLength
	}
	if a.ExcludeCharacters == "" {
		a.ExcludeCharacters = DefaultExcludeCharacters
	}
	if a.AppUsers == nil {
		a.AppUsers = []AppUser{DefaultAppUser()}
	}
	var err error
	if a.LogRetentionDays, err = kit.Retention("LogRetentionDays", a.LogRetentionDays, DefaultLogRetentionDays, a.Production); err != nil {
		return err
	}
	switch {
	case a.RotationDays < 1 || a.RotationDays > MaxRotationDays:
		return fmt.Errorf("RotationDays is %d; it must be from 1 to %d (the vault rotates at least every %d days)", a.RotationDays, MaxRotationDays, MaxRotationDays)
	case a.PasswordLength < 8 || a.PasswordLength > MaxPasswordLength:
		return fmt.Errorf("PasswordLength is %d; it must be from 8 to %d (Aurora MySQL's longest master password)", a.PasswordLength, MaxPasswordLength)
	case a.AlertEmail != "" && !emailPattern.MatchString(a.AlertEmail):
		return fmt.Errorf("AlertEmail %q is not an e-mail address", a.AlertEmail)
	case a.ExistingTrailName != "" && !trailPattern.MatchString(a.ExistingTrailName):
		return fmt.Errorf("ExistingTrailName %q is neither a trail name nor a trail ARN", a.ExistingTrailName)
	}
	for _, r := range `/@"'` {
		if !strings.ContainsRune(a.ExcludeCharacters, r) {
			return fmt.Errorf("ExcludeCharacters must contain / @ \" and ' (Aurora MySQL refuses them in a master password)")
		}
	}
	return nil
}

// NewVault creates the secrets layer's resources as children of one
// component. The component's name names the vault (kit.NewNames): give the
// vault's four components the same name, or default ones.
func NewVault(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Vault, error) {
	if args == nil {
		return nil, fmt.Errorf("secrets: args are nil: Suffix, Region, AccountID, Database, SecretsKeyArn, LogsKeyArn, AlertsKeyArn, SubnetIDs and RotatorSecurityGroupID are required")
	}
	names, err := kit.NewNames(name, args.Suffix)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	own := *args
	if err := own.applyDefaults(); err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	own.names = names
	args = &own
	l := names.Logical
	code, hash, err := rotatorCode(args)
	if err != nil {
		return nil, err
	}
	users, err := ValidateAppUsers(args.AppUsers, args.AccountID)
	if err != nil {
		return nil, err
	}
	if args.Administrators == nil {
		return nil, fmt.Errorf("secrets: at least one administrator is required (the kms layer's administrators)")
	}
	v := &Vault{}
	if err := ctx.RegisterComponentResource("dbvault:secrets:Vault", name, v, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(v)
	arn := func(service, resource string) string {
		return fmt.Sprintf("arn:%s:%s:%s:%s:%s", args.Partition, service, args.Region, args.AccountID, resource)
	}
	fnName := names.RotatorName()
	roleName := names.RotatorRoleName(args.Region)
	rotatorRole := kit.RoleArn(args.Partition, args.AccountID, roleName)
	admins := args.Administrators.ToStringArrayOutput().ApplyT(func(a []string) ([]string, error) {
		if len(a) == 0 {
			return nil, fmt.Errorf("secrets: at least one administrator is required (the kms layer's administrators)")
		}
		return a, nil
	}).(pulumi.StringArrayOutput)
	// The secrets wait for the administrators, and so for whatever check
	// the caller made on them (the layer's: the deployer is one of them),
	// before anything is created.
	keyArn := pulumi.All(args.SecretsKeyArn, admins).ApplyT(func(a []any) string { return a[0].(string) }).(pulumi.StringOutput)

	apps := make([]appSecret, 0, len(users))
	for _, u := range users {
		a, err := newAppSecret(ctx, args, u, keyArn, rotatorRole, admins, parent)
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
	// and RDS. The secrets key enforces this whatever this policy's fate
	// (stacks/kms, MasterSecretOnlyForRotatorAdministratorsAndRDS). Whether
	// Secrets Manager accepts a resource policy on a secret that RDS
	// manages is not settled by AWS's documentation: for secrets you manage
	// it lists the resource policy among what you can modify, and says
	// that a managing service "might also restrict you from updating"
	// its secrets
	// (https://docs.aws.amazon.com/secretsmanager/latest/userguide/manage_update-secret.html,
	// https://docs.aws.amazon.com/secretsmanager/latest/userguide/service-linked-secrets.html);
	// PutResourcePolicy lists "The secret is managed by another service"
	// among its InvalidRequestException causes, as every Secrets Manager
	// call does. Unconfirmed offline: the first real deploy's `up` shows
	// it, and `verify` reads the policy back.
	//
	// An existing cluster's master secret is the team's: its policy, its
	// key and its readers stay as the team set them, and the vault's
	// promises about the master secret do not extend to it
	// (docs/credential-model.md).
	if !args.Database.Existing {
		masterPolicy := admins.ApplyT(func(a []string) (string, error) {
			return MasterSecretPolicy(rotatorRole, a, kit.RDSServiceLinkedRole(args.Partition, args.AccountID)).JSON()
		}).(pulumi.StringOutput)
		_, err = secretsmanager.NewSecretPolicy(ctx, l("master-secret-policy"), &secretsmanager.SecretPolicyArgs{
			SecretArn:         masterArn,
			Policy:            masterPolicy,
			BlockPublicPolicy: pulumi.Bool(true),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("master secret policy: %w", err)
		}
	}

	fnLogs, err := cloudwatch.NewLogGroup(ctx, l("rotator-logs"), &cloudwatch.LogGroupArgs{
		// Lambda's own name for the function's group; created here first,
		// encrypted and with a retention, before Lambda could create it bare.
		Name:            pulumi.String(names.RotatorLogGroup()),
		RetentionInDays: pulumi.Int(args.LogRetentionDays),
		KmsKeyId:        args.LogsKeyArn,
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("rotator log group: %w", err)
	}

	role, err := iam.NewRole(ctx, l("rotator-role"), &iam.RoleArgs{
		Name:        pulumi.String(roleName),
		Description: pulumi.String("Execution role of " + fnName),
		AssumeRolePolicy: policyJSON(kit.Statement{
			Sid:       "LambdaOfThisAccount",
			Effect:    "Allow",
			Principal: map[string]any{"Service": "lambda.amazonaws.com"},
			Action:    "sts:AssumeRole",
			Condition: map[string]map[string]any{"StringEquals": {"aws:SourceAccount": args.AccountID}},
		}),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("rotator role: %w", err)
	}

	rolePolicy, err := iam.NewRolePolicy(ctx, l("rotator-policy"), &iam.RolePolicyArgs{
		Name:   pulumi.String(names.Name("rotator-policy")),
		Role:   role.Name,
		Policy: rotatorPolicy(args, arn, appArns.ToStringArrayOutput(), masterArn, fnLogs.Arn),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("rotator policy: %w", err)
	}

	// What each application user may be: in a Lambda layer of the
	// function's, which only the deployer can publish and attach
	// (lambda:PublishLayerVersion, lambda:UpdateFunctionConfiguration),
	// never in the secret, which its writers could edit.
	declarations, err := declarationsLayer(ctx, args, users, names, parent)
	if err != nil {
		return nil, err
	}
	env := pulumi.StringMap{
		"SECRETS_MANAGER_ENDPOINT": secretsManagerURL(args),
		"DB_TLS":                   pulumi.String("verify-full"),
		"PASSWORD_LENGTH":          pulumi.String(strconv.Itoa(args.PasswordLength)),
		"EXCLUDE_CHARACTERS":       pulumi.String(args.ExcludeCharacters),
		"MASTER_SECRET_ARN":        masterArn,
		"APP_USERS_FILE":           pulumi.String(AppUsersFile),
		// The function rotates only the secrets it declares (appSecretScope
		// says why its role may then name them by pattern).
		"DECLARED_ONLY": pulumi.String("true"),
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

	fn, err := lambda.NewFunction(ctx, l("rotator"), &lambda.FunctionArgs{
		Name:          pulumi.String(fnName),
		Description:   pulumi.String("Rotates the application credentials of vault " + args.Suffix + " (dbvault rotator " + version.Tag() + ")"),
		Runtime:       pulumi.String("provided.al2023"),
		Architectures: pulumi.ToStringArray([]string{"arm64"}),
		Handler:       pulumi.String("bootstrap"),
		Code:          code,
		// The zip is byte-identical across builds of the same code, so its
		// hash changes, and the function with it, only when the code does.
		SourceCodeHash: hash,
		Role:           role.Arn,
		Timeout:        pulumi.Int(RotatorTimeoutSeconds),
		MemorySize:     pulumi.Int(RotatorMemoryMB),
		VpcConfig: &lambda.FunctionVpcConfigArgs{
			SubnetIds:        args.SubnetIDs,
			SecurityGroupIds: pulumi.StringArray{args.RotatorSecurityGroupID},
		},
		Environment: &lambda.FunctionEnvironmentArgs{Variables: envChecked},
		Layers:      pulumi.StringArray{declarations.Arn},
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

	permissions, err := invokePermissions(ctx, args, apps, fn, appSecretsArnPattern(args, arn), parent)
	if err != nil {
		return nil, err
	}
	for i, a := range apps {
		if err := rotate(ctx, args, a, fn, permissions[i], alert.target, parent); err != nil {
			return nil, err
		}
	}

	var trailArn pulumi.StringOutput
	if args.ExistingTrailName != "" {
		trailArn = pulumi.String(existingTrailArn(args)).ToStringOutput()
		if w := trailElsewhere(args); w != "" {
			if err := ctx.Log.Warn(w, &pulumi.LogArgs{Resource: v}); err != nil {
				return nil, err
			}
		}
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
	v.RotatorCodeSha256 = hash.ToStringOutput()
	v.AlertsTopicArn = alert.topic.Arn
	v.RotationFailedRuleName = alert.ruleName
	v.RotatorChangesRuleName = alert.rotatorRuleName
	v.AlertChangesRuleName = alert.silencingRuleName
	v.TrailArn = trailArn
	v.RotationDays = pulumi.Int(args.RotationDays).ToIntOutput()
	if err := ctx.RegisterResourceOutputs(v, v.Outputs()); err != nil {
		return nil, err
	}
	return v, nil
}

// Outputs are the vault's values as the secrets layer exports them.
func (v *Vault) Outputs() pulumi.Map {
	return pulumi.Map{
		"secretArn":              v.SecretArn,
		"secretName":             v.SecretName,
		"appSecretArns":          v.AppSecretArns,
		"masterSecretArn":        v.MasterSecretArn,
		"rotatorFunctionArn":     v.RotatorFunctionArn,
		"rotatorFunctionName":    v.RotatorFunctionName,
		"rotatorRoleArn":         v.RotatorRoleArn,
		"rotatorCodeSha256":      v.RotatorCodeSha256,
		"alertsTopicArn":         v.AlertsTopicArn,
		"trailArn":               v.TrailArn,
		"rotationFailedRuleName": v.RotationFailedRuleName,
		"rotatorChangesRuleName": v.RotatorChangesRuleName,
		"alertChangesRuleName":   v.AlertChangesRuleName,
		"rotationDays":           v.RotationDays,
	}
}

// existingTrailArn is the ARN of the trail named by ExistingTrailName (a
// name of this account and region, or already an ARN).
func existingTrailArn(args *Args) string {
	if strings.HasPrefix(args.ExistingTrailName, "arn:") {
		return args.ExistingTrailName
	}
	return fmt.Sprintf("arn:%s:cloudtrail:%s:%s:trail/%s", args.Partition, args.Region, args.AccountID, args.ExistingTrailName)
}

// trailElsewhere is a warning when the account's trail belongs to another
// region or account than the vault's, "" otherwise. CloudTrail takes
// StopLogging, DeleteTrail, UpdateTrail and PutEventSelectors on a trail
// only in the region it was created in (StopLogging: "must be called from
// the Region in which the trail was created, or an
// InvalidHomeRegionException will occur":
// https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_StopLogging.html),
// and an organization trail only in the management account, so those
// calls reach EventBridge there, never this region's alert-changes rule.
func trailElsewhere(args *Args) string {
	trail := existingTrailArn(args)
	// arn:partition:cloudtrail:region:account:trail/name
	parts := strings.SplitN(trail, ":", 6)
	if len(parts) < 6 || (parts[3] == args.Region && parts[4] == args.AccountID) {
		return ""
	}
	return fmt.Sprintf("secrets: the account's trail %s belongs to %s in account %s: calls that stop, delete or change it are made there, so this vault's alert-changes rule (region %s) cannot see them; watch that trail where it lives, or set createTrail: true for a trail of the vault's own",
		trail, parts[3], parts[4], args.Region)
}

func policyJSON(statements ...kit.Statement) pulumi.StringOutput {
	return pulumi.String("").ToStringOutput().ApplyT(func(string) (string, error) {
		return kit.NewPolicy(statements...).JSON()
	}).(pulumi.StringOutput)
}

// rotatorCode is the rotator's package and its hash: the workspace build
// when args.RotatorZip is nil, a plain path at once (a missing package fails
// here), or a path known later (it fails through the function's inputs).
func rotatorCode(args *Args) (pulumi.ArchiveInput, pulumi.StringInput, error) {
	hashOf := func(p string) (string, error) {
		if args.RotatorZipSHA256 != "" {
			return args.RotatorZipSHA256, nil
		}
		return sha256File(p)
	}
	var plain string
	switch p := args.RotatorZip.(type) {
	case nil:
	case pulumi.String:
		plain = string(p)
	default:
		path := p.ToStringOutput().ApplyT(func(p string) (string, error) { return resolveZip(p) }).(pulumi.StringOutput)
		code := path.ApplyT(func(p string) pulumi.Archive { return pulumi.NewFileArchive(p) }).(pulumi.ArchiveOutput)
		return code, path.ApplyT(hashOf).(pulumi.StringOutput), nil
	}
	p, err := resolveZip(plain)
	if err != nil {
		return nil, nil, err
	}
	hash, err := hashOf(p)
	if err != nil {
		return nil, nil, err
	}
	return pulumi.NewFileArchive(p), pulumi.String(hash), nil
}
