package secrets_test

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dbvault/dbvault/stacks/database"
	"github.com/dbvault/dbvault/stacks/kit"
	"github.com/dbvault/dbvault/stacks/kit/awsfake"
	"github.com/dbvault/dbvault/stacks/kit/kittest"
	"github.com/dbvault/dbvault/stacks/kit/mock"
	"github.com/dbvault/dbvault/stacks/secrets"
)

// withTrail are the vault's required arguments with the rotator's package
// at zipPath (an input known only once resolved, as another resource's
// output would be) and the account's trail.
func withTrail(zipPath pulumi.StringInput) *secrets.Args {
	args := requiredArgs(zipPath)
	args.ExistingTrailName = "org-trail"
	return args
}

// The rotator's package may be an output of another resource: the function
// gets that package and its hash once it is known.
func TestRotatorPackageFromAnInput(t *testing.T) {
	p := mock.WriteRotatorZip(t, t.TempDir(), "built elsewhere")
	res, err := kittest.Build(t, secrets.NewVault, "orders", withTrail(pulumi.String(p).ToStringOutput()))
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
	_, err = kittest.Build(t, secrets.NewVault, "orders", withTrail(pulumi.String(filepath.Join(t.TempDir(), "missing.zip")).ToStringOutput()))
	if err == nil || !strings.Contains(err.Error(), "build the rotator first") {
		t.Errorf("a missing package from an input: err = %v", err)
	}
	if _, err := kittest.Build(t, secrets.NewVault, "Orders", withTrail(pulumi.String(p))); err == nil || !strings.Contains(err.Error(), "component name") {
		t.Errorf("a bad component name: err = %v", err)
	}
}

// A program that builds both components hands the database's outputs to
// the vault as one value (secrets.DatabaseOf): with a team's existing
// cluster, the vault then sets no policy on the team's master secret and
// lets the rotator decrypt it with the team's key, exactly as the stacks do.
func TestDatabaseOfCarriesTheExistingCluster(t *testing.T) {
	fake := awsfake.Default()
	zip := pulumi.String(mock.RotatorZip(t))
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
		args := requiredArgs(zip)
		args.ExistingTrailName = "org-trail"
		args.Database = secrets.DatabaseOf(db)
		_, err = secrets.NewVault(ctx, "orders", args)
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

// requiredArgs are the vault's required arguments alone, with the
// rotator's package at zip.
func requiredArgs(zip pulumi.StringInput) *secrets.Args {
	return &secrets.Args{
		Suffix: suffix, Region: region, AccountID: account,
		RotatorZip:             zip,
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
	}
}

// A program that gives only the required arguments gets the documented
// defaults: a 30-day rotation, 32-character passwords without / @ " ' and
// the others, logs kept 90 days, one application user app, partition aws;
// and the caller's Args are left as they were.
func TestOnlyRequiredArgsGiveTheDefaults(t *testing.T) {
	args := requiredArgs(pulumi.String(mock.RotatorZip(t)))
	res, err := kittest.Build(t, secrets.NewVault, "vault", args)
	if err != nil {
		t.Fatal(err)
	}
	if args.RotationDays != 0 || args.AppUsers != nil || args.Partition != "" {
		t.Errorf("NewVault changed the caller's Args: %+v", args)
	}
	if got := num(one(t, res, "aws:secretsmanager/secretRotation:SecretRotation"), "rotationRules", "automaticallyAfterDays"); got != secrets.DefaultRotationDays {
		t.Errorf("rotation every %v days, want %d", got, secrets.DefaultRotationDays)
	}
	fn := one(t, res, "aws:lambda/function:Function")
	if got := str(fn, "environment", "variables", "PASSWORD_LENGTH"); got != fmt.Sprint(secrets.DefaultPasswordLength) {
		t.Errorf("PASSWORD_LENGTH %q, want %d", got, secrets.DefaultPasswordLength)
	}
	if got := str(fn, "environment", "variables", "EXCLUDE_CHARACTERS"); got != secrets.DefaultExcludeCharacters {
		t.Errorf("EXCLUDE_CHARACTERS %q, want the default", got)
	}
	for _, lg := range res.ByType("aws:cloudwatch/logGroup:LogGroup") {
		if got := num(lg, "retentionInDays"); got != secrets.DefaultLogRetentionDays {
			t.Errorf("%s kept %v days, want %d", lg.Name, got, secrets.DefaultLogRetentionDays)
		}
	}
	if s := one(t, res, "aws:secretsmanager/secret:Secret"); str(s, "name") != "db-credentials-app-dev" {
		t.Errorf("the one application secret is %q, want db-credentials-app-dev", str(s, "name"))
	}
	if a := fmt.Sprint(res.Outputs["rotatorRoleArn"].Value); !strings.HasPrefix(a, "arn:aws:iam::") {
		t.Errorf("rotatorRoleArn %s: want the aws partition", a)
	}
}

// Each invalid argument is refused with an error that names it and its
// rule, before anything is registered.
func TestInvalidArgsAreRefused(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(a *secrets.Args)
		want string
	}{
		{"rotation too long", func(a *secrets.Args) { a.RotationDays = 31 }, "RotationDays is 31; it must be from 1 to 30"},
		{"negative rotation", func(a *secrets.Args) { a.RotationDays = -1 }, "RotationDays is -1"},
		{"short password", func(a *secrets.Args) { a.PasswordLength = 7 }, "PasswordLength is 7; it must be from 8 to 41"},
		{"exclusions without @", func(a *secrets.Args) { a.ExcludeCharacters = `/"'` }, "ExcludeCharacters must contain"},
		{"retention CloudWatch refuses", func(a *secrets.Args) { a.LogRetentionDays = 10 }, "LogRetentionDays is 10; CloudWatch Logs accepts only"},
		{"production retention too short", func(a *secrets.Args) { a.Production = true; a.LogRetentionDays = 90 }, "LogRetentionDays is 90; a production environment keeps logs at least 365 days"},
		{"e-mail", func(a *secrets.Args) { a.AlertEmail = "oncall" }, `AlertEmail "oncall" is not an e-mail address`},
		{"trail", func(a *secrets.Args) { a.ExistingTrailName = "a b" }, `ExistingTrailName "a b" is neither a trail name nor a trail ARN`},
		{"no region", func(a *secrets.Args) { a.Region = "" }, "Region and AccountID are required"},
		{"no database", func(a *secrets.Args) { a.Database = secrets.Database{} }, "Database is required"},
		{"no keys", func(a *secrets.Args) { a.LogsKeyArn = nil }, "SecretsKeyArn, LogsKeyArn and AlertsKeyArn are required"},
		{"no subnets", func(a *secrets.Args) { a.SubnetIDs = nil }, "SubnetIDs and RotatorSecurityGroupID are required"},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := requiredArgs(pulumi.String(mock.RotatorZip(t)))
			c.edit(args)
			res, err := kittest.Build(t, secrets.NewVault, "vault", args)
			kittest.Refused(t, err, "secrets: "+c.want)
			kittest.NothingRegistered(t, res)
		})
	}
}

// Without Args the component says what it needs instead of panicking.
func TestNilArgsAreRefused(t *testing.T) {
	res, err := kittest.Build(t, secrets.NewVault, "vault", (*secrets.Args)(nil))
	kittest.Refused(t, err, "secrets: args are nil: ")
	kittest.NothingRegistered(t, res)
}

// A caller's Protect(true) on the vault reaches its secrets and its trail's
// bucket in an ephemeral environment too: the component sets no protect of
// its own there, which would override the caller's.
func TestCallersProtectReachesTheSecretsAndTheTrail(t *testing.T) {
	res, err := kittest.Build(t, secrets.NewVault, "vault", requiredArgs(pulumi.String(mock.RotatorZip(t))), pulumi.Protect(true))
	if err != nil {
		t.Fatal(err)
	}
	data := append(res.ByType("aws:secretsmanager/secret:Secret"), res.ByType("aws:s3/bucketV2:BucketV2")...)
	if len(data) != 2 {
		t.Fatalf("%d secrets and buckets, want 2", len(data))
	}
	for _, r := range data {
		if !r.Options.Protect {
			t.Errorf("%s is not protected though its component is", r.Name)
		}
	}
}
