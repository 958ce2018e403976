// Package secrets is the vault's fourth layer: the Secrets Manager secret
// that holds the Aurora master credentials, the Go rotation Lambda that
// changes them every rotationDays, the alerts when rotation fails, and the
// CloudTrail record of every call on the secret.
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
	// MasterPassword must be a secret.
	MasterPassword pulumi.StringInput
	DBName         pulumi.StringInput
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

	// SubnetIDs and RotatorSecurityGroupID place the rotator in the VPC.
	SubnetIDs              pulumi.StringArrayInput
	RotatorSecurityGroupID pulumi.StringInput
	// SecretsKeyArn encrypts the secret; LogsKeyArn the log groups and the
	// trail; AlertsKeyArn the alerts topic.
	SecretsKeyArn, LogsKeyArn, AlertsKeyArn pulumi.StringInput
	// Database is the cluster whose credentials the secret holds.
	Database Database
}

// Vault is the secret, its rotation and their audit trail.
type Vault struct {
	pulumi.ResourceState

	// SecretArn and SecretName identify the credentials' secret.
	SecretArn  pulumi.StringOutput
	SecretName pulumi.StringOutput
	// RotatorFunctionArn and RotatorFunctionName identify the rotator.
	RotatorFunctionArn  pulumi.StringOutput
	RotatorFunctionName pulumi.StringOutput
	// RotatorRoleArn is the rotator's execution role.
	RotatorRoleArn pulumi.StringOutput
	// AlertsTopicArn receives rotation failures and rotator errors.
	AlertsTopicArn pulumi.StringOutput
	// TrailArn is the trail's ARN, or the name of the existing trail.
	TrailArn pulumi.StringOutput
}

// SecretName is the secret's name in environment suffix.
func SecretName(suffix string) string { return kit.Name("db-credentials", suffix) }

// RotatorName is the rotation function's name in environment suffix.
func RotatorName(suffix string) string { return kit.Name("rotator", suffix) }

// NewVault creates the secrets layer's resources as children of one component.
func NewVault(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Vault, error) {
	v := &Vault{}
	if err := ctx.RegisterComponentResource("dbvault:secrets:Vault", name, v, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(v)
	arn := func(service, resource string) string {
		return fmt.Sprintf("arn:%s:%s:%s:%s:%s", args.Partition, service, args.Region, args.Account, resource)
	}

	secret, err := secretsmanager.NewSecret(ctx, "secret", &secretsmanager.SecretArgs{
		Name:        pulumi.String(SecretName(args.Suffix)),
		Description: pulumi.String("Master credentials of the vault's Aurora MySQL cluster, rotated by " + RotatorName(args.Suffix)),
		KmsKeyId:    args.SecretsKeyArn,
		// 0 deletes at once, so an environment can be destroyed and rebuilt
		// under the same name (a recovery window would block the name).
		RecoveryWindowInDays: pulumi.Int(0),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}

	// The first version, in AWS's JSON shape for MySQL secrets (the one the
	// rotator and AWS's own templates read).
	db := args.Database
	initial := pulumi.All(db.Endpoint, db.Port, db.MasterUsername, db.MasterPassword, db.DBName, db.ClusterIdentifier).ApplyT(
		func(a []any) (string, error) {
			b, err := json.Marshal(map[string]any{
				"engine":              "aurora-mysql",
				"host":                a[0],
				"port":                a[1],
				"username":            a[2],
				"password":            a[3],
				"dbname":              a[4],
				"dbClusterIdentifier": a[5],
			})
			return string(b), err
		}).(pulumi.StringOutput)
	// Created once, then left to rotation:
	//   - ignoreChanges on secretString: after the first rotation the stored
	//     password differs from the one in the database layer's state; a
	//     later `up` must not write the stale one back.
	//   - ignoreChanges on versionStages: rotation moves AWSCURRENT away
	//     from this version (it becomes AWSPREVIOUS, then loses that too);
	//     without this, `up` would move AWSCURRENT back to the stale password.
	//   - the extra label InitialVersionStage: Secrets Manager deprecates,
	//     and eventually deletes, versions that carry no label. If this
	//     version vanished, the provider would see it gone and `up` would
	//     create it again, as AWSCURRENT, with the stale password. A label
	//     of our own keeps the version (and so Pulumi's view of it) alive.
	version, err := secretsmanager.NewSecretVersion(ctx, "initial-version", &secretsmanager.SecretVersionArgs{
		SecretId:      secret.ID(),
		SecretString:  pulumi.ToSecret(initial).(pulumi.StringOutput),
		VersionStages: pulumi.ToStringArray([]string{"AWSCURRENT", InitialVersionStage}),
	}, parent, pulumi.IgnoreChanges([]string{"secretString", "versionStages"}))
	if err != nil {
		return nil, fmt.Errorf("secret version: %w", err)
	}

	fnName := RotatorName(args.Suffix)
	fnLogs, err := cloudwatch.NewLogGroup(ctx, "rotator-logs", &cloudwatch.LogGroupArgs{
		// Lambda's own name for the function's group; created here first,
		// encrypted and with a retention, before Lambda could create it bare.
		Name:            pulumi.String("/aws/lambda/" + fnName),
		RetentionInDays: pulumi.Int(args.LogRetentionDays),
		KmsKeyId:        args.LogsKeyArn,
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("rotator log group: %w", err)
	}

	role, err := iam.NewRole(ctx, "rotator-role", &iam.RoleArgs{
		Name:        pulumi.String(kit.Name("rotator-role", args.Suffix)),
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
		Policy: rotatorPolicy(args, arn, secret.Arn, fnLogs.Arn),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("rotator policy: %w", err)
	}

	fn, err := lambda.NewFunction(ctx, "rotator", &lambda.FunctionArgs{
		Name:          pulumi.String(fnName),
		Description:   pulumi.String("Rotates " + SecretName(args.Suffix) + " (dbvault rotator)"),
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
		Environment: &lambda.FunctionEnvironmentArgs{Variables: pulumi.StringMap{
			// The regional endpoint resolves to the VPC's interface endpoint
			// through its private DNS.
			"SECRETS_MANAGER_ENDPOINT": pulumi.String(fmt.Sprintf("https://secretsmanager.%s.amazonaws.com", args.Region)),
			"DB_TLS":                   pulumi.String("verify-full"),
			"PASSWORD_LENGTH":          pulumi.String(strconv.Itoa(args.PasswordLength)),
			"EXCLUDE_CHARACTERS":       pulumi.String(args.ExcludeCharacters),
		}},
		LoggingConfig: &lambda.FunctionLoggingConfigArgs{
			LogFormat:           pulumi.String("JSON"),
			LogGroup:            fnLogs.Name,
			ApplicationLogLevel: pulumi.String("INFO"),
			SystemLogLevel:      pulumi.String("WARN"),
		},
	}, parent,
		// Lambda checks at creation that the role may manage the VPC's
		// network interfaces: the policy must be attached first. The log
		// group must exist before the first line is written.
		pulumi.DependsOn([]pulumi.Resource{rolePolicy, fnLogs}))
	if err != nil {
		return nil, fmt.Errorf("rotator function: %w", err)
	}

	permission, err := lambda.NewPermission(ctx, "rotator-invoke", &lambda.PermissionArgs{
		StatementId: pulumi.String("SecretsManagerRotatesThisSecret"),
		Action:      pulumi.String("lambda:InvokeFunction"),
		Function:    fn.Name,
		Principal:   pulumi.String("secretsmanager.amazonaws.com"),
		// This account's Secrets Manager, for this secret only.
		SourceAccount: pulumi.String(args.Account),
		SourceArn:     secret.Arn,
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("rotator permission: %w", err)
	}

	// Rotating at once replaces the password that passed through Pulumi's
	// config and state with one that only Secrets Manager has seen.
	_, err = secretsmanager.NewSecretRotation(ctx, "rotation", &secretsmanager.SecretRotationArgs{
		SecretId:          secret.ID(),
		RotationLambdaArn: fn.Arn,
		RotationRules: &secretsmanager.SecretRotationRotationRulesArgs{
			AutomaticallyAfterDays: pulumi.Int(args.RotationDays),
		},
		RotateImmediately: pulumi.Bool(true),
	}, parent, pulumi.DependsOn([]pulumi.Resource{version, permission}))
	if err != nil {
		return nil, fmt.Errorf("rotation: %w", err)
	}

	topic, err := alerts(ctx, args, arn, fn, parent)
	if err != nil {
		return nil, err
	}

	var trailArn pulumi.StringOutput
	if args.ExistingTrailName != "" {
		trailArn = pulumi.String(args.ExistingTrailName).ToStringOutput()
	} else {
		trail, err := newTrail(ctx, args, arn, parent)
		if err != nil {
			return nil, err
		}
		trailArn = trail.Arn
	}

	v.SecretArn = secret.Arn
	v.SecretName = secret.Name
	v.RotatorFunctionArn = fn.Arn
	v.RotatorFunctionName = fn.Name
	v.RotatorRoleArn = role.Arn
	v.AlertsTopicArn = topic.Arn
	v.TrailArn = trailArn
	if err := ctx.RegisterResourceOutputs(v, pulumi.Map{
		"secretArn":           v.SecretArn,
		"secretName":          v.SecretName,
		"rotatorFunctionArn":  v.RotatorFunctionArn,
		"rotatorFunctionName": v.RotatorFunctionName,
		"rotatorRoleArn":      v.RotatorRoleArn,
		"alertsTopicArn":      v.AlertsTopicArn,
		"trailArn":            v.TrailArn,
	}); err != nil {
		return nil, err
	}
	return v, nil
}

// rotatorPolicy is the rotator's least-privilege policy.
func rotatorPolicy(args *Args, arn func(service, resource string) string, secretArn, logGroupArn pulumi.StringOutput) pulumi.StringOutput {
	return pulumi.All(secretArn, logGroupArn, args.SecretsKeyArn, args.SubnetIDs, args.RotatorSecurityGroupID).ApplyT(
		func(a []any) (string, error) {
			secret, logGroup, key := a[0].(string), a[1].(string), a[2].(string)
			subnets := a[3].([]string)
			sg := a[4].(string)
			var subnetArns []string
			for _, s := range subnets {
				subnetArns = append(subnetArns, arn("ec2", "subnet/"+s))
			}
			enis := arn("ec2", "network-interface/*")
			return kit.NewPolicy(
				kit.Statement{
					Sid:      "RotateThisSecret",
					Effect:   "Allow",
					Action:   []string{"secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"},
					Resource: secret,
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
					Sid:      "UseTheSecretsKeyThroughSecretsManagerForThisSecret",
					Effect:   "Allow",
					Action:   []string{"kms:Decrypt", "kms:GenerateDataKey"},
					Resource: key,
					Condition: map[string]map[string]any{"StringEquals": {
						"kms:ViaService":                  fmt.Sprintf("secretsmanager.%s.amazonaws.com", args.Region),
						"kms:EncryptionContext:SecretARN": secret,
					}},
				},
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
					// Interfaces of this account and region; their IDs are
					// Lambda's choice.
					Resource: enis,
				},
				kit.Statement{
					Sid:    "DescribeInterfaces",
					Effect: "Allow",
					Action: []string{"ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"},
					// "*": EC2 Describe actions support no resource-level
					// permissions (Service Authorization Reference).
					Resource: "*",
				},
			).JSON()
		}).(pulumi.StringOutput)
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
}

var (
	emailPattern = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	// A trail name (3 to 128 letters, digits, . _ -) or a trail ARN.
	trailPattern     = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9]|arn:aws[a-z-]*:cloudtrail:[a-z0-9-]+:\d{12}:trail/[A-Za-z0-9._-]+)$`)
	logRetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
)

// LoadConfig reads and validates the layer's configuration, and finds and
// hashes the rotator's zip.
func LoadConfig(ctx *pulumi.Context) (Config, error) {
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
	if c.LogRetentionDays, err = kit.IntConfig(cfg, "logRetentionDays", DefaultLogRetentionDays); err != nil {
		return Config{}, err
	}
	switch {
	case c.RotationDays < 1 || c.RotationDays > MaxRotationDays:
		return Config{}, fmt.Errorf("rotationDays is %d; it must be from 1 to %d (the vault rotates at least every %d days)", c.RotationDays, MaxRotationDays, MaxRotationDays)
	case c.PasswordLength < 8 || c.PasswordLength > MaxPasswordLength:
		return Config{}, fmt.Errorf("passwordLength is %d; it must be from 8 to %d (Aurora MySQL's longest master password)", c.PasswordLength, MaxPasswordLength)
	case !slices.Contains(logRetentionDays, c.LogRetentionDays):
		return Config{}, fmt.Errorf("logRetentionDays is %d; CloudWatch Logs accepts only %v", c.LogRetentionDays, logRetentionDays)
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
	c, err := LoadConfig(ctx)
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
			MasterPassword:    database.String("masterPassword"),
			DBName:            database.String("dbName"),
		},
	})
	if err != nil {
		return nil, err
	}
	return pulumi.Map{
		"secretArn":           v.SecretArn,
		"secretName":          v.SecretName,
		"rotatorFunctionArn":  v.RotatorFunctionArn,
		"rotatorFunctionName": v.RotatorFunctionName,
		"rotatorRoleArn":      v.RotatorRoleArn,
		"alertsTopicArn":      v.AlertsTopicArn,
		"trailArn":            v.TrailArn,
	}, nil
}
