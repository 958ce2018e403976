package database_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dbvault/dbvault/stacks/database"
	"github.com/dbvault/dbvault/stacks/kit"
	"github.com/dbvault/dbvault/stacks/kit/awsfake"
	"github.com/dbvault/dbvault/stacks/kit/kittest"
	"github.com/dbvault/dbvault/stacks/kit/mock"
)

// requiredArgs are only the arguments NewDatabase requires for a cluster of
// its own; every other field is left at its zero value.
func requiredArgs() *database.Args {
	return &database.Args{
		Suffix:            suffix,
		Region:            region,
		AccountID:         account,
		SubnetIDs:         pulumi.ToStringArray([]string{"subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"}),
		AvailabilityZones: pulumi.ToStringArray([]string{"us-east-1a", "us-east-1b"}),
		SecurityGroupID:   pulumi.String(dbSG),
		DatabaseKeyArn:    pulumi.String(dbKeyArn),
		SecretsKeyArn:     pulumi.String(secretsKeyArn),
		LogsKeyArn:        pulumi.String(logsKeyArn),
		VpcID:             pulumi.String(vpcID),
	}
}

// runComponent builds one Database from args under the mocks. A refusal
// by NewDatabase is returned as newErr, with what the run registered
// (res) and whether NewDatabase returned a component with it.
func runComponent(t *testing.T, args *database.Args) (res mock.Result, created bool, newErr error) {
	t.Helper()
	layer := kit.Layer{Name: "component", Project: "component", Run: func(ctx *pulumi.Context) (pulumi.Map, error) {
		d, err := database.NewDatabase(ctx, kit.DatabaseComponent, args)
		created = d != nil
		if err != nil {
			// The run goes on, so that res shows what was registered.
			newErr = err
			return pulumi.Map{}, nil
		}
		return d.Outputs(), nil
	}}
	res, err := mock.Run(layer, mock.RunOptions{})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return res, created, newErr
}

// A program that gives NewDatabase only the required arguments gets the
// documented default for every other one, in an ephemeral and in a
// production environment, and the caller's Args stay as they were.
func TestOnlyRequiredArgsGiveTheDefaults(t *testing.T) {
	for _, production := range []bool{false, true} {
		args := requiredArgs()
		args.Production = production
		before := *args
		res, _, err := runComponent(t, args)
		if err != nil {
			t.Fatalf("production %v: %v", production, err)
		}
		if !reflect.DeepEqual(*args, before) {
			t.Errorf("production %v: NewDatabase changed the caller's Args: %+v, was %+v", production, *args, before)
		}
		c := one(t, res, "aws:rds/cluster:Cluster")
		if got := str(c, "engineVersion"); got != database.DefaultEngineVersion {
			t.Errorf("engineVersion %q, want %q", got, database.DefaultEngineVersion)
		}
		if got := str(c, "masterUsername"); got != database.DefaultMasterUsername {
			t.Errorf("masterUsername %q, want %q", got, database.DefaultMasterUsername)
		}
		if got := str(c, "databaseName"); got != database.DefaultDBName {
			t.Errorf("databaseName %q, want %q", got, database.DefaultDBName)
		}
		if got := number(t, c, "backupRetentionPeriod"); got != database.DefaultBackupRetentionDays {
			t.Errorf("backupRetentionPeriod %d, want %d", got, database.DefaultBackupRetentionDays)
		}
		// ApplyEngineVersion off: the version RDS runs is kept.
		if !slices.Contains(c.Options.IgnoreChanges, "engineVersion") {
			t.Errorf("engineVersion is not ignored: ApplyEngineVersion defaults to off")
		}
		// CreatedAt zero: the final snapshot is named from now.
		if !finalSnapshotPattern.MatchString(str(c, "finalSnapshotIdentifier")) {
			t.Errorf("finalSnapshotIdentifier %q, want final-dev-<creation time>", str(c, "finalSnapshotIdentifier"))
		}
		if boolean(t, c, "applyImmediately") {
			t.Errorf("applyImmediately without applyEngineVersion")
		}
		if boolean(t, c, "deleteAutomatedBackups") == production {
			t.Errorf("production %v: deleteAutomatedBackups %v", production, boolean(t, c, "deleteAutomatedBackups"))
		}
		if boolean(t, c, "deletionProtection") != production || boolean(t, c, "skipFinalSnapshot") == production || c.Options.Protect != production {
			t.Errorf("production %v: deletionProtection %v skipFinalSnapshot %v protect %v", production,
				boolean(t, c, "deletionProtection"), boolean(t, c, "skipFinalSnapshot"), c.Options.Protect)
		}
		instances := res.ByType("aws:rds/clusterInstance:ClusterInstance")
		if len(instances) != database.InstanceCount {
			t.Fatalf("%d instances, want %d", len(instances), database.InstanceCount)
		}
		for _, in := range instances {
			if got := str(in, "instanceClass"); got != database.DefaultInstanceClass {
				t.Errorf("%s: instanceClass %q, want %q", in.Name, got, database.DefaultInstanceClass)
			}
		}
		rotation := one(t, res, "aws:secretsmanager/secretRotation:SecretRotation")
		rules := plain(rotation.Inputs["rotationRules"]).ObjectValue()
		if got := int(plain(rules["automaticallyAfterDays"]).NumberValue()); got != database.DefaultMasterRotationDays {
			t.Errorf("master rotation every %d days, want %d", got, database.DefaultMasterRotationDays)
		}
		wantDays := database.DefaultLogRetentionDays
		if production {
			wantDays = kit.ProductionMinLogRetentionDays
		}
		groups := res.ByType("aws:cloudwatch/logGroup:LogGroup")
		if len(groups) != len(database.LogTypes)+1 {
			t.Fatalf("%d log groups, want one per log type and the flow log's", len(groups))
		}
		for _, lg := range groups {
			if got := number(t, lg, "retentionInDays"); got != wantDays {
				t.Errorf("production %v: %s keeps logs %d days, want %d", production, lg.Name, got, wantDays)
			}
		}
	}
}

// Every invalid argument is refused before anything is registered, with
// an error that names the field and its rule.
func TestInvalidArgsAreRefused(t *testing.T) {
	cases := []struct {
		name string
		edit func(a *database.Args)
		want string
	}{
		{"no suffix", func(a *database.Args) { a.Suffix = "" }, `Suffix is "": environmentSuffix is required`},
		{"suffix", func(a *database.Args) { a.Suffix = "Dev_1" }, `Suffix is "Dev_1": environmentSuffix "Dev_1" may hold only lower-case letters`},
		{"no account", func(a *database.Args) { a.AccountID = "" }, "AccountID is required"},
		{"no region", func(a *database.Args) { a.Region = "" }, "Region is required"},
		{"engine version", func(a *database.Args) { a.EngineVersion = "5.7.mysql_aurora.2.12.5" }, `EngineVersion is "5.7.mysql_aurora.2.12.5": it must be an Aurora MySQL 3 (MySQL 8.0) version`},
		{"instance class", func(a *database.Args) { a.InstanceClass = "t3.medium" }, `InstanceClass is "t3.medium": it must be a DB instance class`},
		{"small class", func(a *database.Args) { a.InstanceClass = "db.t4g.small" }, `InstanceClass is "db.t4g.small": Aurora MySQL 8.0 does not support db.t4g.small`},
		{"t2 class", func(a *database.Args) { a.InstanceClass = "db.t2.medium" }, `InstanceClass is "db.t2.medium": Aurora MySQL 8.0 does not support db.t2.medium`},
		{"username", func(a *database.Args) { a.MasterUsername = "1admin" }, `MasterUsername is "1admin": it must be 1 to 16 letters`},
		{"rdsadmin", func(a *database.Args) { a.MasterUsername = "RDSAdmin" }, `MasterUsername is "RDSAdmin": it must be 1 to 16 letters, digits or underscores, start with a letter, and not be rdsadmin`},
		{"rotation", func(a *database.Args) { a.MasterRotationDays = 31 }, "MasterRotationDays is 31: it must be from 1 to 30"},
		{"negative rotation", func(a *database.Args) { a.MasterRotationDays = -1 }, "MasterRotationDays is -1: it must be from 1 to 30"},
		{"database name", func(a *database.Args) { a.DBName = "my-db" }, `DBName is "my-db": it must be 1 to 64 letters`},
		{"backups", func(a *database.Args) { a.BackupRetentionDays = 36 }, "BackupRetentionDays is 36: Aurora keeps automated backups 1 to 35 days"},
		{"log retention", func(a *database.Args) { a.LogRetentionDays = 8 }, "LogRetentionDays is 8; CloudWatch Logs accepts only"},
		{"production log retention", func(a *database.Args) { a.Production = true; a.LogRetentionDays = 90 }, "LogRetentionDays is 90; a production environment keeps logs at least 365 days"},
		{"no secrets key", func(a *database.Args) { a.SecretsKeyArn = nil }, "SecretsKeyArn is required"},
		{"no logs key", func(a *database.Args) { a.LogsKeyArn = nil }, "LogsKeyArn is required"},
		{"no VPC", func(a *database.Args) { a.VpcID = nil }, "VpcID is required"},
		{"no subnets", func(a *database.Args) { a.SubnetIDs = nil }, "SubnetIDs is required without Existing"},
		{"no zones", func(a *database.Args) { a.AvailabilityZones = nil }, "AvailabilityZones is required without Existing"},
		{"no security group", func(a *database.Args) { a.SecurityGroupID = nil }, "SecurityGroupID is required without Existing"},
		{"no database key", func(a *database.Args) { a.DatabaseKeyArn = nil }, "DatabaseKeyArn is required without Existing"},
		{"existing identifier", func(a *database.Args) {
			a.Existing = &database.Existing{ClusterIdentifier: "team_aurora!"}
			a.RotatorSecurityGroupID = pulumi.String(rotatorSG)
		}, `Existing.ClusterIdentifier is "team_aurora!": it must be a DB cluster identifier`},
		{"existing security group", func(a *database.Args) {
			a.Existing = &database.Existing{ClusterIdentifier: awsfake.ExistingClusterIdentifier, SecurityGroupID: "group-1"}
			a.RotatorSecurityGroupID = pulumi.String(rotatorSG)
		}, `Existing.SecurityGroupID is "group-1": it must be a security group ID`},
		{"existing secret", func(a *database.Args) {
			a.Existing = &database.Existing{ClusterIdentifier: awsfake.ExistingClusterIdentifier, MasterSecretArn: "master"}
			a.RotatorSecurityGroupID = pulumi.String(rotatorSG)
		}, `Existing.MasterSecretArn is "master": it must be a Secrets Manager secret ARN`},
		{"existing database name", func(a *database.Args) {
			a.Existing = &database.Existing{ClusterIdentifier: awsfake.ExistingClusterIdentifier, DBName: "my-db"}
			a.RotatorSecurityGroupID = pulumi.String(rotatorSG)
		}, `Existing.DBName is "my-db": it must be 1 to 64 letters`},
		{"existing without the rotator's group", func(a *database.Args) {
			a.Existing = &database.Existing{ClusterIdentifier: awsfake.ExistingClusterIdentifier}
		}, "RotatorSecurityGroupID is required with Existing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := requiredArgs()
			tc.edit(args)
			res, created, err := runComponent(t, args)
			if err == nil {
				t.Fatalf("no error; registered %d resources", len(res.Resources))
			}
			if want := "database: " + tc.want; !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
			if created {
				t.Error("NewDatabase returned a component with its error")
			}
			for _, r := range res.Resources {
				if r.Type != "pulumi:pulumi:Stack" {
					t.Errorf("%s %s registered although the Args were refused", r.Type, r.Name)
				}
			}
		})
	}
	// The same arguments with the field valid are accepted: the refusals
	// above are the field's, not the run's.
	if _, _, err := runComponent(t, requiredArgs()); err != nil {
		t.Fatalf("the required arguments alone: %v", err)
	}
}

// Without Args the component says what it needs instead of panicking.
func TestNilArgsAreRefused(t *testing.T) {
	res, err := kittest.Build(t, database.NewDatabase, "database", (*database.Args)(nil))
	kittest.Refused(t, err, "database: args are nil: ")
	kittest.NothingRegistered(t, res)
}

// A caller's Protect(true) on the component reaches the cluster and its
// instances in an ephemeral environment too: the component sets no protect
// of its own there, which would override the caller's.
func TestCallersProtectReachesTheCluster(t *testing.T) {
	res, err := kittest.Build(t, database.NewDatabase, kit.DatabaseComponent, requiredArgs(), pulumi.Protect(true))
	if err != nil {
		t.Fatal(err)
	}
	data := append(res.ByType("aws:rds/cluster:Cluster"), res.ByType("aws:rds/clusterInstance:ClusterInstance")...)
	if len(data) < 3 {
		t.Fatalf("%d clusters and instances, want at least 3", len(data))
	}
	for _, r := range data {
		if !r.Options.Protect {
			t.Errorf("%s is not protected though its component is", r.Name)
		}
	}
}
