package secrets_test

import (
	"crypto/sha256"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dbvault/dbvault/stacks/database"
	"github.com/dbvault/dbvault/stacks/kit"
	"github.com/dbvault/dbvault/stacks/kit/awsfake"
	"github.com/dbvault/dbvault/stacks/kit/mock"
	"github.com/dbvault/dbvault/stacks/secrets"
)

// vaultProgram builds the Vault component directly, as another program
// would, named name, with the rotator's package at zipPath (an input known
// only once resolved, as another resource's output would be).
func vaultProgram(name string, zipPath pulumi.StringInput) kit.Layer {
	return kit.Layer{Name: "component", Project: "component", Run: func(ctx *pulumi.Context) (pulumi.Map, error) {
		v, err := secrets.NewVault(ctx, name, &secrets.Args{
			Suffix: suffix, Region: region, Account: account, Partition: "aws",
			RotatorZip:             zipPath,
			RotationDays:           secrets.DefaultRotationDays,
			PasswordLength:         secrets.DefaultPasswordLength,
			ExcludeCharacters:      secrets.DefaultExcludeCharacters,
			LogRetentionDays:       secrets.DefaultLogRetentionDays,
			ExistingTrailName:      "org-trail",
			AppUsers:               []secrets.AppUser{secrets.DefaultAppUser()},
			Administrators:         pulumi.ToStringArray([]string{deployer}),
			SubnetIDs:              pulumi.ToStringArray(subnets),
			RotatorSecurityGroupID: pulumi.String(rotatorSG),
			SecretsKeyArn:          pulumi.String(secretsKeyArn),
			LogsKeyArn:             pulumi.String(logsKeyArn),
			AlertsKeyArn:           pulumi.String(alertsKeyArn),
			Database: secrets.Database{
				ClusterIdentifier: pulumi.String("aurora-cluster-dev"),
				Endpoint:          pulumi.String(endpoint),
				Port:              pulumi.Int(3306),
				MasterUsername:    pulumi.String("dbadmin"),
				MasterSecretArn:   pulumi.String(masterSecretArn),
				DBName:            pulumi.String("vault"),
			},
		})
		if err != nil {
			return nil, err
		}
		return pulumi.Map{"rotatorFunctionName": v.RotatorFunctionName}, nil
	}}
}

// The rotator's package may be an output of another resource: the function
// gets that package and its hash once it is known.
func TestRotatorPackageFromAnInput(t *testing.T) {
	p := mock.WriteRotatorZip(t, t.TempDir(), "built elsewhere")
	res, err := mock.Run(vaultProgram("orders", pulumi.String(p).ToStringOutput()), mock.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fn := one(t, res, "aws:lambda/function:Function")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if got, want := str(fn, "sourceCodeHash"), base64.StdEncoding.EncodeToString(sum[:]); got != want {
		t.Errorf("sourceCodeHash = %q, want %q", got, want)
	}
	if got := fn.Input("code"); got != p {
		t.Errorf("code = %v, want %s", got, p)
	}
	if got := res.Outputs["rotatorFunctionName"].Value; got != "orders-rotator-dev" {
		t.Errorf("rotator %v, want orders-rotator-dev (the component's name prefixes it)", got)
	}
	_, err = mock.Run(vaultProgram("orders", pulumi.String(filepath.Join(t.TempDir(), "missing.zip")).ToStringOutput()), mock.RunOptions{})
	if err == nil || !strings.Contains(err.Error(), "build the rotator first") {
		t.Errorf("a missing package from an input: err = %v", err)
	}
	if _, err := mock.Run(vaultProgram("Orders", pulumi.String(p)), mock.RunOptions{}); err == nil || !strings.Contains(err.Error(), "component name") {
		t.Errorf("a bad component name: err = %v", err)
	}
}

// A program that builds both components hands the database's outputs to
// the vault as one value (secrets.DatabaseOf): with a team's existing
// cluster, the vault then sets no policy on the team's master secret and
// lets the rotator decrypt it with the team's key, exactly as the stacks do.
func TestDatabaseOfCarriesTheExistingCluster(t *testing.T) {
	fake := awsfake.Default()
	program := kit.Layer{Name: "component", Project: "component", Run: func(ctx *pulumi.Context) (pulumi.Map, error) {
		db, err := database.NewDatabase(ctx, "orders", &database.Args{
			Suffix: suffix, Region: region, AccountID: account,
			Existing:               &database.Existing{ClusterIdentifier: awsfake.ExistingClusterIdentifier},
			RotatorSecurityGroupID: pulumi.String(rotatorSG),
			VpcID:                  pulumi.String(fake.ExistingVpcID()),
			SecretsKeyArn:          pulumi.String(secretsKeyArn),
			LogsKeyArn:             pulumi.String(logsKeyArn),
			LogRetentionDays:       database.DefaultLogRetentionDays,
		})
		if err != nil {
			return nil, err
		}
		_, err = secrets.NewVault(ctx, "orders", &secrets.Args{
			Suffix: suffix, Region: region, Account: account, Partition: "aws",
			RotatorZip:             pulumi.String(mock.RotatorZip(t)),
			RotationDays:           secrets.DefaultRotationDays,
			PasswordLength:         secrets.DefaultPasswordLength,
			ExcludeCharacters:      secrets.DefaultExcludeCharacters,
			LogRetentionDays:       secrets.DefaultLogRetentionDays,
			ExistingTrailName:      "org-trail",
			AppUsers:               []secrets.AppUser{secrets.DefaultAppUser()},
			Administrators:         pulumi.ToStringArray([]string{deployer}),
			SubnetIDs:              pulumi.ToStringArray(subnets),
			RotatorSecurityGroupID: pulumi.String(rotatorSG),
			SecretsKeyArn:          pulumi.String(secretsKeyArn),
			LogsKeyArn:             pulumi.String(logsKeyArn),
			AlertsKeyArn:           pulumi.String(alertsKeyArn),
			Database:               secrets.DatabaseOf(db),
		})
		return pulumi.Map{}, err
	}}
	res, err := mock.Run(program, mock.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.ByType("aws:secretsmanager/secretPolicy:SecretPolicy") {
		if str(p, "secretArn") == fake.ExistingClusterMasterSecretArn() {
			t.Errorf("a resource policy on the team's master secret (%s)", p.Name)
		}
	}
	s, ok := policy(t, str(named(t, res, "aws:iam/rolePolicy:RolePolicy", "orders-rotator-policy"), "policy"))["DecryptTheMasterSecret"]
	if !ok || len(s.Resource) != 1 || s.Resource[0] != fake.ExistingKeyArn() {
		t.Errorf("DecryptTheMasterSecret %+v, want the team's key %s", s, fake.ExistingKeyArn())
	}
	fn := one(t, res, "aws:lambda/function:Function")
	if got := str(fn, "environment", "variables", "MASTER_SECRET_ARN"); got != fake.ExistingClusterMasterSecretArn() {
		t.Errorf("MASTER_SECRET_ARN %q, want the team's master secret", got)
	}
}
