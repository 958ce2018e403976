package secrets

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dbvault/dbvault/functions/rotator/appusers"
	"github.com/dbvault/dbvault/stacks/kit"
)

// AppUser is one application user the vault issues: a database account
// (and its alternate, Name+CloneSuffix) with exactly Privileges on
// Database, kept in a secret of its own that only Readers (and the rotator
// and the administrators) may read.
type AppUser struct {
	// Name is the MySQL user name.
	Name string `json:"name"`
	// Database is the database the privileges apply to; empty means the
	// cluster's database (the database layer's dbName). The rotator
	// creates it when it is missing.
	Database string `json:"database,omitempty"`
	// Privileges are MySQL privilege names on Database.
	Privileges []string `json:"privileges,omitempty"`
	// Readers are the IAM roles that may read the secret.
	Readers []string `json:"readers,omitempty"`
}

// DefaultAppUser is the user a stack without appUsers gets: one
// application user on the cluster's database that reads and writes rows.
func DefaultAppUser() AppUser {
	return AppUser{Name: "app", Privileges: []string{"SELECT", "INSERT", "UPDATE", "DELETE"}}
}

// CloneSuffix names the alternate account of each application user: the
// rotator's default (functions/rotator, CLONE_SUFFIX), which the layer does
// not change.
const CloneSuffix = "_clone"

// MaxAppUsers bounds the application users of one vault: the number
// TestLimitsHoldAtMaxAppUsers shows within every AWS limit the layer's
// resources meet, with the longest names. No single resource grows with it
// beyond those limits any more: the declarations travel in a Lambda layer
// (declarationsLayer), not the 4 KB environment; past ExactSecretsLimit
// the rotator's role names the secrets by pattern (appSecretScope); and the
// alert rules match them by wildcard past EventBridge's pattern size
// (Watched). What grows is the number of resources (three per user), the
// time of a deploy and the cost (docs/costs.md).
const MaxAppUsers = 100

// MaxUserNameLength is the longest user name MySQL 8.0 (Aurora MySQL 3)
// accepts, 32 characters
// (https://dev.mysql.com/doc/refman/8.0/en/user-names.html); the alternate
// account needs room for CloneSuffix.
const MaxUserNameLength = 32

// Privileges are the MySQL privileges an application user may be given on
// its database: the rotator's own list (database-level privileges, without
// ALL and GRANT OPTION), so that what the preview accepts the rotator
// accepts too.
var Privileges = appusers.Privileges

var (
	// Lower-case letters, digits and underscores, a letter first: a name
	// that is the same MySQL user on every server (user names are
	// case-sensitive) and a valid part of a secret name.
	userNamePattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	dbNamePattern   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)
	// Names the server or RDS keeps for itself.
	reservedUsers     = []string{"root", "rdsadmin", "rdsrepladmin", "rdsproxyadmin", "mysql", "admin"}
	reservedDatabases = []string{"mysql", "information_schema", "performance_schema", "sys", "tmp"}
)

// ValidateAppUsers checks the declared users before anything is created;
// every error names the entry and the fix. account is the account whose
// roles may read (the secrets key admits only its principals).
func ValidateAppUsers(users []AppUser, account string) ([]AppUser, error) {
	if len(users) == 0 {
		return nil, fmt.Errorf("appUsers is empty: declare at least one application user, or remove appUsers for the default (%s)", DefaultAppUser().Name)
	}
	if len(users) > MaxAppUsers {
		return nil, fmt.Errorf("appUsers declares %d users; the vault supports at most %d (each is a secret, its version, its policy and its rotation, rotated by one function): split them across vaults", len(users), MaxAppUsers)
	}
	out := make([]AppUser, len(users))
	names := map[string]int{}
	for i, u := range users {
		at := fmt.Sprintf("appUsers[%d] (%s)", i, u.Name)
		maxName := MaxUserNameLength - len(CloneSuffix)
		switch {
		case u.Name == "":
			return nil, fmt.Errorf("appUsers[%d]: name is required (the MySQL user name)", i)
		case !userNamePattern.MatchString(u.Name):
			return nil, fmt.Errorf("%s: name must be lower-case letters, digits and underscores, starting with a letter", at)
		case len(u.Name) > maxName:
			return nil, fmt.Errorf("%s: name is %d characters; at most %d leave room for the alternate user %s%s within MySQL's %d", at, len(u.Name), maxName, u.Name, CloneSuffix, MaxUserNameLength)
		case slices.Contains(reservedUsers, u.Name) || strings.HasPrefix(u.Name, "rds") || strings.HasPrefix(u.Name, "mysql"):
			return nil, fmt.Errorf("%s: the name is reserved by MySQL or RDS; choose another", at)
		case strings.HasSuffix(u.Name, CloneSuffix):
			return nil, fmt.Errorf("%s: the name ends in %s, which names the alternate account of another user; choose another", at, CloneSuffix)
		case u.Database != "" && !dbNamePattern.MatchString(u.Database):
			return nil, fmt.Errorf("%s: database %q must be 1 to 64 letters, digits or underscores and start with a letter", at, u.Database)
		case slices.Contains(reservedDatabases, strings.ToLower(u.Database)):
			return nil, fmt.Errorf("%s: database %q belongs to the server; name the application's own database", at, u.Database)
		}
		if j, dup := names[u.Name]; dup {
			return nil, fmt.Errorf("%s: the user is declared twice (also appUsers[%d]); declare each user once", at, j)
		}
		names[u.Name] = i
		privs, err := normalizePrivileges(at, u.Privileges)
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for k, r := range u.Readers {
			if err := kit.ValidateRoleArn(fmt.Sprintf("%s: readers[%d]", at, k), r); err != nil {
				return nil, err
			}
			if acct := strings.Split(r, ":")[4]; acct != account {
				return nil, fmt.Errorf("%s: readers[%d] is a role of account %s; the vault's secrets key admits only roles of account %s", at, k, acct, account)
			}
			if seen[r] {
				return nil, fmt.Errorf("%s: readers[%d] %q is listed twice", at, k, r)
			}
			seen[r] = true
		}
		out[i] = AppUser{Name: u.Name, Database: u.Database, Privileges: privs, Readers: slices.Clone(u.Readers)}
	}
	return out, nil
}

// normalizePrivileges upper-cases and checks the privilege names, keeping
// their order.
func normalizePrivileges(at string, privs []string) ([]string, error) {
	if len(privs) == 0 {
		return nil, fmt.Errorf("%s: privileges is empty; name what the user may do, e.g. [SELECT, INSERT, UPDATE, DELETE]", at)
	}
	out := make([]string, 0, len(privs))
	for _, p := range privs {
		n := strings.Join(strings.Fields(strings.ToUpper(p)), " ")
		if !slices.Contains(Privileges, n) {
			return nil, fmt.Errorf("%s: privilege %q is not one the vault grants; use database-level privileges: %s", at, p, strings.Join(Privileges, ", "))
		}
		if slices.Contains(out, n) {
			return nil, fmt.Errorf("%s: privilege %s is listed twice", at, n)
		}
		out = append(out, n)
	}
	return out, nil
}

// rotatorUser is one entry of the rotator's APP_USERS: what the rotator may
// make of the secret's user, which only the deployer can change.
type rotatorUser struct {
	Username   string   `json:"username"`
	Database   string   `json:"database"`
	Privileges []string `json:"privileges"`
}

// maxEnvBytes is Lambda's limit on all of a function's environment
// variables together (names and values).
const maxEnvBytes = 4096

// AppUsersFile is where the rotator reads the declarations (APP_USERS_FILE):
// the file of the declarations layer. Lambda extracts a function's layers
// into /opt (https://docs.aws.amazon.com/lambda/latest/dg/packaging-layers.html,
// "Lambda loads the layer content into the /opt directory").
const AppUsersFile = "/opt/" + appUsersMember

// appUsersMember is the file's path inside the layer's zip.
const appUsersMember = "dbvault/app-users.json"

// declarationsLayer publishes the rotator's declarations as a Lambda layer
// version, declarations-<suffix>. A layer is the rotator's configuration
// channel because the declarations of many users do not fit the 4 KB that
// Lambda allows all of a function's environment variables
// (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html),
// while a layer's zip may hold 50 MB, and the function with its layers
// 250 MB unzipped (same page). Every argument of a layer version forces a
// new version; the provider deletes the old one after the function has
// moved to the new one unless skip_destroy is set (terraform-provider-aws
// internal/service/lambda/layer_version.go), so a changed declaration
// leaves no old version behind.
func declarationsLayer(ctx *pulumi.Context, args *Args, users []AppUser, names kit.Names, parent pulumi.ResourceOption) (*lambda.LayerVersion, error) {
	archive := args.Database.DBName.ToStringOutput().ApplyT(func(db string) (pulumi.Archive, error) {
		text, err := appUsersJSON(users, names, db)
		if err != nil {
			return nil, err
		}
		return pulumi.NewAssetArchive(map[string]any{appUsersMember: pulumi.NewStringAsset(text)}), nil
	}).(pulumi.ArchiveOutput)
	layer, err := lambda.NewLayerVersion(ctx, names.Logical("declarations"), &lambda.LayerVersionArgs{
		LayerName:               pulumi.String(names.Name("declarations")),
		Description:             pulumi.String("The application users the rotator of vault " + args.Suffix + " may issue"),
		Code:                    archive,
		CompatibleRuntimes:      pulumi.StringArray{pulumi.String("provided.al2023")},
		CompatibleArchitectures: pulumi.StringArray{pulumi.String("arm64")},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("declarations layer: %w", err)
	}
	return layer, nil
}

// appUsersJSON is the declarations file: secret name -> declaration, with
// each database resolved (defaultDB is the cluster's).
func appUsersJSON(users []AppUser, names kit.Names, defaultDB string) (string, error) {
	env := make(map[string]rotatorUser, len(users))
	for _, u := range users {
		db := u.Database
		if db == "" {
			db = defaultDB
		}
		env[names.AppSecretName(u.Name)] = rotatorUser{Username: u.Name, Database: db, Privileges: u.Privileges}
	}
	b, err := json.Marshal(env)
	if err != nil {
		return "", err
	}
	// The rotator refuses to start on an APP_USERS it cannot use: check it
	// with the rotator's own parser before deploying it.
	if _, err := appusers.Parse(string(b)); err != nil {
		return "", fmt.Errorf("the rotator would refuse this declaration: %w", err)
	}
	return string(b), nil
}
