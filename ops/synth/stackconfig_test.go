package synth_test

import (
	"fmt"
	"maps"
	"os"
	"strings"
	"testing"

	"github.com/dbvault/dbvault/ops/internal/configdecl"
	"github.com/dbvault/dbvault/ops/internal/repotest"
	"github.com/dbvault/dbvault/ops/layers"
	"github.com/dbvault/dbvault/ops/synth"
	"github.com/dbvault/dbvault/stacks/kit"
	"github.com/dbvault/dbvault/stacks/kit/mock"
)

// stackRoot is a repository root of the layers' Pulumi.yaml alone
// (repotest.LayerRoot), with the stack files `configure` writes for env,
// each passed through edit.
func stackRoot(t *testing.T, env string, edit func(layer, file string) string) string {
	t.Helper()
	root := repotest.LayerRoot(t)
	for _, l := range layers.All {
		decl, err := configdecl.Load(root, l.Name)
		if err != nil {
			t.Fatal(err)
		}
		file := edit(l.Name, string(configdecl.StackFile(decl, env)))
		if err := os.WriteFile(configdecl.StackFileName(root, l.Name, env), []byte(file), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// set uncomments key in a file configure wrote and gives it value.
func set(t *testing.T, file, key, value string) string {
	t.Helper()
	lines := strings.Split(file, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "  # "+key+": ") {
			lines[i] = "  " + key + ": " + value
			return strings.Join(lines, "\n")
		}
	}
	t.Fatalf("no commented-out %s in the file", key)
	return ""
}

// A value set in the file configure writes reaches the synthesized graph:
// a non-default vpcCidr is the VPC's, and the files' region the
// provider's; the files left as written synthesize the defaults.
func TestStackFilesReachTheGraph(t *testing.T) {
	root := stackRoot(t, "conf", func(layer, file string) string {
		if layer == "network" {
			file = set(t, file, kit.NetworkProject+":vpcCidr", "10.50.0.0/16")
		}
		return set(t, file, "aws:region", "eu-west-1")
	})
	files, err := synth.ReadStackFiles(root, "conf", layers.All)
	if err != nil {
		t.Fatal(err)
	}
	if len(files.Files) != len(layers.All) || files.Region != "eu-west-1" {
		t.Fatalf("read %v, region %q", files.Files, files.Region)
	}
	want := map[string]string{
		kit.NetworkProject + ":vpcCidr":           "10.50.0.0/16",
		kit.NetworkProject + ":environmentSuffix": "conf",
		kit.SecretsProject + ":environmentSuffix": "conf",
	}
	for k, v := range want {
		if files.Config[k] != v {
			t.Errorf("%s = %q, want %q", k, files.Config[k], v)
		}
	}
	if len(files.Config) != len(layers.All)+1 {
		t.Errorf("the files set %v: a commented-out key must set nothing", files.Config)
	}
	cfg := maps.Clone(files.Config)
	cfg[kit.SecretsProject+":rotatorZip"] = mock.RotatorZip(t)
	docs, err := synth.Run(synth.Options{Env: "conf", Region: files.Region, Root: repotest.Root(t), Layers: layers.All, Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	var cidr any
	for _, r := range docs[0].Resources {
		if r.Type == "aws:ec2/vpc:Vpc" {
			cidr = r.Inputs["cidrBlock"]
		}
	}
	if cidr != "10.50.0.0/16" {
		t.Errorf("the VPC's cidrBlock is %v, want the file's 10.50.0.0/16", cidr)
	}
	if got := docs[0].Providers[0].Inputs["region"]; got != "eu-west-1" {
		t.Errorf("the provider's region is %v, want the files' eu-west-1", got)
	}
}

// Stack files of a real environment synthesize as that environment: in
// the account of its readers, deployed by its first administrator of that
// account (an IAM Identity Center role, with its path; a break-glass role
// of a central account comes first and is passed over), its references by
// the stacks of a Pulumi Cloud organisation. Without that, the layers
// refuse the offline deployer and account, and find no such stacks. A
// reference to another environment's stack is not answered.
func TestStackFilesOfARealAccount(t *testing.T) {
	const account = "210987654321"
	deployer := "arn:aws:iam::" + account + ":role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef"
	files := func(kmsStack string) map[string]string {
		root := stackRoot(t, "prod", func(layer, file string) string {
			switch layer {
			case "kms":
				file = set(t, file, kit.KMSProject+":administrators", `["arn:aws:iam::999999999999:role/central-break-glass", "`+deployer+`", "arn:aws:iam::`+account+`:role/vault-break-glass"]`)
			case "database":
				file = set(t, file, kit.DatabaseProject+":networkStack", "acme/vault-network/prod")
				file = set(t, file, kit.DatabaseProject+":kmsStack", kmsStack)
			case "secrets":
				file = set(t, file, kit.SecretsProject+":databaseStack", "acme/vault-database/prod")
				file = set(t, file, kit.SecretsProject+":appUsers", `[{"name": "orders", "privileges": ["SELECT"], "readers": ["arn:aws:iam::`+account+`:role/orders-api"]}]`)
			}
			return file
		})
		f, err := synth.ReadStackFiles(root, "prod", layers.All)
		if err != nil {
			t.Fatal(err)
		}
		cfg := maps.Clone(f.Config)
		cfg[kit.SecretsProject+":rotatorZip"] = mock.RotatorZip(t)
		return cfg
	}
	docs, err := synth.Run(synth.Options{Env: "prod", Root: repotest.Root(t), Layers: layers.All, Config: files("acme/vault-kms/prod")})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(docs[1].Outputs["secretsKeyArn"]); !strings.Contains(got, ":"+account+":") {
		t.Errorf("the secrets key %s is not in the readers' account", got)
	}
	_, err = synth.Run(synth.Options{Env: "prod", Root: repotest.Root(t), Layers: layers.All, Config: files("acme/vault-kms/staging")})
	if err == nil || !strings.Contains(err.Error(), "acme/vault-kms/staging") {
		t.Errorf("a reference to another environment's stack: %v, want it unanswered", err)
	}
}

// What Pulumi would refuse in a stack file, synth refuses, naming the file
// and the key: a value of another type than the declared one, a secret it
// cannot read, two regions.
func TestStackFilesRefused(t *testing.T) {
	for name, c := range map[string]struct {
		layer, key, value, want string
	}{
		"type":   {"database", kit.DatabaseProject + ":backupRetentionDays", "seven", "backupRetentionDays = seven is not of the type integer"},
		"secret": {"database", kit.DatabaseProject + ":dbName", "\n    secure: AAABAG", "dbName is a secret"},
		"region": {"secrets", "aws:region", "eu-west-1", "share one region"},
	} {
		t.Run(name, func(t *testing.T) {
			root := stackRoot(t, "bad", func(layer, file string) string {
				if layer == c.layer {
					return set(t, file, c.key, c.value)
				}
				if c.key == "aws:region" && layer == "network" {
					return set(t, file, "aws:region", "us-east-1")
				}
				return file
			})
			_, err := synth.ReadStackFiles(root, "bad", layers.All)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "stacks/") {
				t.Fatalf("err = %v, want one naming the file and %q", err, c.want)
			}
		})
	}
}

// An environment without stack files synthesizes the defaults.
func TestNoStackFiles(t *testing.T) {
	files, err := synth.ReadStackFiles(t.TempDir(), "dev", layers.All)
	if err != nil || len(files.Config) != 0 || files.Region != "" || len(files.Files) != 0 {
		t.Fatalf("%+v, %v", files, err)
	}
}
