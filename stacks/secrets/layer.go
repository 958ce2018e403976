package secrets

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/dbvault/dbvault/functions/rotator/lambdazip"
	"github.com/dbvault/dbvault/functions/rotator/version"
	"github.com/dbvault/dbvault/stacks/kit"
)

// Layer is the secrets layer: project vault-secrets.
var Layer = kit.Layer{Name: "secrets", Project: kit.SecretsProject, Run: run}

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
	// TrailRetentionDays is config trailRetentionDays; 0 when unset (the
	// class's default, which NewVault applies and checks).
	TrailRetentionDays int
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
	if c.TrailRetentionDays, err = kit.IntConfig(cfg, "trailRetentionDays", 0); err != nil {
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
	if cfg.Get("administrators") != "" {
		return Config{}, fmt.Errorf("administrators is set in the secrets layer, but the vault's administrators are declared once, in the kms layer, which this layer reads: set the list in stacks/kms (pulumi config set --path 'administrators[0]' <arn>, then `go run mage.go up:kms`) and remove it here with `pulumi config rm administrators` in stacks/secrets")
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
// defaultZip), relative to the repository root when not absolute.
func resolveZip(p string) (string, error) {
	if p == "" {
		d, err := defaultZip()
		if err != nil {
			return "", err
		}
		p = d
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

// rotatorModule is the module that holds the rotator's code, a requirement
// of this one.
const rotatorModule = "github.com/dbvault/dbvault/functions/rotator"

// defaultZip is the rotator's zip when none is named. In this repository
// (a go.work beside functions/rotator at or above the working directory)
// it is DefaultRotatorZip, which `go run mage.go build` writes. Anywhere
// else it is a team's own program, which requires this module and so the
// rotator's: the rotator is built from that module's folder in the module
// cache, the same way the release builds it (functions/rotator/lambdazip),
// so the zip is the release's, byte for byte, with the same Go release.
func defaultZip() (string, error) {
	if root, err := repoRoot(); err == nil {
		if _, err := os.Stat(filepath.Join(root, "functions", "rotator")); err == nil {
			return filepath.Join(root, DefaultRotatorZip), nil
		}
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("rotator zip: %w", err)
	}
	// The version the program was built with: go list -m reads the
	// program's module (the working directory, where pulumi runs it).
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", rotatorModule).Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		var stderr string
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			stderr = strings.TrimSpace(string(ee.Stderr))
		}
		return "", fmt.Errorf("rotator zip: no rotatorZip is set, and the rotator's module is not found from %s (go list -m %s: %v %s): run the program from its module's folder after go mod download, or set rotatorZip (RotatorZip) to the release's rotator zip", wd, rotatorModule, err, stderr)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("rotator zip: no folder to build the rotator in: %w; set rotatorZip (RotatorZip) to the release's rotator zip", err)
	}
	r, err := lambdazip.Build(context.Background(), dir, filepath.Join(cache, "dbvault", "rotator-"+version.Tag()), "rotator.zip", "main.version="+version.Version)
	if err != nil {
		return "", fmt.Errorf("rotator zip: building the rotator from %s: %w", dir, err)
	}
	return r.Zip, nil
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
	identity, err := aws.GetCallerIdentity(ctx, nil, common.AWS())
	if err != nil {
		return nil, fmt.Errorf("caller identity: %w", err)
	}
	partition, err := aws.GetPartition(ctx, nil, common.AWS())
	if err != nil {
		return nil, fmt.Errorf("partition: %w", err)
	}
	deployer, err := kit.DeployingPrincipal(ctx, identity.Arn, common.AWS())
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
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
	// Whether the cluster is the team's decides whether the vault sets its
	// master secret's policy: a choice of resources, so a plain value.
	existingCluster, err := database.OptionalBool("existingCluster")
	if err != nil {
		return nil, err
	}
	v, err := NewVault(ctx, kit.VaultComponent, &Args{
		Suffix:                 common.Suffix,
		Region:                 common.Region,
		Account:                identity.AccountId,
		Partition:              partition.Partition,
		RotatorZip:             pulumi.String(c.RotatorZip),
		RotatorZipSHA256:       c.RotatorZipSHA256,
		RotationDays:           c.RotationDays,
		PasswordLength:         c.PasswordLength,
		ExcludeCharacters:      c.ExcludeCharacters,
		LogRetentionDays:       c.LogRetentionDays,
		AlertEmail:             c.AlertEmail,
		ExistingTrailName:      c.ExistingTrailName,
		TrailRetentionDays:     c.TrailRetentionDays,
		SubnetIDs:              network.Strings("privateSubnetIds"),
		RotatorSecurityGroupID: network.String("rotatorSecurityGroupId"),
		SecretsManagerEndpoint: network.OptionalString("secretsManagerEndpointUrl"),
		SecretsKeyArn:          keys.String("secretsKeyArn"),
		LogsKeyArn:             keys.String("logsKeyArn"),
		AlertsKeyArn:           keys.String("alertsKeyArn"),
		Database: Database{
			ClusterIdentifier: database.String("clusterIdentifier"),
			Endpoint:          database.String("clusterEndpoint"),
			Port:              database.Int("port"),
			MasterUsername:    database.String("masterUsername"),
			MasterSecretArn:   database.String("masterSecretArn"),
			// Absent from a database stack deployed before it existed:
			// the vault's own cluster, whose secret the secrets key
			// encrypts.
			MasterSecretKeyArn: pulumi.All(database.OptionalString("masterSecretKeyArn"), keys.String("secretsKeyArn")).ApplyT(
				func(a []any) string {
					if existingCluster || a[0].(string) != "" {
						return a[0].(string)
					}
					return a[1].(string)
				}).(pulumi.StringOutput),
			Existing: existingCluster,
			DBName:   database.String("dbName"),
		},
		AppUsers:   c.AppUsers,
		Production: common.Production(),
		// Declared once, in the kms layer; the deployer must be one of
		// them (kit.CheckDeployer says why).
		Administrators: kit.RequireDeployer(deployer, keys.Strings("administrators")),
	}, common.AWS())
	if err != nil {
		return nil, err
	}
	return v.outputs(), nil
}
