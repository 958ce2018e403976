package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/dbvault/dbvault/stacks/database"
	"github.com/dbvault/dbvault/stacks/kit"
	"github.com/dbvault/dbvault/stacks/kit/awsfake"
	"github.com/dbvault/dbvault/stacks/kit/mock"
	"github.com/dbvault/dbvault/stacks/kms"
	"github.com/dbvault/dbvault/stacks/network"
	"github.com/dbvault/dbvault/stacks/secrets"
)

func runExample(t *testing.T) mock.Result {
	t.Helper()
	res, err := mock.Run(Program, mock.RunOptions{Stack: "dev", Config: map[string]string{
		Project + ":environmentSuffix": "dev",
		Project + ":rotatorZip":        mock.RotatorZip(t),
	}})
	if err != nil {
		t.Fatalf("twovaults under mocks: %v", err)
	}
	return res
}

// layersAlone runs the four layers one after the other, as deployAll does:
// what one complete default vault registers (with trail set, one that uses
// that trail).
func layersAlone(t *testing.T, zipPath string, trail ...string) []mock.Resource {
	t.Helper()
	stacks := map[string]map[string]mock.Output{}
	var all []mock.Resource
	for _, l := range []kit.Layer{network.Layer, kms.Layer, database.Layer, secrets.Layer} {
		cfg := map[string]string{l.Project + ":environmentSuffix": "dev"}
		if l.Name == "secrets" {
			cfg[l.Project+":rotatorZip"] = zipPath
			if len(trail) > 0 {
				cfg[l.Project+":existingTrailName"] = trail[0]
			}
		}
		res, err := mock.Run(l, mock.RunOptions{Stack: "dev", Config: cfg, StackOutputs: stacks})
		if err != nil {
			t.Fatalf("layer %s: %v", l.Name, err)
		}
		stacks["organization/"+l.Project+"/dev"] = res.Outputs
		all = append(all, res.Resources...)
	}
	return all
}

// vaultOf is the vault a resource belongs to: the name of its component
// (every custom resource is a child of one).
func vaultOf(t *testing.T, byURN map[string]mock.Resource, r mock.Resource) string {
	t.Helper()
	if !r.Custom {
		return r.Name
	}
	p, ok := byURN[r.Parent]
	if !ok || p.Custom {
		t.Fatalf("%s: parent %q is not a component", r.URN, r.Parent)
	}
	return p.Name
}

// physicalNames are the names AWS knows a resource by, with their limits.
var physicalNames = map[string]int{"name": 0, "clusterIdentifier": 63, "identifier": 63, "bucket": 63, "finalSnapshotIdentifier": 255, "layerName": 140}

// nameLimits are the AWS limits of the name input, by type (0: 255 or more,
// not checked here).
var nameLimits = map[string]int{
	"aws:iam/role:Role":                      64,
	"aws:lambda/function:Function":           64,
	"aws:cloudwatch/eventRule:EventRule":     64,
	"aws:iam/rolePolicy:RolePolicy":          128,
	"aws:cloudtrail/trail:Trail":             128,
	"aws:secretsmanager/secret:Secret":       512,
	"aws:cloudwatch/logGroup:LogGroup":       512,
	"aws:ec2/securityGroup:SecurityGroup":    255,
	"aws:cloudwatch/metricAlarm:MetricAlarm": 255,
}

func TestTwoVaultsAreCompleteAndCollideNowhere(t *testing.T) {
	zipPath := mock.RotatorZip(t)
	res := runExample(t)
	byURN := map[string]mock.Resource{}
	for _, r := range res.Resources {
		if _, dup := byURN[r.URN]; dup {
			t.Errorf("URN %s registered twice", r.URN)
		}
		byURN[r.URN] = r
	}
	// One provider tags both vaults: every resource goes through it.
	for _, p := range res.TaggingProblems() {
		t.Error(p)
	}
	for _, r := range res.Resources {
		if r.Custom && r.Tags()["CostCenter"] == "" {
			t.Errorf("%s: tags %v; want the program's provider's default tags", r.URN, r.Tags())
		}
	}

	// Complete: each vault registers, type by type, what the four layers
	// register alone; billing as layers that use orders' trail.
	wants := map[string]map[string]int{"orders": {}, "billing": {}}
	for _, r := range layersAlone(t, zipPath) {
		wants["orders"][r.Type]++
	}
	for _, r := range layersAlone(t, zipPath, "orders-trail-dev") {
		wants["billing"][r.Type]++
	}
	if n := len(res.ByType("aws:cloudtrail/trail:Trail")); n != 1 {
		t.Errorf("%d trails, want orders' alone", n)
	}
	got := map[string]map[string]int{}
	for _, r := range res.Resources {
		v := vaultOf(t, byURN, r)
		if got[v] == nil {
			got[v] = map[string]int{}
		}
		got[v][r.Type]++
	}
	if len(got) != len(Vaults) {
		t.Fatalf("resources belong to %d vaults, want %d", len(got), len(Vaults))
	}
	for _, v := range Vaults {
		want := wants[v.Name]
		for typ, n := range want {
			if got[v.Name][typ] != n {
				t.Errorf("vault %s: %d of %s, want %d (as the four layers alone)", v.Name, got[v.Name][typ], typ, n)
			}
		}
		for typ := range got[v.Name] {
			if want[typ] == 0 {
				t.Errorf("vault %s: %s, which the layers alone do not create", v.Name, typ)
			}
		}
	}

	// No physical name collides: within a type, every name, identifier,
	// bucket and Name tag is one resource's; each carries its vault's prefix
	// and fits its limit.
	seen := map[string]string{}
	for _, r := range res.Resources {
		if !r.Custom {
			continue
		}
		vault := vaultOf(t, byURN, r)
		values := map[string]string{}
		for k := range physicalNames {
			if k == "clusterIdentifier" && r.Type == "aws:rds/clusterInstance:ClusterInstance" {
				continue // the cluster it joins, not its own name
			}
			if s, ok := r.Input(k).(string); ok && s != "" {
				values[k] = s
			}
		}
		if n := r.Tags()["Name"]; n != "" {
			values["tags.Name"] = n
		}
		for k, s := range values {
			key := r.Type + " " + k + "=" + s
			if other, dup := seen[key]; dup {
				t.Errorf("%s: %s is also %s's", r.URN, key, other)
			}
			seen[key] = r.URN
			if !strings.Contains(s, vault+"-") {
				t.Errorf("%s: %s %q does not carry the vault's name %s", r.URN, k, s, vault)
			}
			limit := physicalNames[k]
			if k == "name" {
				limit = nameLimits[r.Type]
			}
			if limit > 0 && len(s) > limit {
				t.Errorf("%s: %s %q is %d characters; AWS allows %d", r.URN, k, s, len(s), limit)
			}
		}
	}
	if len(seen) < 100 {
		t.Errorf("only %d physical names checked", len(seen))
	}

	// Both export their outputs.
	for _, v := range Vaults {
		for _, k := range []string{"secretArn", "rotatorFunctionArn", "clusterEndpoint", "vpcId", "alertsTopicArn"} {
			s, _ := res.Outputs[v.Name+"."+k].Value.(string)
			if s == "" {
				t.Errorf("output %s.%s is empty", v.Name, k)
			}
		}
	}
	if res.Outputs["orders.secretArn"].Value == res.Outputs["billing.secretArn"].Value {
		t.Error("both vaults export the same secret")
	}
}

// The kms layer's key policies name what the later layers create: for a
// non-default vault they name that vault's rotator role and log groups, as
// the secrets and database components create them.
func TestEachVaultsKeysNameItsOwnResources(t *testing.T) {
	res := runExample(t)
	for _, v := range Vaults {
		names, err := kit.NewNames(v.Name, "dev")
		if err != nil {
			t.Fatal(err)
		}
		var role, secretsPolicy, logsPolicy string
		var logGroups []string
		for _, r := range res.Resources {
			switch {
			case r.Type == "aws:iam/role:Role" && r.Name == v.Name+"-rotator-role":
				role, _ = r.Input("name").(string)
			case r.Type == "aws:kms/key:Key" && r.Name == v.Name+"-secrets-key":
				secretsPolicy, _ = r.Input("policy").(string)
			case r.Type == "aws:kms/key:Key" && r.Name == v.Name+"-logs-key":
				logsPolicy, _ = r.Input("policy").(string)
			case r.Type == "aws:cloudwatch/logGroup:LogGroup" && strings.HasPrefix(r.Name, v.Name+"-"):
				n, _ := r.Input("name").(string)
				logGroups = append(logGroups, n)
			}
		}
		if role != names.RotatorRoleName(awsfake.DefaultRegion) {
			t.Errorf("vault %s: rotator role %q, want %q", v.Name, role, names.RotatorRoleName(awsfake.DefaultRegion))
		}
		roleArn := kit.RoleArn("aws", awsfake.DefaultAccount, role)
		if !strings.Contains(secretsPolicy, `"`+roleArn+`"`) {
			t.Errorf("vault %s: the secrets key's policy does not name its rotator role %s", v.Name, roleArn)
		}
		var doc struct {
			Statement []struct{ Condition map[string]map[string]any }
		}
		if err := json.Unmarshal([]byte(logsPolicy), &doc); err != nil {
			t.Fatalf("vault %s: logs key policy: %v", v.Name, err)
		}
		var admitted []string
		for _, s := range doc.Statement {
			if arns, ok := s.Condition["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"].([]any); ok {
				for _, a := range arns {
					admitted = append(admitted, a.(string))
				}
			}
		}
		// billing's trail is orders': it has no trail log group of its own.
		if want := map[string]int{"orders": 6, "billing": 5}[v.Name]; len(logGroups) != want {
			t.Errorf("vault %s: %d log groups, want %d (rotator, flow log, three RDS exports, and orders' trail)", v.Name, len(logGroups), want)
		}
		for _, g := range logGroups {
			arn := "arn:aws:logs:" + awsfake.DefaultRegion + ":" + awsfake.DefaultAccount + ":log-group:" + g
			if !slices.Contains(admitted, arn) {
				t.Errorf("vault %s: its logs key does not admit its log group %s (admits %v)", v.Name, g, admitted)
			}
		}
	}
}

// A production environment keeps both vaults' data, as each layer's stack
// does: deletion protection and protect on the clusters, protect on the
// keys, the secrets and the trail's bucket.
func TestProductionClassKeepsBothVaults(t *testing.T) {
	res, err := mock.Run(Program, mock.RunOptions{Stack: "prd", Config: map[string]string{
		Project + ":environmentSuffix": "prd",
		Project + ":environmentClass":  kit.Production,
		Project + ":rotatorZip":        mock.RotatorZip(t),
	}})
	if err != nil {
		t.Fatalf("twovaults under mocks: %v", err)
	}
	for typ, want := range map[string]int{
		"aws:rds/cluster:Cluster":          2,
		"aws:kms/key:Key":                  2 * len(kms.Purposes),
		"aws:secretsmanager/secret:Secret": 2,
		"aws:s3/bucketV2:BucketV2":         1, // orders' trail's; billing uses that trail
	} {
		rs := res.ByType(typ)
		if len(rs) != want {
			t.Fatalf("%d of %s, want %d", len(rs), typ, want)
		}
		for _, r := range rs {
			if !r.Options.Protect {
				t.Errorf("%s %s is not protected", typ, r.Name)
			}
			if typ == "aws:rds/cluster:Cluster" && r.Input("deletionProtection") != true {
				t.Errorf("%s has no deletion protection", r.Name)
			}
		}
	}
}
