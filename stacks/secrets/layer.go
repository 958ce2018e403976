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
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/dbvault/dbvault/functions/rotator/lambdazip"
	"github.com/dbvault/dbvault/functions/rotator/version"
	"github.com/dbvault/dbvault/stacks/kit"
)

// Layer is the secrets layer: project vault-secrets.
var Layer = kit.NewLayer("secrets", kit.SecretsProject, run)

// loadArgs reads the layer's configuration into the component's arguments,
// leaving every unset key at its zero value, whose default NewVault applies
// (and whose rules NewVault checks); it finds and hashes the rotator's zip.
// What only the configuration can get wrong is refused here: a key that is
// not a number or a list, and administrators, which belong to the kms layer.
func loadArgs(ctx *pulumi.Context) (*Args, error) {
	cfg := config.New(ctx, "")
	a := &Args{
		AlertEmail:        cfg.Get("alertEmail"),
		ExistingTrailName: cfg.Get("existingTrailName"),
		ExcludeCharacters: cfg.Get("excludeCharacters"),
	}
	if err := kit.NonZeroInts(cfg, map[string]*int{
		"rotationDays":       &a.RotationDays,
		"passwordLength":     &a.PasswordLength,
		"logRetentionDays":   &a.LogRetentionDays,
		"trailRetentionDays": &a.TrailRetentionDays,
	}, "remove the key for its default, or see Pulumi.yaml for its range"); err != nil {
		return nil, err
	}
	if cfg.Get("administrators") != "" {
		return nil, fmt.Errorf("administrators is set in the secrets layer, but the vault's administrators are declared once, in the kms layer, which this layer reads: set the list in stacks/kms (pulumi config set --path 'administrators[0]' <arn>, then `go run mage.go up:kms`) and remove it here with `pulumi config rm administrators` in stacks/secrets")
	}
	if err := kit.ObjectConfig(cfg, "appUsers", &a.AppUsers); err != nil {
		return nil, fmt.Errorf("%w; appUsers is a list of {name, database, privileges, readers}", err)
	}
	zip, err := resolveZip(cfg.Get("rotatorZip"))
	if err != nil {
		return nil, err
	}
	a.RotatorZip = pulumi.String(zip)
	if a.RotatorZipSHA256, err = sha256File(zip); err != nil {
		return nil, err
	}
	return a, nil
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
		return "", fmt.Errorf("rotator zip %s does not exist: build the rotator first: go run mage.go dev:build", p)
	case err != nil:
		return "", fmt.Errorf("rotator zip: %w", err)
	case info.IsDir():
		return "", fmt.Errorf("rotator zip %s is a directory: set rotatorZip to the zip that `go run mage.go dev:build` writes", p)
	}
	return p, nil
}

// rotatorModule is the module that holds the rotator's code, a requirement
// of this one.
const rotatorModule = "github.com/dbvault/dbvault/functions/rotator"

// defaultZip is the rotator's zip when none is named. In this repository
// (a go.work beside functions/rotator at or above the working directory)
// it is DefaultRotatorZip, which `go run mage.go dev:build` writes. Anywhere
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

func run(ctx *pulumi.Context, common kit.Common) (pulumi.Map, error) {
	args, err := loadArgs(ctx)
	if err != nil {
		return nil, err
	}
	account, deployer, err := common.Deployer(ctx)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	partition, err := aws.GetPartition(ctx, nil, common.AWS())
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
	// Whether the cluster is the team's decides whether the vault sets its
	// master secret's policy: a choice of resources, so a plain value.
	existingCluster, err := database.OptionalBool("existingCluster")
	if err != nil {
		return nil, err
	}
	args.Suffix, args.Region, args.AccountID, args.Partition = common.Suffix, common.Region, account, partition.Partition
	args.Production = common.Production()
	args.SubnetIDs = network.Strings("privateSubnetIds")
	args.RotatorSecurityGroupID = network.String("rotatorSecurityGroupId")
	args.SecretsManagerEndpoint = network.OptionalString("secretsManagerEndpointUrl")
	args.SecretsKeyArn = keys.String("secretsKeyArn")
	args.LogsKeyArn = keys.String("logsKeyArn")
	args.AlertsKeyArn = keys.String("alertsKeyArn")
	// Declared once, in the kms layer; the deployer must be one of them
	// (kit.CheckDeployer says why).
	args.Administrators = kit.RequireDeployer(deployer, keys.Strings("administrators"))
	args.Database = Database{
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
	}
	v, err := NewVault(ctx, kit.VaultComponent, args, common.AWS())
	if err != nil {
		return nil, err
	}
	return v.Outputs(), nil
}
