package database_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/dbvault/dbvault/stacks/database"
	"github.com/dbvault/dbvault/stacks/kit/awsfake"
	"github.com/dbvault/dbvault/stacks/kit/kittest"
	"github.com/dbvault/dbvault/stacks/kit/mock"
)

const (
	getCluster     = "aws:rds/getCluster:getCluster"
	rotatorSG      = "sg-0r0r0r0r0r0r0r0r0"
	ingressRule    = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
	egressRule     = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
	rdsTypesPrefix = "aws:rds/"
)

// existingRefs are the earlier layers' outputs with the network layer in
// the offline account's existing VPC, where its existing cluster lives.
func existingRefs() map[string]map[string]mock.Output {
	r := refs()
	r["organization/vault-network/dev"]["vpcId"] = mock.Output{Value: awsfake.Default().ExistingVpcID()}
	return r
}

func existingConfig(kv ...string) map[string]string {
	c := baseConfig()
	c["vault-database:existingClusterIdentifier"] = awsfake.ExistingClusterIdentifier
	for i := 0; i+1 < len(kv); i += 2 {
		c["vault-database:"+kv[i]] = kv[i+1]
	}
	return c
}

// runExisting runs the layer on the existing cluster, with the cluster
// lookup changed by edit (nil: as awsfake answers it).
func runExisting(t *testing.T, config map[string]string, edit func(m map[string]any)) (mock.Result, error) {
	t.Helper()
	return runExistingWith(config, existingRefs(), edit)
}

func runExistingWith(config map[string]string, stacks map[string]map[string]mock.Output, edit func(m map[string]any)) (mock.Result, error) {
	fake := awsfake.Default()
	opts := mock.RunOptions{Stack: "dev", Config: config, StackOutputs: stacks}
	if edit != nil {
		opts.Invokes = map[string]func(resource.PropertyMap) (resource.PropertyMap, error){
			getCluster: func(args resource.PropertyMap) (resource.PropertyMap, error) {
				out, err := fake.Invoke(getCluster, args)
				if err != nil {
					return nil, err
				}
				m := out.Mappable()
				edit(m)
				return resource.NewPropertyMapFromMap(m), nil
			},
		}
	}
	return mock.Run(database.Layer, opts)
}

// An existing cluster: no cluster, instance, parameter or subnet group and
// no log group of RDS's are created; the rotator is admitted on the
// cluster's port from its own group, and the outputs are the cluster's.
func TestExistingClusterIsServedNotCreated(t *testing.T) {
	fake := awsfake.Default()
	res, err := runExisting(t, existingConfig(), nil)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	for _, r := range res.Resources {
		if strings.HasPrefix(r.Type, rdsTypesPrefix) {
			t.Errorf("created %s %s on an existing cluster", r.Type, r.Name)
		}
		if r.Type == "aws:cloudwatch/logGroup:LogGroup" && strings.HasPrefix(str(r, "name"), "/aws/rds/") {
			t.Errorf("created RDS's log group %s on an existing cluster", str(r, "name"))
		}
		if r.Type == "aws:secretsmanager/secretRotation:SecretRotation" {
			t.Errorf("changed the team's master secret rotation (%s)", r.Name)
		}
	}
	in := one(t, res, ingressRule)
	if g, p := str(in, "securityGroupId"), str(in, "referencedSecurityGroupId"); g != fake.ExistingClusterSecurityGroupID() || p != rotatorSG {
		t.Errorf("ingress rule on %s from %s, want on the cluster's %s from the rotator's %s", g, p, fake.ExistingClusterSecurityGroupID(), rotatorSG)
	}
	out := one(t, res, egressRule)
	if g, p := str(out, "securityGroupId"), str(out, "referencedSecurityGroupId"); g != rotatorSG || p != fake.ExistingClusterSecurityGroupID() {
		t.Errorf("egress rule on %s to %s, want on the rotator's group to the cluster's", g, p)
	}
	for _, r := range []mock.Resource{in, out} {
		if n := number(t, r, "fromPort"); n != 3306 || number(t, r, "toPort") != 3306 || str(r, "ipProtocol") != "tcp" {
			t.Errorf("%s: %s %d-%d, want tcp 3306", r.Name, str(r, "ipProtocol"), n, number(t, r, "toPort"))
		}
	}
	want := map[string]any{
		"clusterIdentifier":  awsfake.ExistingClusterIdentifier,
		"masterUsername":     awsfake.ExistingClusterMaster,
		"dbName":             awsfake.ExistingClusterDatabase,
		"masterSecretArn":    fake.ExistingClusterMasterSecretArn(),
		"masterSecretKeyArn": fake.ExistingKeyArn(),
		"existingCluster":    true,
		"port":               float64(3306),
	}
	for k, v := range want {
		if got := res.Outputs[k].Value; fmt.Sprint(got) != fmt.Sprint(v) {
			t.Errorf("output %s = %v, want %v", k, got, v)
		}
	}
	if _, ok := res.Outputs["finalSnapshotIdentifier"]; ok {
		t.Error("an existing cluster exports a final snapshot identifier; the vault never deletes it")
	}
	if ep, _ := res.Outputs["clusterEndpoint"].Value.(string); !strings.HasPrefix(ep, awsfake.ExistingClusterIdentifier+".cluster-") {
		t.Errorf("clusterEndpoint %q is not the existing cluster's", ep)
	}
	// The flow log of the network layer's VPC stays the layer's.
	if fl := one(t, res, "aws:ec2/flowLog:FlowLog"); str(fl, "vpcId") != fake.ExistingVpcID() {
		t.Errorf("flow log on %s, want the network layer's VPC", str(fl, "vpcId"))
	}
	if p := res.TaggingProblems(); len(p) > 0 {
		t.Errorf("tagging: %v", p)
	}
}

// The vault's own cluster exports its own secret key and no existing cluster.
func TestOwnClusterExportsItsMasterKey(t *testing.T) {
	res := deploy(t)
	if v := res.Outputs["existingCluster"].Value; v != false {
		t.Errorf("existingCluster = %v, want false", v)
	}
	if v := res.Outputs["masterSecretKeyArn"].Value; v != secretsKeyArn {
		t.Errorf("masterSecretKeyArn = %v, want the secrets key", v)
	}
	if n := len(res.ByType(ingressRule)) + len(res.ByType(egressRule)); n != 0 {
		t.Errorf("%d security group rule(s) on the vault's own cluster; the network layer owns those", n)
	}
}

// The choices an operator makes on an existing cluster.
func TestExistingClusterChoices(t *testing.T) {
	fake := awsfake.Default()
	t.Run("own-cluster keys at their defaults, as the CLI writes them", func(t *testing.T) {
		if _, err := runExisting(t, existingConfig("engineVersion", database.DefaultEngineVersion, "backupRetentionDays", "7", "applyEngineVersion", "false"), nil); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("dbName chooses the database", func(t *testing.T) {
		res, err := runExisting(t, existingConfig("dbName", "billing"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if v := res.Outputs["dbName"].Value; v != "billing" {
			t.Errorf("dbName = %v, want billing", v)
		}
	})
	t.Run("a named group among several", func(t *testing.T) {
		other := "sg-0123456789abcdef0"
		res, err := runExisting(t, existingConfig("existingClusterSecurityGroupId", other), func(m map[string]any) {
			m["vpcSecurityGroupIds"] = []any{fake.ExistingClusterSecurityGroupID(), other}
		})
		if err != nil {
			t.Fatal(err)
		}
		if g := str(one(t, res, ingressRule), "securityGroupId"); g != other {
			t.Errorf("ingress rule on %s, want the named %s", g, other)
		}
	})
	t.Run("the operator's master secret, its key named by alias", func(t *testing.T) {
		res, err := runExisting(t, existingConfig("existingMasterSecretArn", fake.ExistingOperatorSecretArn()), func(m map[string]any) {
			delete(m, "masterUserSecrets")
		})
		if err != nil {
			t.Fatal(err)
		}
		if v := res.Outputs["masterSecretArn"].Value; v != fake.ExistingOperatorSecretArn() {
			t.Errorf("masterSecretArn = %v, want the operator's", v)
		}
		// DescribeSecret names the key by its alias ARN; the rotator's
		// policy needs the key ARN.
		if v := res.Outputs["masterSecretKeyArn"].Value; v != fake.ExistingKeyArn() {
			t.Errorf("masterSecretKeyArn = %v, want the key ARN behind the alias", v)
		}
	})
	t.Run("a key ID becomes the key ARN", func(t *testing.T) {
		id := fake.ExistingKeyArn()[strings.LastIndex(fake.ExistingKeyArn(), "/")+1:]
		res, err := runExisting(t, existingConfig(), func(m map[string]any) {
			m["masterUserSecrets"].([]any)[0].(map[string]any)["kmsKeyId"] = id
		})
		if err != nil {
			t.Fatal(err)
		}
		if v := res.Outputs["masterSecretKeyArn"].Value; v != fake.ExistingKeyArn() {
			t.Errorf("masterSecretKeyArn = %v, want %s", v, fake.ExistingKeyArn())
		}
	})
}

// A cluster the vault cannot serve, or a configuration that does not fit
// it, is refused with the fix, and nothing is created.
func TestExistingClusterRefusals(t *testing.T) {
	fake := awsfake.Default()
	cases := []struct {
		name   string
		config map[string]string
		refs   map[string]map[string]mock.Output
		edit   func(m map[string]any)
		want   string
	}{
		{name: "postgres", edit: func(m map[string]any) { m["engine"] = "aurora-postgresql"; m["engineVersion"] = "16.4" }, want: "serves Aurora MySQL 3"},
		{name: "Aurora MySQL 2", edit: func(m map[string]any) { m["engineVersion"] = "5.7.mysql_aurora.2.12.1" }, want: "upgrade the cluster to Aurora MySQL 3"},
		{name: "unencrypted", edit: func(m map[string]any) { m["storageEncrypted"] = false }, want: "restore a snapshot"},
		{name: "no master secret", edit: func(m map[string]any) { delete(m, "masterUserSecrets") }, want: "--manage-master-user-password"},
		{name: "another secret than RDS's", config: existingConfig("existingMasterSecretArn", fake.ExistingOperatorSecretArn()), want: "unset existingMasterSecretArn"},
		{name: "several groups, none named", edit: func(m map[string]any) {
			m["vpcSecurityGroupIds"] = []any{fake.ExistingClusterSecurityGroupID(), "sg-0123456789abcdef0"}
		}, want: "set existingClusterSecurityGroupId"},
		{name: "a group that is not the cluster's", config: existingConfig("existingClusterSecurityGroupId", "sg-0123456789abcdef0"), want: "is not one of the cluster's security groups"},
		{name: "no database", edit: func(m map[string]any) { m["databaseName"] = "" }, want: "set dbName"},
		{name: "another VPC", refs: refs(), want: "deploy the network layer into the cluster's VPC"},
		{name: "unknown cluster", config: existingConfig("existingClusterIdentifier", "nope"), want: "couldn't find"},
		{name: "not an identifier", config: existingConfig("existingClusterIdentifier", "team_aurora!"), want: `Existing.ClusterIdentifier is "team_aurora!": it must be a DB cluster identifier`},
		{name: "an own-cluster key", config: existingConfig("instanceClass", "db.r6g.large"), want: "remove instanceClass"},
		{name: "an own-cluster number", config: existingConfig("backupRetentionDays", "14"), want: "remove backupRetentionDays"},
		{name: "a group without a cluster", config: map[string]string{"vault-database:environmentSuffix": suffix, "vault-database:existingClusterSecurityGroupId": "sg-0123456789abcdef0"}, want: "without existingClusterIdentifier"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			config, stacks := c.config, c.refs
			if config == nil {
				config = existingConfig()
			}
			if stacks == nil {
				stacks = existingRefs()
			}
			_, err := runExistingWith(config, stacks, c.edit)
			kittest.Refused(t, err, c.want)
			if strings.Contains(err.Error(), "password\":") {
				t.Errorf("the error carries a secret value: %v", err)
			}

		})
	}
}
